// Webhooks end to end on the local stack, to a real HTTPS receiver on loopback (the stack's certificate): a
// run started through the HTTP API notifies its key's registered endpoints and its spec's own endpoint; every
// delivery verifies with the exported helper (finetune-flow/webhooks) and with the Standard Webhooks library;
// a receiver's 500s are retried with the same webhook-id on the backoff schedule, each attempt a run event; a
// rotated secret signs beside the new one during the overlap; private addresses are refused when registered
// and, by a worker whose policy refuses them, when delivered; no secret is in any history.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { resolveTemporalCli } from '../../devstack/stack/paths';
import { Webhook } from 'standardwebhooks';
import { ApiKeyStore, hashKey, API_SCOPES } from '../../src/api/keys';
import { buildApi } from '../../src/api/server';
import { createDeps } from '../../src/activities';
import { makeDeliverWebhook } from '../../src/activities/webhooks';
import { loadAzureConfig } from '../../src/azure/config';
import { webhookEventsFromHistory } from '../../src/control/webhookEvents';
import type { WebhookNotificationInput, WebhookNotificationReport } from '../../src/webhooks/events';
import { registryWorkflowId } from '../../src/webhooks/registry';
import { loadWebhookSettings } from '../../src/webhooks/settings';
import { webhookUrlPolicy } from '../../src/webhooks/urlPolicy';
import { verifyWebhook } from '../../src/webhooks/verify';
import { ftflow } from '../helpers/frontEnds';
import { FAST_TUNING, startHarness, temporalAddress, type TestHarness } from '../helpers/localStack';
import { startWebhookReceiver, typeOf, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhookReceiver';

const OWNER = 'hooks-test';
const KEY = 'ftflow_hooks-test-key';
const stamp = Date.now();

/**
 * With FTFLOW_RECORD_HISTORIES=test/fixtures/histories, writes a workflow's history as the Temporal CLI shows it,
 * for the replay test (test/fixtures/histories/README.md).
 */
function record(workflowId: string, name: string): void {
  const to = process.env.FTFLOW_RECORD_HISTORIES;
  if (!to) return;
  const json = execFileSync(
    resolveTemporalCli(),
    ['workflow', 'show', '-w', workflowId, '--address', temporalAddress(), '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  fs.writeFileSync(path.join(to, `fixture-${name}.json`), json);
}

describe('webhooks on the local stack, to a real HTTPS receiver', () => {
  let h: TestHarness;
  let strict: TestHarness;
  let app: FastifyInstance;
  let receiver: WebhookReceiver;
  const secrets: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // Retries 1 s, 3 s, 9 s ... apart, so a test sees them.
    h = await startHarness({}, { FTFLOW_WEBHOOK_FIRST_RETRY_SECONDS: '1' });
    app = await buildApi({
      client: h.client,
      keys: ApiKeyStore.fromKeys([{ id: OWNER, hash: hashKey(KEY), scopes: [...API_SCOPES], revoked: false }]),
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    // A worker whose policy is production's (no loopback): what a delivery meets after DNS changed under it.
    const env = { ...process.env, ...FAST_TUNING };
    const strictDeps = createDeps(loadAzureConfig(env), env, undefined, {
      temporal: h.temporal,
      webhooks: { ...loadWebhookSettings(env), policy: webhookUrlPolicy(false, '') },
    });
    strict = await startHarness({ deliverWebhook: makeDeliverWebhook(strictDeps) });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await strict?.stop();
    await h?.stop();
    await receiver?.close();
  });

  let base = '';
  const call = async (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${KEY}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const raw = await res.text();
    return { status: res.status, body: raw ? (JSON.parse(raw) as any) : undefined, raw };
  };

  const verifyAll = (requests: ReceivedWebhook[], secret: string, runId: string) => {
    for (const r of requests) {
      const verified = verifyWebhook(secret, r.headers, r.body);
      expect(verified.payload.data.runId).toBe(runId);
      expect(verified.id).toBe(r.headers['webhook-id']);
      // The Standard Webhooks project's own check agrees.
      expect(new Webhook(secret).verify(r.body, r.headers)).toEqual(JSON.parse(r.body));
    }
  };

  test("a run notifies its key's endpoints and its own, signed; 500s are retried with the same webhook-id", async () => {
    for (const [name, events] of [
      ['ok', undefined],
      ['flaky', ['run.started', 'run.succeeded']],
    ] as const) {
      const res = await call('POST', '/v1/webhooks', {
        url: receiver.url(`/${name}`),
        ...(events ? { events } : {}),
        description: `the ${name} receiver`,
      });
      expect(res.status).toBe(201);
      expect(res.body.secret).toMatch(/^whsec_/);
      secrets[name] = res.body.secret;
      ids[name] = res.body.id;
    }
    const listed = await call('GET', '/v1/webhooks');
    expect(listed.body.data.map((e: { id: string }) => e.id)).toEqual([ids.ok, ids.flaky]);
    expect(listed.raw).not.toContain('whsec_');
    expect(listed.body.data[0].events).toEqual([
      'run.started',
      'run.succeeded',
      'run.failed',
      'run.cancelled',
      'run.quality_gate_failed',
      'endpoint.ready',
      'endpoint.deleted',
    ]);

    // The flaky receiver answers 500 to the first two attempts of every message.
    receiver.answer = (r, before) => (r.path === '/flaky' && before < 2 ? 500 : 200);
    const started = await call(
      'POST',
      '/v1/fine-tunes',
      {
        dataset: { percent: 3 },
        notifications: {
          webhooks: [{ url: receiver.url('/spec'), events: ['run.started', 'run.step.completed', 'run.succeeded'] }],
        },
      },
      { 'idempotency-key': `hooks-${stamp}` },
    );
    expect(started.status).toBe(201);
    const runId: string = started.body.id;
    const specSecret: string = started.body.webhookSecrets[0].secret;
    const again = await call('POST', '/v1/fine-tunes', started.body.spec, { 'idempotency-key': `hooks-${stamp}` });
    expect(again.status).toBe(200);
    expect(again.body.webhookSecrets).toBeUndefined();

    await h.client.result(runId);
    const closedAt = (await h.client.summary(runId)).finishedAt!;
    const attemptsAt = (path: string, r: ReceivedWebhook) =>
      receiver.at(path).filter((x) => x.headers['webhook-id'] === r.headers['webhook-id']).length;
    // /flaky: the third attempt (the first two were answered 500).
    const succeeded = (path: string, attempts: number) =>
      receiver.waitFor(
        `run.succeeded at ${path} (attempt ${attempts})`,
        (r) => r.path === path && typeOf(r) === 'run.succeeded' && attemptsAt(path, r) >= attempts,
      );
    const [ok, , spec] = await Promise.all([succeeded('/ok', 1), succeeded('/flaky', 3), succeeded('/spec', 1)]);
    process.stdout.write(
      `webhooks: run.succeeded received ${ok.at - Date.parse(closedAt)} ms (/ok) and ${spec.at - Date.parse(closedAt)} ms (/spec) after the run closed\n`,
    );
    expect(ok.at - Date.parse(closedAt)).toBeLessThan(10_000);

    // Signed, verifiable, each with its endpoint's secret.
    verifyAll(receiver.at('/ok'), secrets.ok, runId);
    verifyAll(receiver.at('/flaky'), secrets.flaky, runId);
    verifyAll(receiver.at('/spec'), specSecret, runId);
    expect(() => verifyWebhook(secrets.flaky, ok.headers, ok.body)).toThrow(/no signature matches/);

    // Who heard what: the default set (no step events), the two named events, and the spec's list.
    await receiver.waitFor('endpoint.deleted at /ok', (r) => r.path === '/ok' && typeOf(r) === 'endpoint.deleted');
    expect(new Set(receiver.at('/ok').map(typeOf))).toEqual(
      new Set(['run.started', 'endpoint.deleted', 'run.succeeded']),
    );
    const specTypes = receiver.at('/spec').map(typeOf);
    expect(specTypes.filter((t) => t === 'run.step.completed')).toHaveLength(11);
    const steps = receiver
      .at('/spec')
      .filter((r) => typeOf(r) === 'run.step.completed')
      .map((r) => JSON.parse(r.body).data.step);
    expect(new Set(steps).size).toBe(11);

    // The flaky receiver: three attempts per message, one webhook-id, waits of about 1 s then 3 s (±10%).
    const flaky = receiver.at('/flaky').filter((r) => typeOf(r) === 'run.started');
    expect(flaky).toHaveLength(3);
    expect(new Set(flaky.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const gaps = [flaky[1]!.at - flaky[0]!.at, flaky[2]!.at - flaky[1]!.at];
    process.stdout.write(`webhooks: retry gaps after 500s ${gaps.join(' ms, ')} ms (schedule: 1 s, 3 s, ±10%)\n`);
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[0]).toBeLessThan(5000);
    expect(gaps[1]).toBeGreaterThanOrEqual(2700);
    expect(gaps[1]).toBeLessThan(9000);

    // Every attempt is an event of the run, with its status and duration; no receiver's body anywhere.
    await new Promise((r) => setTimeout(r, 1500));
    const events = await call('GET', `/v1/fine-tunes/${runId}/events?limit=500`);
    const hooks = events.body.data.filter((e: { type: string }) => e.type.startsWith('webhook.'));
    const failed = hooks.filter((e: { type: string }) => e.type === 'webhook.failed');
    expect(failed.length).toBeGreaterThanOrEqual(4);
    expect(failed[0].data).toMatchObject({ endpoint: ids.flaky, status: 500, attempt: 1 });
    const delivered = hooks.filter((e: { type: string }) => e.type === 'webhook.delivered');
    expect(delivered.length).toBeGreaterThanOrEqual(receiver.at('/ok').length + 13);
    expect(delivered.find((e: { data: { endpoint: string } }) => e.data.endpoint === ids.flaky).data.attempt).toBe(3);
    expect(events.raw).not.toContain('receiver says hello');

    const executionId = (await h.client.summary(runId)).executionId;
    record(runId, 'webhooks-run');
    record(`ftwh-${runId}-${executionId}-1`, 'webhooks-notification-retried');

    // No secret in any history: the run's, the registry's, the notifications'.
    const histories = [
      await h.temporal.workflow.getHandle(runId).fetchHistory(),
      await h.temporal.workflow.getHandle(registryWorkflowId(OWNER)).fetchHistory(),
    ];
    for await (const w of h.temporal.workflow.list({ query: `WorkflowType = 'webhookNotification'` }))
      if (w.workflowId.startsWith(`ftwh-${runId}-`))
        histories.push(await h.temporal.workflow.getHandle(w.workflowId).fetchHistory());
    expect(histories.length).toBeGreaterThan(10);
    const text = JSON.stringify(histories, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v,
    );
    for (const secret of [secrets.ok, secrets.flaky, specSecret]) {
      expect(text).not.toContain(secret.slice(6));
      expect(text).not.toContain(Buffer.from(secret.slice(6), 'base64').toString('hex'));
    }
  }, 240_000);

  /** Sends one event to the owner's endpoints through the notification workflow, as a run does. */
  async function notify(
    harness: TestHarness,
    owner: string,
    tag: string,
    runWebhooks: WebhookNotificationInput['runWebhooks'] = [],
  ) {
    const input: WebhookNotificationInput = {
      runId: `ft-${tag}`,
      executionId: `exec-${tag}`,
      messageId: `msg_${tag}`,
      type: 'run.succeeded',
      body: JSON.stringify({
        type: 'run.succeeded',
        timestamp: new Date().toISOString(),
        data: { runId: `ft-${tag}` },
      }),
      owner,
      runWebhooks,
    };
    const handle = await harness.temporal.workflow.start('webhookNotification', {
      taskQueue: harness.taskQueue,
      workflowId: `ftwh-test-${tag}`,
      args: [input],
    });
    return { report: (await handle.result()) as WebhookNotificationReport, handle };
  }

  test('rotation: during the overlap both secrets sign (space-separated); after it only the new one', async () => {
    expect(ids.ok).toBeDefined();
    receiver.answer = () => 200;
    const rotated = await call('POST', `/v1/webhooks/${ids.ok}/rotate-secret`, { overlapSeconds: 3600 });
    expect(rotated.status).toBe(200);
    const next: string = rotated.body.secret;
    expect(next).not.toBe(secrets.ok);
    expect(rotated.body.previousSecretExpiresAt).toBeDefined();

    const tag = `rot1-${stamp}`;
    expect((await notify(h, OWNER, tag)).report.targets.map((t) => t.outcome)).toEqual(['delivered', 'delivered']);
    const [during] = receiver.at('/ok').filter((r) => r.headers['webhook-id'] === `msg_${tag}`);
    expect(during!.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifyWebhook(secrets.ok!, during!.headers, during!.body).id).toBe(`msg_${tag}`);
    expect(verifyWebhook(next, during!.headers, during!.body).id).toBe(`msg_${tag}`);

    // Overlap 0: the previous secret stops signing at once.
    const last = (await call('POST', `/v1/webhooks/${ids.ok}/rotate-secret`, { overlapSeconds: 0 })).body
      .secret as string;
    const tag2 = `rot2-${stamp}`;
    await notify(h, OWNER, tag2);
    const [after] = receiver.at('/ok').filter((r) => r.headers['webhook-id'] === `msg_${tag2}`);
    expect(after!.headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(verifyWebhook(last, after!.headers, after!.body).id).toBe(`msg_${tag2}`);
    expect(() => verifyWebhook([secrets.ok!, next], after!.headers, after!.body)).toThrow(/no signature matches/);
  }, 60_000);

  test('private addresses are refused when registered, and when delivered by a worker that refuses them', async () => {
    for (const url of [
      'https://10.1.2.3/hook',
      'https://169.254.169.254/latest',
      'https://[fd00::5]/x',
      'https://192.168.0.9/x',
    ]) {
      const res = await call('POST', '/v1/webhooks', { url });
      expect([url, res.status]).toEqual([url, 400]);
      expect(res.body.error.fields[0].field).toBe('url');
      expect(res.body.error.fields[0].message).toMatch(
        /(private network|link-local|cloud metadata).*FTFLOW_WEBHOOK_ALLOW_PRIVATE/,
      );
    }
    expect(
      (await call('POST', '/v1/webhooks', { url: 'http://93.184.216.34/x' })).body.error.fields[0].message,
    ).toMatch(/must be https/);
    const spec = await call('POST', '/v1/fine-tunes', {
      notifications: { webhooks: [{ url: 'https://172.20.0.1/x' }] },
    });
    expect(spec.status).toBe(400);
    expect(spec.body.error.fields[0].field).toBe('notifications.webhooks.0.url');

    // Registered while loopback was allowed (local mode); delivered by a worker whose policy refuses it.
    const before = receiver.at('/ok').length;
    const tag = `strict-${stamp}`;
    const { report, handle } = await notify(strict, OWNER, tag);
    expect(report.targets.map((t) => t.outcome)).toEqual(['refused', 'refused']);
    expect(receiver.at('/ok').length).toBe(before);
    const events = webhookEventsFromHistory(
      await handle.fetchHistory(),
      h.temporal.options.loadedDataConverter.payloadConverter,
    );
    expect(events.map((e) => e.type)).toEqual(['webhook.refused', 'webhook.refused']);
    expect(events[0]!.message).toMatch(/refused: url's host 127\.0\.0\.1 is a loopback address/);
  }, 60_000);

  test('ftflow webhooks add|list|show|rotate-secret|remove manage the same registry; a secret is printed once', async () => {
    const owner = ['--owner', 'cli-owner'];
    const cli = (args: string[]) => ftflow(args, h.taskQueue);
    const added = await cli([
      'webhooks',
      'add',
      receiver.url('/cli'),
      ...owner,
      '--events',
      'run.succeeded,run.failed',
      '--json',
    ]);
    expect([added.code, added.stderr]).toEqual([0, '']);
    const endpoint = JSON.parse(added.stdout) as { id: string; secret: string; events: string[] };
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect(endpoint.events).toEqual(['run.succeeded', 'run.failed']);
    const listed = await cli(['webhooks', 'list', ...owner]);
    expect(listed.stdout).toContain(endpoint.id);
    expect(listed.stdout).not.toContain('whsec_');
    const shown = await cli(['webhooks', 'show', endpoint.id, ...owner]);
    expect(shown.stdout).toContain('run.succeeded, run.failed');
    const rotated = await cli(['webhooks', 'rotate-secret', endpoint.id, ...owner, '--overlap', '1h']);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/secret +whsec_\S+ +\(shown only now/);
    expect(rotated.stdout).toMatch(/previous secret signs too until/);
    // Another key's endpoints are not this owner's.
    expect((await cli(['webhooks', 'remove', endpoint.id, '--owner', 'someone-else'])).code).toBe(5);
    const refused = await cli(['webhooks', 'add', 'https://10.9.8.7/x', ...owner]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/url: .*private network address.*FTFLOW_WEBHOOK_ALLOW_PRIVATE/);
    expect((await cli(['webhooks', 'remove', endpoint.id, ...owner])).code).toBe(0);
    expect((await cli(['webhooks', 'list', ...owner, '--json'])).stdout).toContain('"data": []');
  }, 60_000);

  test('remove: gone from the list, and a removed endpoint is skipped', async () => {
    expect((await call('DELETE', `/v1/webhooks/${ids.flaky}`)).status).toBe(204);
    expect((await call('GET', `/v1/webhooks/${ids.flaky}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/webhooks/${ids.flaky}`)).status).toBe(404);
    expect((await call('GET', '/v1/webhooks')).body.data.map((e: { id: string }) => e.id)).toEqual([ids.ok]);
    record(registryWorkflowId(OWNER), 'webhooks-registry');
  });
});
