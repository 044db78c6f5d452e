// The live training poller's plan: which runs/search it makes in a cycle, and how many reads it may spend.
import type { MlflowRun } from '../../src/azure/liveTraining';
import {
  jobRunsFilter,
  planReads,
  ReadCredit,
  runIdFilter,
  trainingRunId,
  type FollowedTraining,
} from '../../src/azure/trainingPlan';

const followed = (n: number, experimentName: string, known: boolean, from = 0): FollowedTraining[] =>
  Array.from({ length: n }, (_, i) => ({
    jobName: `${experimentName}-job-${i}`,
    experimentName,
    ...(known ? { trainingRunId: `${experimentName}-run-${i}` } : {}),
    lastReadAt: from + i,
  }));

describe('planReads', () => {
  test('known training runs are read 100 ids per search, per experiment; unknown ones searched by tag, one each', () => {
    const units = planReads([
      ...followed(250, 'a', true),
      ...followed(30, 'b', true),
      ...followed(3, 'a', false, 1000),
    ]);
    const batches = units.filter((u) => u.kind === 'batch');
    expect(batches.map((u) => (u.kind === 'batch' ? [u.experimentName, u.runIds.length] : []))).toEqual([
      ['a', 100],
      ['b', 30],
      ['a', 100],
      ['a', 50],
    ]);
    expect(units.filter((u) => u.kind === 'discover').map((u) => (u.kind === 'discover' ? u.jobName : ''))).toEqual([
      'a-job-0',
      'a-job-1',
      'a-job-2',
    ]);
    expect(units).toHaveLength(7);
  });

  test('stalest first, so a cycle that cannot afford every read reads the others next time', () => {
    const jobs = followed(5, 'a', true);
    const stale = { ...jobs[3], lastReadAt: -50 } as FollowedTraining;
    const units = planReads([...jobs.slice(0, 3), stale, ...jobs.slice(4), ...followed(1, 'z', false, -10)], 2);
    expect(units.map((u) => (u.kind === 'batch' ? u.runIds : [u.jobName]))).toEqual([
      ['a-run-3', 'a-run-0'],
      ['z-job-0'],
      ['a-run-1', 'a-run-2'],
      ['a-run-4'],
    ]);
  });

  test('nothing followed: nothing to read', () => {
    expect(planReads([])).toEqual([]);
  });
});

describe('filters', () => {
  test('run ids as MLflow takes a list (attributes.run_id IN, single quotes); job runs by their root tag', () => {
    expect(runIdFilter(['r-1', "r'2"])).toBe("attributes.run_id IN ('r-1', 'r2')");
    expect(jobRunsFilter("job-'1")).toBe("tags.mlflow.rootRunId = 'job-1'");
  });
});

describe('trainingRunId', () => {
  const run = (id: string, metrics: string[], params: string[] = []): MlflowRun => ({
    info: { run_id: id },
    data: {
      metrics: metrics.map((key) => ({ key, value: 1, step: 1 })),
      params: params.map((key) => ({ key, value: '1' })),
    },
  });

  test('the run logging epoch or a loss; else the step run given num_train_epochs; else none yet', () => {
    expect(trainingRunId([run('job', []), run('ft', ['loss', 'epoch'])], 'job')).toBe('ft');
    expect(trainingRunId([run('job', [], ['num_train_epochs']), run('ft', [], ['num_train_epochs'])], 'job')).toBe(
      'ft',
    );
    expect(trainingRunId([run('job', [], ['num_train_epochs'])], 'job')).toBeUndefined();
    expect(trainingRunId([], 'job')).toBeUndefined();
  });
});

describe('ReadCredit', () => {
  const MIN = 60_000;

  test('earns its share of the other reads, spends one per read of its own', () => {
    const credit = new ReadCredit(0.1, 10 * MIN);
    expect(credit.earn(25, 0)).toBeCloseTo(2.5);
    expect(credit.available).toBe(2);
    credit.spend(2);
    expect(credit.earn(40, 1000)).toBeCloseTo(2);
    expect(credit.stats()).toEqual({ earned: 4, spent: 2, credit: 2 });
  });

  test('credit expires with the reads that earned it: a worker idle for an hour does not hoard', () => {
    const credit = new ReadCredit(0.1, 10 * MIN);
    // 1,000 reads earn 100, all within the window: spendable at once (runs that just started earned them).
    expect(credit.earn(1000, 0)).toBe(100);
    // An hour later, 10 new reads in the last ten minutes: the cap is 1.
    expect(credit.earn(1010, 60 * MIN)).toBe(1);
    credit.spend(1);
    expect(credit.available).toBe(0);
    expect(credit.earn(1030, 61 * MIN)).toBe(2);
  });

  test('a running total that goes back (a new budget) earns nothing', () => {
    const credit = new ReadCredit(0.5, 10 * MIN);
    credit.earn(10, 0);
    expect(credit.earn(4, 1)).toBe(5);
  });
});
