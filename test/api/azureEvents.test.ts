// The Event Grid receiver (/v1/azure/events): both validation handshakes, deliveries authenticated by the
// shared secret in the URL, job events handed to the relay, and the statuses that make Event Grid retry
// (503) or give up (400, 401).
import Fastify, { type FastifyInstance } from 'fastify';
import { sendError } from '../../src/api/errors';
import { openApiDocument } from '../../src/api/openapi';
import { eventGridSecretsFromEnv, registerAzureEventRoutes } from '../../src/api/routes/azureEvents';
import { requestLogFields } from '../../src/api/server';
import type { JobEvent } from '../../src/config/jobEvents';
import { RUN_TAG } from '../../src/azure/tags';

const SECRET = 'a'.repeat(40);
const URL_OK = `/v1/azure/events?secret=${SECRET}`;

let app: FastifyInstance;
let base: string;
let relayed: JobEvent[][];
let failNext = false;

beforeEach(async () => {
  relayed = [];
  failNext = false;
  app = Fastify();
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  registerAzureEventRoutes(app, {
    secrets: ['b'.repeat(32), SECRET],
    publish: async (events) => {
      if (failNext) throw new Error('temporal unreachable');
      relayed.push([...events]);
    },
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

interface Sent {
  statusCode: number;
  headers: Record<string, string>;
  json(): any;
}

/** One request to the test server (fastify's inject needs an ESM-only dependency jest cannot load). */
async function send(opts: {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: unknown;
}): Promise<Sent> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.payload !== undefined) {
    body = typeof opts.payload === 'string' ? opts.payload : JSON.stringify(opts.payload);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${opts.url}`, { method: opts.method, headers, body });
  const text = await res.text();
  return {
    statusCode: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    json: () => JSON.parse(text),
  };
}

afterEach(async () => {
  await app.close();
});

const runEvent = (runId: string, runStatus: string) => ({
  id: `${runId}-${runStatus}`,
  topic: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws',
  subject: `experiments/e1/runs/${runId}`,
  eventType: 'Microsoft.MachineLearningServices.RunStatusChanged',
  eventTime: '2026-12-06T08:00:00Z',
  data: { runId, runStatus, runTags: { [RUN_TAG]: 'ft-1' } },
  dataVersion: '2',
  metadataVersion: '1',
});

test('Event Grid schema: the validation event is answered with validationResponse', async () => {
  const res = await send({
    method: 'POST',
    url: URL_OK,
    headers: { 'aeg-event-type': 'SubscriptionValidation' },
    payload: [
      {
        id: 'v',
        topic: 't',
        subject: '',
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: '2026-12-06T08:00:00Z',
        data: { validationCode: 'code-123' },
        dataVersion: '1',
        metadataVersion: '1',
      },
    ],
  });
  expect([res.statusCode, res.json()]).toEqual([200, { validationResponse: 'code-123' }]);
  expect(relayed).toEqual([]);
});

test('CloudEvents: OPTIONS with WebHook-Request-Origin is allowed by echoing it', async () => {
  const res = await send({
    method: 'OPTIONS',
    url: URL_OK,
    headers: { 'webhook-request-origin': 'eventgrid.azure.net' },
  });
  expect(res.statusCode).toBe(200);
  expect(res.headers['webhook-allowed-origin']).toBe('eventgrid.azure.net');
  expect(res.headers['webhook-allowed-rate']).toBe('*');
  const noOrigin = await send({ method: 'OPTIONS', url: URL_OK });
  expect(noOrigin.statusCode).toBe(400);
});

test('a delivery without the secret, or with a wrong one, is refused with 401 and relays nothing', async () => {
  for (const url of ['/v1/azure/events', `/v1/azure/events?secret=${'c'.repeat(40)}`]) {
    const post = await send({ method: 'POST', url, payload: [runEvent('j1', 'Completed')] });
    const options = await send({ method: 'OPTIONS', url, headers: { 'webhook-request-origin': 'x' } });
    expect([post.statusCode, options.statusCode, options.headers['webhook-allowed-origin']]).toEqual([
      401,
      401,
      undefined,
    ]);
  }
  expect(relayed).toEqual([]);
});

test('job events in either schema are relayed; the answer says how many', async () => {
  const eg = await send({
    method: 'POST',
    url: URL_OK,
    headers: { 'aeg-event-type': 'Notification' },
    payload: [runEvent('j1', 'Completed'), runEvent('j2', 'Queued')],
  });
  expect([eg.statusCode, eg.json()]).toEqual([200, { relayed: 1, ignored: 1 }]);
  const e = runEvent('j3', 'Running');
  const ce = await send({
    method: 'POST',
    url: URL_OK,
    headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    payload: JSON.stringify({
      specversion: '1.0',
      id: e.id,
      source: e.topic,
      type: e.eventType,
      subject: e.subject,
      data: e.data,
    }),
  });
  expect(ce.statusCode).toBe(200);
  expect(relayed).toEqual([[{ jobName: 'j1', status: 'Completed' }], [{ jobName: 'j3', status: 'Running' }]]);
});

test('a delivery that cannot be relayed gets 503 (Event Grid delivers it again); a malformed one 400', async () => {
  failNext = true;
  const res = await send({ method: 'POST', url: URL_OK, payload: [runEvent('j1', 'Completed')] });
  expect(res.statusCode).toBe(503);
  const bad = await send({ method: 'POST', url: URL_OK, payload: [{ hello: 'world' }] });
  expect(bad.statusCode).toBe(400);
  expect(bad.json().error.message).toMatch(/not an Event Grid delivery in the Event Grid schema/);
});

test('the secret never reaches the access log (the log records the path without the query)', () => {
  const fields = requestLogFields({ method: 'POST', url: URL_OK, host: 'h', ip: '1.2.3.4', socket: {} } as never);
  expect(JSON.stringify(fields)).not.toContain(SECRET);
});

test('FTFLOW_EVENT_GRID_SECRET: unset means no receiver; a weak secret names the variable and the fix', () => {
  expect(eventGridSecretsFromEnv({})).toBeUndefined();
  expect(eventGridSecretsFromEnv({ FTFLOW_EVENT_GRID_SECRET: ` ${SECRET} , ${'d'.repeat(32)}` })).toEqual([
    SECRET,
    'd'.repeat(32),
  ]);
  expect(() => eventGridSecretsFromEnv({ FTFLOW_EVENT_GRID_SECRET: 'short' })).toThrow(
    /FTFLOW_EVENT_GRID_SECRET must be .*at least 32 .*openssl rand -hex 32/,
  );
});

test('the OpenAPI document lists the receiver only when the API has one', () => {
  const paths = (on: boolean) => Object.keys((openApiDocument({ azureEvents: on }) as { paths: object }).paths);
  expect(paths(true)).toContain('/v1/azure/events');
  expect(paths(false)).not.toContain('/v1/azure/events');
});
