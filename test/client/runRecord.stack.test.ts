// Issue 17, item 3, on the local stack: a real run kept alive after its smoke test; its endpoint's time
// extended through the CLI and the API and ended through the CLI; then its record through the client
// (result() and get()), the API (/result and the run) and the CLI (`ftflow result --json`) is one and
// the same object, with the registered model's integer version, the datasets' URIs, sha256 and rows, the
// job and studio link, the scoring URI, the served time, the smoke reply, and warnings apart from notes.
// A second run registers the same model's next integer version; each run registered exactly one.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server';
import { ApiKeyStore, hashKey } from '../../src/api/keys';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import type { RunResult } from '../../src/control/runResult';
import { emulator, startHarness, waitFor, type TestHarness } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 3 };
const KEYS = { reader: 'ftflow_record-reader-key', writer: 'ftflow_record-writer-key' };
const tag = randomUUID().slice(0, 8);

let h: TestHarness;
let app: FastifyInstance;
let base = '';

beforeAll(async () => {
  h = await startHarness();
  app = await buildApi({
    client: h.client,
    keys: ApiKeyStore.fromKeys([
      { id: 'reader', hash: hashKey(KEYS.reader), scopes: ['fine-tunes:read'], revoked: false },
      { id: 'writer', hash: hashKey(KEYS.writer), scopes: ['fine-tunes:read', 'fine-tunes:write'], revoked: false },
    ]),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await h?.stop();
});

async function api(method: string, path: string, key: keyof typeof KEYS, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${KEYS[key]}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = (json: boolean): CliIO => ({
    out: (l) => (out += l + '\n'),
    err: (l) => (err += l + '\n'),
    write: (t) => (out += t),
    isTTY: false,
    json,
    columns: 120,
  });
  const code = await runCli(['node', 'ftflow', ...args], {
    io,
    env: { ...process.env, FTFLOW_TASK_QUEUE: h.taskQueue },
  });
  return { code, out, err };
}

test('keep-alive through the CLI and the API; then one record from the client, the API and the CLI', async () => {
  const kept = await h.client.start(
    { deployment: { keepAliveMinutes: 30 } },
    { idempotencyKey: `record-kept-${tag}`, options: QUICK },
  );
  const other = await h.client.start({}, { idempotencyKey: `record-other-${tag}`, options: QUICK });

  // Before it serves: no result yet, and nothing to keep alive.
  expect(await api('GET', `/v1/fine-tunes/${kept.runId}/result`, 'reader')).toMatchObject({
    status: 409,
    body: { error: { type: 'conflict_error', message: expect.stringMatching(/is still running/) } },
  });
  expect(await cli('result', kept.runId)).toMatchObject({ code: 6 });

  const first = await waitFor(
    'the endpoint to be kept alive',
    async () => (await h.client.progress(kept.runId)).endpointExpiresAt,
    180_000,
  );

  // The CLI extends it by 2 hours, the API by 30 minutes more.
  const extended = await cli('keep-alive', kept.runId, '--extend', '2h', '--json');
  expect(extended.code).toBe(0);
  const byCli = JSON.parse(extended.out) as { expiresAt: string; endpointName: string };
  expect(Date.parse(byCli.expiresAt) - Date.parse(first)).toBe(120 * 60_000);
  expect(byCli.endpointName).toBe(kept.names.endpointName);
  const byApi = await api('POST', `/v1/fine-tunes/${kept.runId}/keep-alive`, 'writer', { extendMinutes: 30 });
  expect(byApi.status).toBe(200);
  expect(Date.parse(String(byApi.body.expiresAt)) - Date.parse(first)).toBe(150 * 60_000);
  expect((await h.client.progress(kept.runId)).endpointExpiresAt).toBe(byApi.body.expiresAt);

  // Bad requests name the field; the read scope cannot change it.
  expect(await api('POST', `/v1/fine-tunes/${kept.runId}/keep-alive`, 'writer', {})).toMatchObject({
    status: 400,
    body: { error: { fields: [{ field: 'extendMinutes' }] } },
  });
  expect(
    await api('POST', `/v1/fine-tunes/${kept.runId}/keep-alive`, 'writer', { extendMinutes: 5, end: true }),
  ).toMatchObject({ status: 400 });
  expect(
    await api('POST', `/v1/fine-tunes/${kept.runId}/keep-alive`, 'writer', { extendMinutes: 'soon' }),
  ).toMatchObject({ status: 400, body: { error: { fields: [{ field: 'body.extendMinutes' }] } } });
  expect((await api('POST', `/v1/fine-tunes/${kept.runId}/keep-alive`, 'reader', { end: true })).status).toBe(403);
  const neither = await cli('keep-alive', kept.runId);
  expect(neither.code).toBe(2);
  expect(neither.err).toMatch(/--extend/);

  // The CLI ends it: the endpoint is deleted and the run ends.
  const ended = await cli('keep-alive', kept.runId, '--end');
  expect(ended).toMatchObject({ code: 0, out: expect.stringMatching(/is being deleted now/) });
  const viaClient = await h.client.result(kept.runId);
  await h.client.result(other.runId);

  // Once ended there is nothing to keep alive: a conflict, exit 6.
  expect((await api('POST', `/v1/fine-tunes/${kept.runId}/keep-alive`, 'writer', { end: true })).status).toBe(409);
  expect((await cli('keep-alive', kept.runId, '--extend', '1h')).code).toBe(6);

  // One record everywhere.
  const viaGet = (await h.client.get(kept.runId)).result;
  const viaApi = await api('GET', `/v1/fine-tunes/${kept.runId}/result`, 'reader');
  const viaApiRun = await api('GET', `/v1/fine-tunes/${kept.runId}`, 'reader');
  const viaCli = await cli('result', kept.runId, '--json');
  expect(viaApi.status).toBe(200);
  expect(viaCli.code).toBe(0);
  const record: RunResult = JSON.parse(JSON.stringify(viaClient)) as RunResult;
  expect(viaGet).toEqual(viaClient);
  expect(viaApi.body).toEqual(record);
  expect(viaApiRun.body.result).toEqual(record);
  expect(JSON.parse(viaCli.out)).toEqual(record);

  // What the record holds.
  expect(record).toMatchObject({
    id: kept.runId,
    object: 'fine_tune.result',
    status: 'succeeded',
    registeredModel: { name: 'Phi-3-mini-4k-instruct-ultrachat-200k', version: expect.stringMatching(/^[1-9]\d*$/) },
    job: { name: kept.names.jobName, status: 'Completed', studioUrl: expect.stringMatching(/^https:\/\//) },
    endpoint: {
      name: kept.names.endpointName,
      scoringUri: expect.stringMatching(/^https:\/\/.*\/score$/),
      deleted: true,
    },
    dataset: { source: 'HuggingFaceH4/ultrachat_200k' },
  });
  for (const split of [record.dataset.train, record.dataset.test, record.dataset.scoring]) {
    expect(split.uri).toMatch(/^azureml:\/\/datastores\/[^/]+\/paths\/.+\.jsonl$/);
    expect(split.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(split.rows).toBeGreaterThan(0);
  }
  expect(record.endpoint.servedSeconds).toBeGreaterThan(0);
  expect(record.smokeScore.reply.length).toBeGreaterThan(0);
  expect(record.notes.join('\n')).toMatch(/learning_rate_min/);
  expect(record.warnings.join('\n')).not.toMatch(/learning_rate_m/);
  const text = await cli('result', kept.runId);
  expect(text.out).toMatch(
    new RegExp(
      `^registered model Phi-3-mini-4k-instruct-ultrachat-200k version ${record.registeredModel.version}$`,
      'm',
    ),
  );
  expect(text.out).toMatch(/^smoke reply "/m);

  // Integer versions: the two runs registered one version each, consecutive-or-later integers.
  const otherRecord = await h.client.result(other.runId);
  expect(otherRecord.registeredModel.version).toMatch(/^[1-9]\d*$/);
  expect(otherRecord.registeredModel.version).not.toBe(record.registeredModel.version);
  const models = (await emulator.resources()).models;
  for (const run of [kept, other]) expect(models.filter((m) => m.jobName === run.names.jobName)).toHaveLength(1);
}, 300_000);

test('a run that does not exist, or did not succeed, has no record: 404 and 409, exits 5 and 6', async () => {
  expect((await api('GET', '/v1/fine-tunes/ft-no-such-run/result', 'reader')).status).toBe(404);
  expect((await cli('result', 'ft-no-such-run')).code).toBe(5);
  const failed = await h.client.start(
    { qualityGate: { eval_loss: { max: 0.0001 } } },
    { idempotencyKey: `record-failed-${tag}`, options: QUICK },
  );
  await h.client.result(failed.runId).catch(() => undefined);
  const res = await api('GET', `/v1/fine-tunes/${failed.runId}/result`, 'reader');
  expect(res).toMatchObject({
    status: 409,
    body: { error: { message: expect.stringMatching(/only a succeeded run/) } },
  });
  expect((await cli('result', failed.runId)).code).toBe(6);
  expect((await h.client.get(failed.runId)).result).toBeUndefined();
}, 240_000);
