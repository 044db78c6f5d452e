// The HTTP API against the local stack: keys and scopes, validation, idempotent start, reads, cancel,
// resume, schedules, the rate limit and the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server';
import { ApiKeyStore, hashKey, type StoredApiKey } from '../../src/api/keys';
import { startHarness, waitFor, type TestHarness } from '../helpers/localStack';

const KEYS = {
  admin: 'ftflow_admin-test-key',
  reader: 'ftflow_reader-test-key',
  revoked: 'ftflow_revoked-test-key',
  limited: 'ftflow_limited-test-key',
};
const ALL = ['fine-tunes:read', 'fine-tunes:write', 'schedules:read', 'schedules:write'] as const;

function stored(
  id: keyof typeof KEYS,
  scopes: StoredApiKey['scopes'],
  extra: Partial<StoredApiKey> = {},
): StoredApiKey {
  return { id, hash: hashKey(KEYS[id]), scopes, revoked: false, ...extra };
}

describe('the HTTP API on the local stack', () => {
  let h: TestHarness;
  let app: FastifyInstance;
  let base: string;
  const stamp = Date.now();
  beforeAll(async () => {
    h = await startHarness();
    const keys = ApiKeyStore.fromKeys([
      stored('admin', [...ALL]),
      stored('reader', ['fine-tunes:read', 'schedules:read']),
      stored('revoked', [...ALL], { revoked: true }),
      stored('limited', ['fine-tunes:read'], { rateLimitPerMinute: 3 }),
    ]);
    app = await buildApi({ client: h.client, keys });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await h?.stop();
  });

  async function call(
    method: string,
    path: string,
    opts: { key?: keyof typeof KEYS | string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key !== undefined) headers.authorization = `Bearer ${KEYS[opts.key as keyof typeof KEYS] ?? opts.key}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any };
  }

  test('a missing or unknown key gets 401; a revoked key or one without the scope gets 403', async () => {
    const missing = await call('GET', '/v1/fine-tunes');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(missing.body.error).toMatchObject({ type: 'authentication_error' });
    expect((await call('GET', '/v1/fine-tunes', { key: 'ftflow_not-a-key' })).status).toBe(401);
    expect((await call('GET', '/v1/fine-tunes', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    const revoked = await call('GET', '/v1/fine-tunes', { key: 'revoked' });
    expect(revoked).toMatchObject({
      status: 403,
      body: { error: { type: 'permission_error', message: expect.stringMatching(/revoked/) } },
    });
    const unscoped = await call('POST', '/v1/fine-tunes', { key: 'reader', body: {} });
    expect(unscoped).toMatchObject({
      status: 403,
      body: { error: { message: expect.stringMatching(/lacks the scope fine-tunes:write/) } },
    });
    expect((await call('POST', '/v1/schedules', { key: 'reader', body: {} })).status).toBe(403);
    expect((await call('GET', '/v1/fine-tunes', { key: 'reader' })).status).toBe(200);
    expect((await call('GET', '/openapi.json')).status).toBe(200);
  });

  test('GET /v1/api-key names the calling key and its scopes, for any valid key, never the key itself', async () => {
    expect((await call('GET', '/v1/api-key', { key: 'reader' })).body).toEqual({
      object: 'api_key',
      id: 'reader',
      scopes: ['fine-tunes:read', 'schedules:read'],
    });
    expect((await call('GET', '/v1/api-key')).status).toBe(401);
    expect((await call('GET', '/v1/api-key', { key: 'ftflow_not-a-key' })).status).toBe(401);
    expect((await call('GET', '/v1/api-key', { key: 'revoked' })).status).toBe(403);
  });

  test('invalid input gets 400 naming each field', async () => {
    const spec = await call('POST', '/v1/fine-tunes', {
      key: 'admin',
      body: { dataset: { percent: 500 }, compute: { name: '1x' } },
    });
    expect(spec.status).toBe(400);
    expect(spec.body.error.type).toBe('invalid_request_error');
    expect(spec.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      'compute.name',
      'dataset.percent',
    ]);
    const header = await call('POST', '/v1/fine-tunes', {
      key: 'admin',
      body: {},
      headers: { 'idempotency-key': 'has space' },
    });
    expect(header).toMatchObject({ status: 400, body: { error: { fields: [{ field: 'header' }] } } });
    expect((await call('GET', '/v1/fine-tunes?status=sleeping', { key: 'admin' })).body.error.fields).toEqual([
      { field: 'query.status', message: expect.any(String) },
    ]);
    expect((await call('GET', '/v1/fine-tunes?limit=1000', { key: 'admin' })).body.error.fields[0].field).toBe(
      'query.limit',
    );
    expect((await call('POST', '/v1/fine-tunes', { key: 'admin', body: '{"dataset": ' })).status).toBe(400);
    const schedule = await call('POST', '/v1/schedules', {
      key: 'admin',
      body: { every: '7d', spec: { dataset: { percent: -1 } } },
    });
    expect(schedule.body.error.fields).toEqual([{ field: 'body.scheduleId', message: expect.any(String) }]);
    const scheduleSpec = await call('POST', '/v1/schedules', {
      key: 'admin',
      body: { scheduleId: `bad-${stamp}`, every: '7d', spec: { dataset: { percent: -1 } } },
    });
    expect(scheduleSpec.body.error.fields).toEqual([{ field: 'spec.dataset.percent', message: expect.any(String) }]);
    expect((await call('GET', '/v1/fine-tunes/ft-nope', { key: 'admin' })).status).toBe(404);
  });

  test('an Idempotency-Key gives one run; reads, cancel and resume work on it', async () => {
    const key = `api-${stamp}`;
    const spec = { dataset: { percent: 6.1 } };
    const first = await call('POST', '/v1/fine-tunes', {
      key: 'admin',
      body: spec,
      headers: { 'idempotency-key': key },
    });
    const second = await call('POST', '/v1/fine-tunes', {
      key: 'admin',
      body: spec,
      headers: { 'idempotency-key': key },
    });
    expect(first).toMatchObject({
      status: 201,
      body: { id: `ft-${key}`, object: 'fine_tune', created: true, source: 'api' },
    });
    expect(second).toMatchObject({ status: 200, body: { id: `ft-${key}`, created: false } });
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    // Without a key, a run of the same model, data and inputs that is running is returned, not doubled.
    const dup = await call('POST', '/v1/fine-tunes', { key: 'admin', body: spec });
    expect(dup).toMatchObject({ status: 200, body: { id: `ft-${key}`, deduplicated: true } });
    expect(
      (
        await call('POST', '/v1/fine-tunes', {
          key: 'admin',
          body: { dataset: { percent: 6.2 } },
          headers: { 'idempotency-key': key },
        })
      ).status,
    ).toBe(409);

    const id = first.body.id as string;
    expect((await call('GET', `/v1/fine-tunes/${id}`, { key: 'reader' })).body).toMatchObject({
      id,
      status: 'running',
      spec: { dataset: { percent: 6.1 } },
    });
    const listed = await waitFor('the run to be listed', async () => {
      const page = await call('GET', '/v1/fine-tunes?status=running&limit=100', { key: 'reader' });
      return page.body.data.some((r: { id: string }) => r.id === id) ? page : undefined;
    });
    expect(listed.body).toMatchObject({ object: 'list', nextPageToken: null });

    const cancelled = await call('POST', `/v1/fine-tunes/${id}/cancel?wait=60`, { key: 'admin' });
    expect(cancelled).toMatchObject({ status: 200, body: { cleanup: 'confirmed', status: 'cancelled' } });
    const events = await call('GET', `/v1/fine-tunes/${id}/events?limit=2`, { key: 'reader' });
    expect(events.body).toMatchObject({ object: 'list', hasMore: true, data: [{ type: 'run.started' }, {}] });
    const next = await call('GET', `/v1/fine-tunes/${id}/events?after=${events.body.lastId}&limit=500`, {
      key: 'reader',
    });
    expect(next.body.data[next.body.data.length - 1]).toMatchObject({ type: 'run.cancelled' });

    const resumed = await call('POST', `/v1/fine-tunes/${id}/resume`, { key: 'admin' });
    expect(resumed).toMatchObject({ status: 202, body: { runId: id, previousStatus: 'cancelled' } });
    expect((await call('POST', `/v1/fine-tunes/${id}/resume`, { key: 'admin' })).status).toBe(409);
    await h.client.result(id);
    expect((await call('GET', `/v1/fine-tunes/${id}`, { key: 'reader' })).body).toMatchObject({ status: 'succeeded' });
  });

  test('schedule routes: create, list, get, pause, unpause, delete', async () => {
    const scheduleId = `api-weekly-${stamp}`;
    const created = await call('POST', '/v1/schedules', {
      key: 'admin',
      body: { scheduleId, every: '7 days', spec: { dataset: { percent: 6.3 } }, pauseOnFailure: true },
    });
    expect(created).toMatchObject({
      status: 201,
      body: { scheduleId, overlap: 'skip', pauseOnFailure: true, catchupWindowSeconds: 600 },
    });
    expect((await call('POST', '/v1/schedules', { key: 'admin', body: { scheduleId, every: '7 days' } })).status).toBe(
      409,
    );
    expect(
      (await call('GET', '/v1/schedules', { key: 'reader' })).body.data.map(
        (s: { scheduleId: string }) => s.scheduleId,
      ),
    ).toContain(scheduleId);
    expect((await call('GET', `/v1/schedules/${scheduleId}`, { key: 'reader' })).body).toMatchObject({
      scheduleId,
      spec: { dataset: { percent: 6.3 } },
    });
    expect(
      (await call('POST', `/v1/schedules/${scheduleId}/pause`, { key: 'admin', body: { note: 'freeze' } })).body,
    ).toMatchObject({ paused: true, note: 'freeze' });
    expect((await call('POST', `/v1/schedules/${scheduleId}/unpause`, { key: 'admin' })).body).toMatchObject({
      paused: false,
    });
    expect((await call('DELETE', `/v1/schedules/${scheduleId}`, { key: 'admin' })).status).toBe(204);
    expect((await call('GET', `/v1/schedules/${scheduleId}`, { key: 'reader' })).status).toBe(404);
  });

  test('each key has its own rate limit: 429 with Retry-After past it', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await call('GET', '/v1/fine-tunes?limit=1', { key: 'limited' });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last?.body.error).toMatchObject({ type: 'rate_limit_error' });
    // Another key is not affected.
    expect((await call('GET', '/v1/fine-tunes?limit=1', { key: 'reader' })).status).toBe(200);
  });

  test('the OpenAPI document describes every route and the run spec', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/v1/api-key',
        '/v1/fine-tunes',
        '/v1/fine-tunes/{id}',
        '/v1/fine-tunes/{id}/cancel',
        '/v1/fine-tunes/{id}/events',
        '/v1/fine-tunes/{id}/keep-alive',
        '/v1/fine-tunes/{id}/result',
        '/v1/fine-tunes/{id}/metrics',
        '/v1/fine-tunes/{id}/logs',
        '/v1/fine-tunes/{id}/resume',
        '/v1/schedules',
        '/v1/schedules/{id}',
        '/v1/schedules/{id}/backfill',
        '/v1/schedules/{id}/pause',
        '/v1/schedules/{id}/trigger',
        '/v1/schedules/{id}/unpause',
        '/v1/janitor',
        '/v1/janitor/pause',
        '/v1/janitor/unpause',
        '/v1/janitor/trigger',
        '/v1/webhooks',
        '/v1/webhooks/{id}',
        '/v1/webhooks/{id}/rotate-secret',
      ].sort(),
    );
    // The run record: one schema for /result and the run's `result`.
    expect(doc.components.schemas.FineTuneResult.required).toEqual(
      expect.arrayContaining(['registeredModel', 'dataset', 'job', 'endpoint', 'smokeScore', 'warnings', 'notes']),
    );
    expect(doc.components.schemas.RunSpec.properties.dataset.properties.percent).toMatchObject({
      type: 'number',
      maximum: 100,
    });
    // Every route the server has is in the document.
    const routes = app.printRoutes({ commonPrefix: false });
    for (const path of Object.keys(doc.paths))
      expect(routes).toContain(
        path
          .replace(/\{id\}/, ':id')
          .split('/')
          .pop(),
      );
  });
});
