// The job watcher's cycle planning: which way a cycle reads (one list walk or a Get per job) and how far
// apart cycles are, so that following jobs stays within the watcher's read allowance at any scale.
import { DEFAULT_ARM_BUDGET, splitBudget } from '../../src/azure/budget';
import { loadAzureConfig } from '../../src/azure/config';
import { cycleInterval, planCycle, ReadAllowance } from '../../src/azure/jobWatchPlan';

const ENV = { AZURE_SUBSCRIPTION_ID: 's', AZURE_RESOURCE_GROUP: 'rg', AZUREML_WORKSPACE_NAME: 'ws' };
/** The defaults: a quarter of 20 reads/s, cycles at least 1 s apart. */
const DEFAULT_PACING = { readsPerSecond: 0.25 * DEFAULT_ARM_BUDGET.readsPerSecond, minIntervalMs: 1000 };

test('1,000 followed jobs: one walk of ten pages every 2 s, 5 reads/s', () => {
  const plan = planCycle({ jobs: 1000, lastListPages: 10, listPageSize: 100 });
  expect(plan).toEqual({ mode: 'list', reads: 10 });
  const interval = cycleInterval(plan.reads, DEFAULT_PACING);
  expect(interval).toBe(2000);
  expect(plan.reads / (interval / 1000)).toBeLessThanOrEqual(5);
});

test('10 followed jobs: one page at the floor (1 s), well inside the allowance', () => {
  const plan = planCycle({ jobs: 10, lastListPages: 1, listPageSize: 100 });
  expect(plan).toEqual({ mode: 'list', reads: 1 });
  expect(cycleInterval(plan.reads, DEFAULT_PACING)).toBe(1000);
});

test('before the first walk the pages are estimated from the page size', () => {
  expect(planCycle({ jobs: 1000, lastListPages: 0, listPageSize: 100 })).toEqual({ mode: 'list', reads: 10 });
  expect(planCycle({ jobs: 250, lastListPages: 0, listPageSize: 100 })).toEqual({ mode: 'list', reads: 3 });
});

test('a few jobs, or a list longer than half the Gets, are read by Gets', () => {
  expect(planCycle({ jobs: 2, lastListPages: 1, listPageSize: 100 })).toEqual({ mode: 'get', reads: 2 });
  // The walk shows every tagged job of the workspace (10 pages) but this worker follows only 15.
  expect(planCycle({ jobs: 15, lastListPages: 10, listPageSize: 100 })).toEqual({ mode: 'get', reads: 15 });
  expect(planCycle({ jobs: 21, lastListPages: 10, listPageSize: 100 })).toEqual({ mode: 'list', reads: 10 });
});

test('at every scale a cycle spends no more than the allowance over its interval', () => {
  for (const jobs of [1, 3, 10, 50, 100, 300, 1000, 5000]) {
    const pages = Math.ceil(jobs / 100);
    const plan = planCycle({ jobs, lastListPages: pages, listPageSize: 100 });
    const interval = cycleInterval(plan.reads, DEFAULT_PACING);
    expect({ jobs, rate: plan.reads / (interval / 1000) <= DEFAULT_PACING.readsPerSecond }).toEqual({
      jobs,
      rate: true,
    });
    expect(interval).toBeGreaterThanOrEqual(DEFAULT_PACING.minIntervalMs);
  }
});

test("with FTFLOW_ARM_BUDGET_SPLIT=4 each worker's watcher gets a quarter: four workers together spend 5 reads/s", () => {
  const config = loadAzureConfig({ ...ENV, FTFLOW_ARM_BUDGET_SPLIT: '4' });
  expect(config.armBudget).toEqual(splitBudget(DEFAULT_ARM_BUDGET, 4));
  const perWorker = config.jobWatchReadShare * config.armBudget.readsPerSecond;
  expect(perWorker).toBe(1.25);
  // 1,000 jobs over four workers: each follows 250, but the walk lists all 1,000 (10 pages).
  const plan = planCycle({ jobs: 250, lastListPages: 10, listPageSize: 100 });
  const interval = cycleInterval(plan.reads, { readsPerSecond: perWorker, minIntervalMs: 1000 });
  expect(interval).toBe(8000);
  expect(4 * (plan.reads / (interval / 1000))).toBeLessThanOrEqual(5);
});

test('the push fallback floor slows polling, never speeds it past the allowance', () => {
  expect(cycleInterval(10, { readsPerSecond: 5, minIntervalMs: 60_000 })).toBe(60_000);
  expect(cycleInterval(1000, { readsPerSecond: 5, minIntervalMs: 60_000 })).toBe(200_000);
});

describe('the read allowance', () => {
  test('polling waits until nothing is owed; wakes may run up to the burst ahead', () => {
    let now = 0;
    const allowance = new ReadAllowance(5, 10_000, () => now);
    expect(allowance.untilPaid()).toBe(0);
    allowance.spend(10);
    expect(allowance.untilPaid()).toBe(2000);
    // 10 more reads owe 4 s in all: inside a 10 s burst.
    expect(allowance.waitFor(10)).toBe(0);
    allowance.spend(50);
    // 60 reads at 5/s owe 12 s: the next read waits until it fits in the 10 s burst.
    expect(allowance.waitFor(1)).toBe(2200);
    now = 12_000;
    expect(allowance.untilPaid()).toBe(0);
  });

  test('refuses a rate that is not positive', () => {
    expect(() => new ReadAllowance(0, 1000)).toThrow('readsPerSecond');
  });
});

describe('settings', () => {
  test('defaults: floor 1 s, a quarter of the read budget, push off with a 60 s fallback', () => {
    const c = loadAzureConfig(ENV);
    expect([c.jobPollSeconds, c.jobWatchReadShare, c.jobPush, c.jobPushPollSeconds]).toEqual([1, 0.25, false, 60]);
    expect(loadAzureConfig({ ...ENV, FTFLOW_JOB_PUSH: 'on' }).jobPush).toBe(true);
  });

  test('a bad value names the variable and what it must be', () => {
    expect(() => loadAzureConfig({ ...ENV, FTFLOW_JOB_WATCH_READ_SHARE: '2' })).toThrow(
      /FTFLOW_JOB_WATCH_READ_SHARE must be a share .* at most 1 .* got "2"/,
    );
    expect(() => loadAzureConfig({ ...ENV, FTFLOW_JOB_PUSH: 'yes' })).toThrow(
      /FTFLOW_JOB_PUSH must be "on" .* or "off"/,
    );
    expect(() => loadAzureConfig({ ...ENV, FTFLOW_JOB_PUSH_POLL_SECONDS: '0' })).toThrow(
      'FTFLOW_JOB_PUSH_POLL_SECONDS must be a positive number',
    );
  });
});
