// Issue 17, items 1 and 2: a run followed while it trains. On an emulator of this file's own whose jobs
// queue for 4 s and train for 8 s, the record shows the Azure job's Queued and Running states, a step
// count and loss that grow, an ETA and the studio link; afterwards the events carry the bounded `metrics`
// entries, the loss curve is read through the client, the API and the CLI (paged), and the job's log tail.
// The same run on a worker with live metrics off has exactly as many history events: following the job
// publishes through heartbeats and the step's result, never an event per poll.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server';
import { ApiKeyStore, hashKey } from '../../src/api/keys';
import { loadAzureConfig } from '../../src/azure/config';
import { createCredential } from '../../src/azure/credentials';
import { TrainingReader } from '../../src/control/training';
import type { RunRecord } from '../../src/control/records';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import { FAST_TUNING, startHarness, type TestHarness } from '../helpers/localStack';
import {
  emulatorAdmin,
  emulatorEnv,
  startPrivateEmulator,
  type EmulatorAdmin,
  type RestartableServer,
} from '../helpers/privateStack';

// The SDK sends an activity's heartbeats at most every 0.8 × its heartbeat timeout: 2 s here shows each
// job state within 1.6 s (with the default 30 s, within 24 s).
const QUICK = { heartbeatTimeoutSeconds: 2 };
const KEY = 'ftflow_live-metrics-test-key';
const tag = randomUUID().slice(0, 8);

let server: RestartableServer;
let admin: EmulatorAdmin;
let live: TestHarness;
let off: TestHarness;
let azureEnv: Record<string, string>;
let app: FastifyInstance;
let base = '';

beforeAll(async () => {
  server = await startPrivateEmulator();
  admin = emulatorAdmin(server.address);
  // Jobs wait in the queue for 4 s and train for 8 s; the other phases stay short.
  await admin.setClock({ jobPhases: { Queued: 4000, Running: 8000 } } as Parameters<EmulatorAdmin['setClock']>[0]);
  azureEnv = emulatorEnv(server);
  // Figures every 0.5 s at most, and no read-share limit (the default 10% would allow one read per few
  // seconds on this one-run worker: too few for an 8 s training; test/azure/trainingWatcher.test.ts has the limit).
  live = await startHarness({}, { ...azureEnv, FTFLOW_METRICS_POLL_SECONDS: '0.5', FTFLOW_METRICS_READ_SHARE: '1' });
  off = await startHarness({}, { ...azureEnv, FTFLOW_METRICS_POLL_SECONDS: '0' });
  const env = { ...process.env, ...FAST_TUNING, ...azureEnv };
  const config = loadAzureConfig(env);
  live.client.useTrainingReader(new TrainingReader(config, createCredential(config, env)));
  app = await buildApi({
    client: live.client,
    keys: ApiKeyStore.fromKeys([{ id: 'reader', hash: hashKey(KEY), scopes: ['fine-tunes:read'], revoked: false }]),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await live?.stop();
  await off?.stop();
  await server?.dispose();
});

async function historyOf(h: TestHarness, runId: string) {
  const history = await h.temporal.workflow.getHandle(runId).fetchHistory();
  return history.events ?? [];
}

test('a run followed live: Queued then Running, a growing step and loss, ETA and studio link; no extra history events', async () => {
  const spec = { compute: { name: `live-${tag}` }, training: { num_train_epochs: 2 } };
  const a = await live.client.start(spec, { idempotencyKey: `live-on-${tag}`, options: QUICK, dedupe: false });
  const b = await off.client.start(
    { ...spec, compute: { name: `live-off-${tag}` } },
    { idempotencyKey: `live-off-${tag}`, options: QUICK, dedupe: false },
  );

  const seen: RunRecord[] = [];
  for (;;) {
    const record = await live.client.get(a.runId);
    seen.push(record);
    if (record.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const final = seen[seen.length - 1];
  expect(final.status).toBe('succeeded');
  const statuses = seen.map((r) => r.jobStatus).filter((s): s is string => s !== undefined);
  expect(statuses).toContain('Queued');
  expect(statuses).toContain('Running');
  expect(statuses.indexOf('Queued')).toBeLessThan(statuses.indexOf('Running'));

  const training = seen.filter((r) => r.jobStatus === 'Running' && r.training?.step !== undefined);
  const steps = training.map((r) => r.training?.step ?? 0);
  expect(new Set(steps).size).toBeGreaterThanOrEqual(3);
  expect([...steps].sort((x, y) => x - y)).toEqual(steps);
  const mid = training[Math.floor(training.length / 2)];
  expect(mid.training).toMatchObject({
    totalSteps: expect.any(Number),
    totalEpochs: 2,
    trainLoss: expect.any(Number),
    etaSeconds: expect.any(Number),
    gpuSeconds: expect.any(Number),
  });
  expect(mid.training?.totalSteps).toBeGreaterThan(mid.training?.step ?? 0);
  expect(mid.studioUrl).toMatch(/^https:\/\//);
  // The loss falls as training goes on.
  const losses = training.map((r) => r.training?.trainLoss ?? 0);
  expect(losses[losses.length - 1]).toBeLessThan(losses[0]);

  // After training the record keeps the last figures, the studio link and the entries (from the step's result).
  expect(final.jobStatus).toBe('Completed');
  expect(final.studioUrl).toMatch(/^https:\/\//);
  expect(final.metricsLog?.length).toBeGreaterThanOrEqual(3);
  expect(final.metricsLog?.length).toBeLessThanOrEqual(40);
  expect(final.warnings.join('\n')).not.toMatch(/learning_rate_m/);
  expect(final.notes.join('\n')).toMatch(/learning_rate_min/);

  const events = await live.client.events(a.runId, { limit: 500 });
  const metrics = events.data.filter((e) => e.type === 'metrics' && e.step === 'awaitPipeline');
  expect(metrics.length).toBe(final.metricsLog?.length);
  expect(metrics[0].message).toMatch(/^step \d+\/\d+: train_loss \d/);
  expect(events.data.some((e) => e.type === 'warning' && /learning_rate_m/.test(e.message))).toBe(false);
  expect(events.data.some((e) => e.type === 'note' && /learning_rate_min/.test(e.message))).toBe(true);

  // The same run with live metrics off: the same history, event for event.
  await off.client.result(b.runId);
  const withLive = await historyOf(live, a.runId);
  const without = await historyOf(off, b.runId);
  const kinds = (events: typeof withLive) => events.map((e) => String(e.eventType));
  process.stdout.write(
    `history events per run: ${withLive.length} with live metrics, ${without.length} without; ` +
      `${seen.length} looks at the record while it ran\n`,
  );
  expect(withLive.length).toBe(without.length);
  expect(kinds(withLive)).toEqual(kinds(without));

  // What the live follower cost: runs/search reads against the emulator, per run.
  const requests = await admin.requests();
  const searches = requests.filter((r) => r.path.endsWith('/runs/search')).length;
  process.stdout.write(`MLflow runs/search reads (both runs, collectMetrics included): ${searches}\n`);
}, 180_000);

test('the loss curve through the client, the API and the CLI, paged; and the log tail', async () => {
  const runId = `ft-live-on-${tag}`;
  const all = await live.client.metrics(runId, { limit: 1000 });
  const loss = all.data.find((s) => s.metric === 'loss');
  expect(loss?.points.length).toBeGreaterThan(5);
  const steps = loss?.points.map((p) => p.step) ?? [];
  expect([...steps].sort((x, y) => x - y)).toEqual(steps);
  expect(all.data.map((s) => s.metric)).toEqual(['loss', 'eval_loss', 'learning_rate', 'epoch']);
  expect(all.data.find((s) => s.metric === 'eval_loss')?.points).toHaveLength(2);
  expect(all.nextPageToken).toBeNull();

  // Paged: 3 points per series per page, the token carries on where each series stopped.
  const first = await live.client.metrics(runId, { metrics: ['loss'], limit: 3 });
  expect(first.data[0].points).toHaveLength(3);
  expect(first.nextPageToken).toEqual(expect.any(String));
  const second = await live.client.metrics(runId, { limit: 3, pageToken: first.nextPageToken ?? '' });
  expect(second.data[0].points[0].step).toBe(loss?.points[3].step);

  const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  const res = await get(`/v1/fine-tunes/${runId}/metrics?metric=loss,eval_loss&limit=1000`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { metric: string; points: unknown[] }[] };
  expect(body.data.map((s) => s.metric)).toEqual(['loss', 'eval_loss']);
  expect(body.data[0].points).toHaveLength(loss?.points.length ?? -1);
  expect((await get(`/v1/fine-tunes/${runId}/metrics?limit=0`)).status).toBe(400);
  const logTail = await get(`/v1/fine-tunes/${runId}/logs?lines=2`);
  expect(logTail.status).toBe(200);
  expect(((await logTail.json()) as { lines: string[] }).lines.length).toBeLessThanOrEqual(2);

  const logs = await live.client.logs(runId, { lines: 5 });
  expect(logs.lines.length).toBeGreaterThan(0);
  expect(logs.lines.length).toBeLessThanOrEqual(5);

  // The CLI, in this process, with the private emulator's variables.
  const cli = async (...args: string[]) => {
    let stdout = '';
    const io = (json: boolean): CliIO => ({
      out: (l) => (stdout += l + '\n'),
      err: (l) => (stdout += l + '\n'),
      write: (t) => (stdout += t),
      isTTY: false,
      json,
      columns: 100,
    });
    const code = await runCli(['node', 'ftflow', ...args], {
      io,
      env: { ...process.env, ...azureEnv, FTFLOW_TASK_QUEUE: live.taskQueue },
    });
    return { code, stdout };
  };
  const chart = await cli('metrics', runId);
  expect(chart).toMatchObject({ code: 0 });
  expect(chart.stdout).toMatch(/^loss: \d+ points, step \d+\.\.\d+, latest [\d.]+ +[▁▂▃▄▅▆▇█]+$/m);
  expect(chart.stdout).toMatch(/loss by step/);
  expect(chart.stdout).toMatch(/┤•/);
  expect(chart.stdout).toMatch(/^STEP +LOSS +EVAL_LOSS +LEARNING_RATE +EPOCH$/m);
  const asJson = await cli('metrics', runId, '--metric', 'loss', '--json');
  expect(asJson.code).toBe(0);
  expect((JSON.parse(asJson.stdout) as { data: { points: unknown[] }[] }).data[0].points).toHaveLength(
    loss?.points.length ?? -1,
  );
  const tail = await cli('logs', runId, '--lines', '3');
  expect(tail.code).toBe(0);
  expect(tail.stdout.trim().split('\n').length).toBeLessThanOrEqual(4);
  const status = await cli('status', runId);
  expect(status.stdout).toMatch(/^studio https:\/\//m);
  expect(status.stdout).toMatch(/^training step \d+\/\d+ +epoch [\d.]+\/2 +train_loss [\d.]+ .*ETA .*GPU time/m);
}, 120_000);
