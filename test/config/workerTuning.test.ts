// The worker's memory and concurrency settings: defaults that keep 1,000 runs within 1 GiB
// (bench/README.md), and errors that name the variable and what to set.
import {
  DEFAULT_MAX_CACHED_WORKFLOWS,
  DEFAULT_MAX_CONCURRENT_ACTIVITIES,
  DEFAULT_MAX_CONCURRENT_STAGINGS,
  loadWorkerTuning,
} from '../../src/config/workerTuning';
import { workerOptions, workerSettings } from '../../src/worker';

describe('worker tuning settings', () => {
  test('defaults: a fixed workflow cache, 1,000 activity slots, no memory report', () => {
    expect(loadWorkerTuning({})).toEqual({
      maxCachedWorkflows: DEFAULT_MAX_CACHED_WORKFLOWS,
      maxConcurrentActivities: DEFAULT_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentStagings: DEFAULT_MAX_CONCURRENT_STAGINGS,
      memoryReportSeconds: 0,
    });
    // Compose files leave optional variables empty: empty means unset.
    expect(loadWorkerTuning({ FTFLOW_MAX_CACHED_WORKFLOWS: ' ', FTFLOW_MEMORY_REPORT_SECONDS: '' })).toEqual(
      loadWorkerTuning({}),
    );
  });

  test('values are read as whole numbers; 0 turns the cache and the report off', () => {
    expect(
      loadWorkerTuning({
        FTFLOW_MAX_CACHED_WORKFLOWS: '0',
        FTFLOW_MAX_CONCURRENT_ACTIVITIES: '250',
        FTFLOW_MAX_CONCURRENT_STAGINGS: '2',
        FTFLOW_MEMORY_REPORT_SECONDS: '60',
      }),
    ).toEqual({
      maxCachedWorkflows: 0,
      maxConcurrentActivities: 250,
      maxConcurrentStagings: 2,
      memoryReportSeconds: 60,
    });
  });

  test.each([
    ['FTFLOW_MAX_CACHED_WORKFLOWS', '1', /FTFLOW_MAX_CACHED_WORKFLOWS: must be 0 \(no cache\) or 2 and more/],
    ['FTFLOW_MAX_CACHED_WORKFLOWS', '-5', /FTFLOW_MAX_CACHED_WORKFLOWS: must be a whole number of runs.*unset it/],
    ['FTFLOW_MAX_CACHED_WORKFLOWS', 'lots', /FTFLOW_MAX_CACHED_WORKFLOWS: must be a whole number/],
    ['FTFLOW_MAX_CONCURRENT_STAGINGS', '0', /FTFLOW_MAX_CONCURRENT_STAGINGS: must be a whole number of stagings/],
    [
      'FTFLOW_MAX_CONCURRENT_ACTIVITIES',
      '0',
      /FTFLOW_MAX_CONCURRENT_ACTIVITIES: must be a whole number of activities, 1 or more/,
    ],
    [
      'FTFLOW_MAX_CONCURRENT_ACTIVITIES',
      '2.5',
      /FTFLOW_MAX_CONCURRENT_ACTIVITIES: .*number of runs one worker follows/,
    ],
    [
      'FTFLOW_MEMORY_REPORT_SECONDS',
      '-1',
      /FTFLOW_MEMORY_REPORT_SECONDS: must be a whole number of seconds.*e\.g\. 60/,
    ],
  ])('%s=%s is refused, naming the variable and the fix', (name, value, message) => {
    expect(() => loadWorkerTuning({ [name]: value })).toThrow(message);
  });

  test('the worker passes them to the SDK', () => {
    const settings = workerSettings({ FTFLOW_MAX_CACHED_WORKFLOWS: '300', FTFLOW_MAX_CONCURRENT_ACTIVITIES: '400' });
    const options = workerOptions(settings, {});
    expect(options.maxCachedWorkflows).toBe(300);
    expect(options.maxConcurrentActivityTaskExecutions).toBe(400);
    // Options built without settings (the tests' workers) get the same defaults as the process.
    const bare = workerOptions({ address: 'x:1', namespace: 'default', taskQueue: 'q' }, {});
    expect(bare.maxCachedWorkflows).toBe(DEFAULT_MAX_CACHED_WORKFLOWS);
    expect(bare.maxConcurrentActivityTaskExecutions).toBe(DEFAULT_MAX_CONCURRENT_ACTIVITIES);
  });
});
