// awaitPipeline over the job watcher, with fake clients: the first read is its own GET, later ones come
// from the watcher, and a failure the watcher reports (possibly from a list page, which need not carry
// the error's details) is read once more by GET so the run's error names the cause.
import type { JobBase } from '@azure/arm-machinelearning';
import { MockActivityEnvironment } from '@temporalio/testing';
import { makeAwaitPipeline } from '../../src/activities/awaitPipeline';
import type { ActivityDeps } from '../../src/activities/deps';

function job(status: string, properties: Record<string, string> = {}): JobBase {
  return { name: 'job-1', properties: { jobType: 'Pipeline', status, properties } } as JobBase;
}

function fakeDeps(gets: JobBase[], watched: JobBase[]) {
  const calls = { get: 0, next: 0 };
  const deps = {
    config: { resourceGroup: 'rg', workspace: 'ws' },
    arm: {
      jobs: {
        get: async () => {
          const j = gets[Math.min(calls.get, gets.length - 1)];
          calls.get += 1;
          return j;
        },
      },
    },
    jobs: {
      next: async () => {
        const j = watched[Math.min(calls.next, watched.length - 1)];
        calls.next += 1;
        return j;
      },
    },
  } as unknown as ActivityDeps;
  return { deps, calls };
}

const run = (deps: ActivityDeps) =>
  new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 }).run(makeAwaitPipeline(deps), 'job-1');

test('a job that completes: one GET, then the watcher until Completed, no further GET', async () => {
  const { deps, calls } = fakeDeps([job('Running')], [job('Running'), job('Completed')]);
  await expect(run(deps)).resolves.toEqual({ jobName: 'job-1', status: 'Completed' });
  expect(calls).toEqual({ get: 1, next: 2 });
});

test('a failure seen by the watcher is read again by GET, and the error names its cause', async () => {
  const failed = job('Failed', {
    'azureml.error.code': 'ExecutionFailed',
    'azureml.error.message': 'CUDA out of memory',
  });
  const { deps, calls } = fakeDeps([job('Running'), failed], [job('Failed')]);
  await expect(run(deps)).rejects.toThrow(/pipeline job job-1 ended Failed: CUDA out of memory/);
  expect(calls).toEqual({ get: 2, next: 1 });
});

test('a failure seen by the first GET is not read twice', async () => {
  const failed = job('Failed', { 'azureml.error.message': 'bad data' });
  const { deps, calls } = fakeDeps([failed], []);
  await expect(run(deps)).rejects.toThrow(/ended Failed: bad data/);
  expect(calls).toEqual({ get: 1, next: 0 });
});
