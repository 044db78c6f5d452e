// The worker's live training poller over a fake MLflow: many followed jobs cost a few runs/search per
// cycle, a job is searched for by its tag only until its training run is known, and the poller never
// spends more reads than its share of the worker's other reads.
import type { MlflowRun } from '../../src/azure/liveTraining';
import { TrainingWatcher } from '../../src/azure/trainingWatcher';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await wait(5);
  }
}

function fakeMlflow() {
  const calls = { lookups: 0, byTag: 0, byIds: [] as number[] };
  const trainingRun = (job: string, step: number): MlflowRun => ({
    info: { run_id: `${job}-ft`, start_time: 0 },
    data: {
      metrics: [
        { key: 'loss', value: 1, step, timestamp: 1 },
        { key: 'epoch', value: 0.5, step, timestamp: 1 },
      ],
    },
  });
  let step = 0;
  const mlflow = {
    knowsExperiment: (name: string) => calls.lookups > 0 && name === 'exp',
    // Only the first call reads (MlflowClient remembers an experiment's id).
    cachedExperimentId: async () => {
      if (calls.lookups === 0) calls.lookups += 1;
      return 'exp-id';
    },
    runsOfJob: async (_e: string, job: string, opts: { onPage?: () => void } = {}) => {
      calls.byTag += 1;
      opts.onPage?.();
      return [{ info: { run_id: job } }, trainingRun(job, ++step)];
    },
    runsById: async (_e: string, ids: readonly string[], opts: { onPage?: () => void } = {}) => {
      calls.byIds.push(ids.length);
      opts.onPage?.();
      step += 1;
      return ids.map((id) => trainingRun(id.replace(/-ft$/, ''), step));
    },
  };
  return { mlflow, calls };
}

test('250 jobs: one search by tag each, then three runs/search per cycle for all of them', async () => {
  const { mlflow, calls } = fakeMlflow();
  const watcher = new TrainingWatcher(async () => mlflow, {
    minIntervalMs: 20,
    share: 1,
    workerReads: () => 1_000_000,
  });
  const jobs = Array.from({ length: 250 }, (_, i) => `job-${i}`);
  for (const j of jobs) watcher.follow(j, 'exp');
  await until(() => calls.byIds.length >= 6);
  for (const j of jobs) watcher.unfollow(j);
  expect(calls.byTag).toBe(250);
  expect(calls.byIds.slice(0, 6)).toEqual([100, 100, 50, 100, 100, 50]);
  expect(watcher.latest('job-0')).toBeUndefined();
  expect(watcher.stats().followed).toBe(0);
});

test('the latest snapshot of a followed job is its training run as the last search answered it', async () => {
  const { mlflow } = fakeMlflow();
  const watcher = new TrainingWatcher(async () => mlflow, { minIntervalMs: 10, share: 1, workerReads: () => 1000 });
  watcher.follow('job-a', 'exp');
  await until(() => (watcher.latest('job-a')?.runs.length ?? 0) === 1);
  const snapshot = watcher.latest('job-a');
  expect(snapshot?.runs[0]?.info.run_id).toBe('job-a-ft');
  expect(snapshot?.readAt).toBeLessThanOrEqual(Date.now());
  watcher.unfollow('job-a');
});

test("its reads stay within its share of the worker's other reads, and it waits for more credit", async () => {
  const { mlflow, calls } = fakeMlflow();
  const own = () => calls.lookups + calls.byTag + calls.byIds.length;
  let others = 30; // the worker's other reads so far; the budget's count includes the poller's own
  const watcher = new TrainingWatcher(async () => mlflow, {
    minIntervalMs: 10,
    share: 0.1,
    workerReads: () => others + own(),
  });
  for (let i = 0; i < 10; i++) watcher.follow(`job-${i}`, 'exp');
  await wait(300);
  // 30 other reads earn 3: the experiment lookup and two searches by tag.
  expect(own()).toBe(3);
  others += 100;
  await until(() => own() === 13, 8000);
  await wait(200);
  expect(own()).toBe(13);
  expect(watcher.stats()).toMatchObject({ reads: 13, spent: 13, earned: 13 });
  for (let i = 0; i < 10; i++) watcher.unfollow(`job-${i}`);
}, 15_000);

test('a cycle reads at most maxReadsPerCycle, however much credit there is', async () => {
  const { mlflow, calls } = fakeMlflow();
  const watcher = new TrainingWatcher(async () => mlflow, {
    minIntervalMs: 60_000,
    share: 1,
    workerReads: () => 1_000_000,
    maxReadsPerCycle: 5,
  });
  for (let i = 0; i < 20; i++) watcher.follow(`job-${i}`, 'exp');
  await until(() => watcher.cycles.length >= 1);
  await wait(100);
  // The experiment lookup and four searches by tag; the other 16 jobs wait for the next cycle.
  expect(calls.lookups + calls.byTag).toBe(5);
  expect(watcher.cycles[0]).toMatchObject({ followed: 20, reads: 5, discoveries: 4, deferred: 16 });
  for (let i = 0; i < 20; i++) watcher.unfollow(`job-${i}`);
});

test('two attempts following the same job: it is read until both have let go', async () => {
  const { mlflow } = fakeMlflow();
  const watcher = new TrainingWatcher(async () => mlflow, { minIntervalMs: 10, share: 1, workerReads: () => 1000 });
  watcher.follow('job-a', 'exp');
  watcher.follow('job-a', 'exp');
  watcher.unfollow('job-a');
  expect(watcher.stats().followed).toBe(1);
  watcher.unfollow('job-a');
  expect(watcher.stats().followed).toBe(0);
});
