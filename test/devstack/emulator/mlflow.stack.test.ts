// MLflow runs and metrics follow the job's compressed clock: nothing before Running, a growing
// history while Running, the end-of-training metrics once training is over; the same numbers
// for the same job every time.
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { armToken, call, pipelineJobBody, startTestEmulator, WS } from './helpers';

const PHASE = 1000;
let now = Date.now();
let emulator: RunningEmulator;
let token: string;
const base = `/mlflow/v1.0${WS}/api/2.0/mlflow`;

interface RunBody {
  info: { run_id: string; status: string };
  data: { metrics: { key: string; value: number; step: number }[]; tags: { key: string; value: string }[] };
}

beforeAll(async () => {
  emulator = await startTestEmulator({
    now: () => now,
    clock: { jobPhaseMs: PHASE, provisionMs: 10, deleteMs: 10, cancelMs: 10 },
  });
  token = await armToken(emulator);
  await call(emulator, `${WS}/computes/cpu?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: {
      location: 'eastus',
      properties: {
        computeType: 'AmlCompute',
        properties: { vmSize: 'Standard_NC24ads_A100_v4', scaleSettings: { maxNodeCount: 1 } },
      },
    },
  });
  now += 20;
  const res = await call(emulator, `${WS}/jobs/mlf-job?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: pipelineJobBody({
      compute: 'cpu',
      train: 'x/train.jsonl',
      test: 'x/test.jsonl',
      experimentName: 'exp-mlflow',
    }),
  });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await emulator?.close();
});

async function search(): Promise<RunBody[]> {
  const res = await call(emulator, `${base}/runs/search`, {
    method: 'POST',
    token,
    body: { experiment_ids: [], filter: "tags.mlflow.rootRunId = 'mlf-job'" },
  });
  return (res.body as { runs: RunBody[] }).runs;
}

async function history(runId: string, key: string): Promise<{ value: number; step: number }[]> {
  return (
    (await call(emulator, `${base}/metrics/get-history?run_id=${runId}&metric_key=${key}`, { token })).body as {
      metrics: { value: number; step: number }[];
    }
  ).metrics;
}

test('metrics appear progressively with the clock and are deterministic', async () => {
  expect((await call(emulator, `${base}/experiments/get-by-name?experiment_name=exp-mlflow`, { token })).status).toBe(
    200,
  );
  now += 2.5 * PHASE; // Preparing
  expect(await search()).toEqual([]);
  expect((await call(emulator, `${base}/runs/get?run_id=mlf-job`, { token })).status).toBe(404);

  now += 1.0 * PHASE; // halfway through Running
  const running = await search();
  expect(running.map((r) => r.info.status)).toEqual(['RUNNING', 'RUNNING']);
  const child = running.find((r) => r.data.tags.some((t) => t.key === 'mlflow.parentRunId'));
  const childId = child?.info.run_id ?? '';
  const partialLoss = await history(childId, 'loss');
  expect(partialLoss.length).toBeGreaterThan(0);
  expect(await history(childId, 'train_loss')).toEqual([]);

  now += 0.6 * PHASE; // Finalizing: training is over
  const fullLoss = await history(childId, 'loss');
  expect(fullLoss.length).toBeGreaterThan(partialLoss.length);
  expect(fullLoss.slice(0, partialLoss.length)).toEqual(partialLoss);
  expect(await history(childId, 'train_loss')).toHaveLength(1);
  expect(await history('mlf-job', 'eval_loss')).toHaveLength(2);

  now += PHASE; // Completed
  const done = await search();
  expect(done.map((r) => r.info.status)).toEqual(['FINISHED', 'FINISHED']);
  const run = (await call(emulator, `${base}/runs/get?run_id=${childId}`, { token })).body as { run: RunBody };
  const keys = run.run.data.metrics.map((m) => m.key);
  expect(keys).toEqual(
    expect.arrayContaining([
      'loss',
      'grad_norm',
      'learning_rate',
      'epoch',
      'eval_loss',
      'eval_runtime',
      'train_loss',
      'train_runtime',
      'train_samples_per_second',
    ]),
  );
  expect(await history(childId, 'loss')).toEqual(fullLoss);
});

test('unsupported filters and missing parameters are MLflow errors', async () => {
  const bad = await call(emulator, `${base}/runs/search`, {
    method: 'POST',
    token,
    body: { filter: 'metrics.loss < 1' },
  });
  expect(bad).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
  expect((await call(emulator, `${base}/metrics/get-history?run_id=mlf-job`, { token })).body).toMatchObject({
    error_code: 'INVALID_PARAMETER_VALUE',
  });
  expect((await call(emulator, `${base}/runs/get?run_id=mlf-job`)).status).toBe(401);
});

test('runs/search takes attributes.run_id IN (...) and NOT IN, as MLflow does; only run_id takes a list', async () => {
  const all = await search();
  const ids = all.map((r) => r.info.run_id);
  expect(ids).toHaveLength(2);
  const byIds = async (filter: string) =>
    call(emulator, `${base}/runs/search`, { method: 'POST', token, body: { experiment_ids: [], filter } });
  const both = await byIds(`attributes.run_id IN ('${ids[0]}', '${ids[1]}', 'no-such-run')`);
  expect((both.body as { runs: RunBody[] }).runs.map((r) => r.info.run_id).sort()).toEqual([...ids].sort());
  const one = await byIds(`tags.mlflow.rootRunId = 'mlf-job' and run_id not in ('${ids[0]}')`);
  expect((one.body as { runs: RunBody[] }).runs.map((r) => r.info.run_id)).toEqual([ids[1]]);
  for (const refused of [
    "tags.mlflow.rootRunId IN ('mlf-job')",
    "attributes.run_name IN ('x')",
    'attributes.run_id IN ()',
    'attributes.run_id IN (mlf-job)',
    'attributes.run_id IN ("mlf-job")',
  ]) {
    expect(await byIds(refused)).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
  }
});

test('the admin API counts every request by surface and method', async () => {
  const before = (await call(emulator, '/_emulator/requests/counts')).body as {
    counts: Record<string, Record<string, number>>;
  };
  await search();
  await call(emulator, `${base}/experiments/get-by-name?experiment_name=exp-mlflow`, { token });
  const after = (await call(emulator, '/_emulator/requests/counts')).body as typeof before;
  expect((after.counts.mlflow?.POST ?? 0) - (before.counts.mlflow?.POST ?? 0)).toBe(1);
  expect((after.counts.mlflow?.GET ?? 0) - (before.counts.mlflow?.GET ?? 0)).toBe(1);
});
