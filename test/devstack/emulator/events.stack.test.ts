// The emulator's Event Grid: a webhook subscription is created only after its endpoint passes the
// validation handshake of its schema (the validation event, or CloudEvents' OPTIONS); each job status
// change is delivered as RunStatusChanged (plus RunCompleted at the end); a failed delivery is retried on
// Azure's schedule (scaled down here), a 401 is not; seeded duplicates and late deliveries happen.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { RUN_TAG } from '../../../src/azure/tags';
import { admin, armToken, call, createCluster, jobEnded, startTestEmulator, submitTaggedJob } from './helpers';

interface Received {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** A webhook receiver whose answers the test chooses. */
/** An Event Grid schema endpoint: answers the validation handshake with its code, takes every other delivery. */
function answerHandshake(r: Received): { status: number; body?: unknown } {
  const [event] = r.body as { eventType: string; data: { validationCode?: string } }[];
  return event?.eventType === 'Microsoft.EventGrid.SubscriptionValidationEvent'
    ? { status: 200, body: { validationResponse: event.data.validationCode } }
    : { status: 200 };
}

async function receiver(answer: (r: Received) => { status: number; headers?: Record<string, string>; body?: unknown }) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined };
      got.push(r);
      const a = answer(r);
      res.writeHead(a.status, { 'content-type': 'application/json', ...(a.headers ?? {}) });
      res.end(a.body !== undefined ? JSON.stringify(a.body) : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { got, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const subscription = (endpointUrl: string, schema: string) => ({
  properties: {
    destination: { endpointType: 'WebHook', properties: { endpointUrl } },
    eventDeliverySchema: schema,
  },
});

let emulator: RunningEmulator;
let token: string;

beforeAll(async () => {
  // Jobs end 1 s after they are created (five phases of 200 ms); retries come 1/1000 of Azure's delays.
  emulator = await startTestEmulator({
    clock: { jobPhaseMs: 200, provisionMs: 20, deleteMs: 20, cancelMs: 20 },
    events: { duplicateRate: 0, reorderRate: 0, loseRate: 0, retryScale: 0.001, seed: 3 },
  });
  token = await armToken(emulator);
  await createCluster(emulator, token, 'gpu');
  await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  await emulator?.close();
});

const submit = (name: string): Promise<void> => submitTaggedJob(emulator, token, name);

const waitUntil = async (ok: () => boolean, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('Event Grid schema: the validation event first, then every status change of a job in order', async () => {
  const hook = await receiver(answerHandshake);
  try {
    await admin(emulator, 'event-subscriptions/eg', { method: 'PUT', body: subscription(hook.url, 'EventGridSchema') });
    expect(hook.got[0]?.headers['aeg-event-type']).toBe('SubscriptionValidation');
    await submit('eg-job');
    await jobEnded(emulator, 'eg-job');
    const isMine = (r: Received) => (r.body as { data?: { runId?: string } }[])[0]?.data?.runId === 'eg-job';
    await waitUntil(() => hook.got.filter(isMine).length >= 7);
    const events = hook.got.filter(isMine).map((r) => (r.body as Record<string, unknown>[])[0] ?? {});
    expect(
      events.map((e) => `${String(e['eventType']).split('.').pop()}:${(e['data'] as { runStatus: string }).runStatus}`),
    ).toEqual([
      'RunStatusChanged:NotStarted',
      'RunStatusChanged:Queued',
      'RunStatusChanged:Preparing',
      'RunStatusChanged:Running',
      'RunStatusChanged:Finalizing',
      'RunStatusChanged:Completed',
      'RunCompleted:Completed',
    ]);
    expect(events[0]).toMatchObject({
      subject: expect.stringMatching(/^experiments\/[^/]+\/runs\/eg-job$/),
      dataVersion: '2',
      metadataVersion: '1',
      data: { runTags: { [RUN_TAG]: 'run-eg-job' } },
    });
  } finally {
    await admin(emulator, 'event-subscriptions/eg', { method: 'DELETE' });
    await hook.close();
  }
});

test('a subscription whose endpoint fails the handshake is refused', async () => {
  const hook = await receiver(() => ({ status: 200, body: { validationResponse: 'wrong' } }));
  try {
    const res = await call(emulator, '/_emulator/event-subscriptions/bad', {
      method: 'PUT',
      body: subscription(hook.url, 'EventGridSchema'),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Webhook validation handshake failed');
  } finally {
    await hook.close();
  }
});

test('CloudEvents: OPTIONS handshake, then one event per request; 5xx is retried on the schedule, 401 is not', async () => {
  let failuresLeft = 2;
  const hook = await receiver((r) => {
    if (r.method === 'OPTIONS')
      return { status: 200, headers: { 'webhook-allowed-origin': String(r.headers['webhook-request-origin']) } };
    const e = r.body as { data: { runId: string; runStatus: string } };
    if (e.data.runId === 'ce-refused') return { status: 401 };
    if (e.data.runStatus === 'Completed' && failuresLeft > 0) {
      failuresLeft -= 1;
      return { status: 503 };
    }
    return { status: 200 };
  });
  try {
    await admin(emulator, 'event-subscriptions/ce', {
      method: 'PUT',
      body: {
        properties: {
          ...subscription(hook.url, 'CloudEventSchemaV1_0').properties,
          filter: { includedEventTypes: ['Microsoft.MachineLearningServices.RunStatusChanged'] },
        },
      },
    });
    expect(hook.got[0]).toMatchObject({
      method: 'OPTIONS',
      headers: { 'webhook-request-origin': 'eventgrid.azure.net' },
    });
    await submit('ce-job');
    await submit('ce-refused');
    await jobEnded(emulator, 'ce-job');
    const completed = () =>
      hook.got.filter((r) => {
        const b = r.body as { type?: string; data?: { runId?: string; runStatus?: string } } | undefined;
        return b?.data?.runId === 'ce-job' && b.data.runStatus === 'Completed';
      });
    // Two 503s, then delivered: three attempts, the retries 10 s and 30 s apart at 1/1000 scale.
    await waitUntil(() => completed().length >= 3);
    expect(completed()[0]?.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    expect(completed().map((r) => r.headers['aeg-delivery-count'])).toEqual(['0', '1', '2']);
    const [sub] = (
      await admin<{ value: { name: string; counts: Record<string, number> }[] }>(emulator, 'event-subscriptions')
    ).value.filter((s) => s.name === 'ce');
    await jobEnded(emulator, 'ce-refused');
    await waitUntil(() =>
      hook.got.some((r) => (r.body as { data?: { runId?: string } })?.data?.runId === 'ce-refused'),
    );
    expect(sub?.counts['retried']).toBeGreaterThanOrEqual(2);
    // Every refused event was given up at once: one request each, no retry.
    const refused = hook.got.filter((r) => (r.body as { data?: { runId?: string } })?.data?.runId === 'ce-refused');
    const ids = refused.map((r) => (r.body as { id: string }).id);
    expect(new Set(ids).size).toBe(ids.length);
  } finally {
    await admin(emulator, 'event-subscriptions/ce', { method: 'DELETE' });
    await hook.close();
  }
});

test('seeded imperfections: every event twice with duplicateRate 1, late ones arrive after later ones', async () => {
  await admin(emulator, 'event-settings', { method: 'PUT', body: { duplicateRate: 1, reorderRate: 0.5, seed: 11 } });
  const hook = await receiver(answerHandshake);
  try {
    await admin(emulator, 'event-subscriptions/dup', {
      method: 'PUT',
      body: subscription(hook.url, 'EventGridSchema'),
    });
    await submit('dup-job');
    await jobEnded(emulator, 'dup-job');
    const mine = () =>
      hook.got
        .map((r) => (r.body as { id: string; eventType: string; data: { runId?: string; runStatus: string } }[])[0])
        .filter((e) => e?.data.runId === 'dup-job');
    await new Promise((r) => setTimeout(r, 4000));
    const events = mine();
    // 7 events, each twice.
    expect(events).toHaveLength(14);
    expect(new Set(events.map((e) => e?.id)).size).toBe(7);
    const [sub] = (
      await admin<{ value: { name: string; counts: Record<string, number> }[] }>(emulator, 'event-subscriptions')
    ).value.filter((s) => s.name === 'dup');
    expect(sub?.counts).toMatchObject({ duplicated: 7 });
    expect(sub?.counts['reordered']).toBeGreaterThan(0);
  } finally {
    await admin(emulator, 'event-settings', { method: 'PUT', body: { duplicateRate: 0, reorderRate: 0 } });
    await admin(emulator, 'event-subscriptions/dup', { method: 'DELETE' });
    await hook.close();
  }
});
