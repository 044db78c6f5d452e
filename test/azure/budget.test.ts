// The worker's ARM request budget: first come first served, and a request whose caller gave up leaves
// the queue without using a token (at 1,000 runs, tokens spent on abandoned requests starved the rest).
import { ArmRequestBudget, DEFAULT_ARM_BUDGET, requestClass, splitBudget } from '../../src/azure/budget';
import { loadAzureConfig } from '../../src/azure/config';

const budget = () => new ArmRequestBudget({ readsPerSecond: 20, writesPerSecond: 20, deletesPerSecond: 20, burst: 1 });

test('grants waiting reads in the order they asked, about 20 per second', async () => {
  const b = budget();
  const order: number[] = [];
  const started = Date.now();
  await Promise.all(Array.from({ length: 6 }, (_, i) => b.take('GET').then(() => order.push(i))));
  expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  // The bucket starts empty: six tokens at 20/s take about 300 ms.
  expect(Date.now() - started).toBeGreaterThanOrEqual(200);
});

test('an aborted request leaves the queue without using a token, and the next one is served in its place', async () => {
  const b = new ArmRequestBudget({ readsPerSecond: 2, writesPerSecond: 2, deletesPerSecond: 2, burst: 1 });
  const abandoned = new AbortController();
  const first = b.take('GET', abandoned.signal);
  const second = b.take('GET');
  expect(b.stats().waiting).toBe(2);
  abandoned.abort();
  await expect(first).rejects.toMatchObject({ name: 'AbortError' });
  // The abandoned request left the queue at once: the next token goes to the second one (no wall-clock
  // bound here; a loaded machine makes every timer late).
  expect(b.stats()).toMatchObject({ granted: 0, waiting: 1 });
  await second;
  expect(b.stats()).toMatchObject({ granted: 1, waiting: 0 });
});

test('a request that was aborted before it asked is refused at once', async () => {
  const controller = new AbortController();
  controller.abort();
  await expect(budget().take('DELETE', controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
});

describe('sharing the budget between worker processes (FTFLOW_ARM_BUDGET_SPLIT)', () => {
  const env = { AZURE_SUBSCRIPTION_ID: 's', AZURE_RESOURCE_GROUP: 'rg', AZUREML_WORKSPACE_NAME: 'ws' };

  test('each of N processes takes 1/N of every rate and of the burst, never more than the whole together', () => {
    expect(splitBudget(DEFAULT_ARM_BUDGET, 1)).toBe(DEFAULT_ARM_BUDGET);
    const quarter = splitBudget(DEFAULT_ARM_BUDGET, 4);
    expect(quarter).toEqual({ readsPerSecond: 5, writesPerSecond: 2, deletesPerSecond: 2, burst: 12 });
    const third = splitBudget({ readsPerSecond: 20, writesPerSecond: 8, deletesPerSecond: 8, burst: 2 }, 3);
    expect(third.readsPerSecond * 3).toBeCloseTo(20, 9);
    expect(third.burst).toBe(1); // a process always keeps one token
    expect(() => splitBudget(DEFAULT_ARM_BUDGET, 0)).toThrow(RangeError);
  });

  test('the setting divides the configured whole, and a bad value names the variable and the fix', () => {
    expect(loadAzureConfig(env).armBudget).toEqual(DEFAULT_ARM_BUDGET);
    expect(
      loadAzureConfig({ ...env, FTFLOW_ARM_READS_PER_SECOND: '24', FTFLOW_ARM_BUDGET_SPLIT: '4' }).armBudget,
    ).toMatchObject({ readsPerSecond: 6, writesPerSecond: 2, burst: 12 });
    for (const bad of ['0', '2.5', 'four'])
      expect(() => loadAzureConfig({ ...env, FTFLOW_ARM_BUDGET_SPLIT: bad })).toThrow(
        /FTFLOW_ARM_BUDGET_SPLIT must be a whole number .*set it to the number of workers/,
      );
  });

  test('a split budget grants its share: 4 processes at 20 reads/s get about 5/s each', async () => {
    const b = new ArmRequestBudget({ ...splitBudget({ ...DEFAULT_ARM_BUDGET, burst: 4 }, 4) });
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => b.take('GET')));
    // The bucket starts empty and refills at 5/s: six reads need about 1.2 s (at least 0.8 s anywhere).
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });
});

test("MLflow's searches are reads though they are POSTs; other POSTs are writes", () => {
  const base =
    'https://eastus.api.azureml.ms/mlflow/v2.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/api/2.0/mlflow';
  expect(requestClass('POST', `${base}/runs/search`)).toBe('read');
  expect(requestClass('POST', `${base}/logged-models/search`)).toBe('read');
  expect(requestClass('POST', `${base}/runs/create`)).toBe('write');
  expect(requestClass('POST', 'https://management.azure.com/subscriptions/s/jobs/j/cancel')).toBe('write');
  expect(requestClass('GET')).toBe('read');
  expect(requestClass('DELETE')).toBe('delete');
});
