// awaitPipeline over the job watcher, with fake clients: the first read is its own GET, later ones come
// from the watcher, and a failure the watcher reports (possibly from a list page, which need not carry
// the error's details) is read once more by GET so the run's error names the cause.
import type { JobBase } from '@azure/arm-machinelearning';
import { MockActivityEnvironment } from '@temporalio/testing';
import { makeAwaitPipeline } from '../../src/activities/awaitPipeline';
import type { ActivityDeps } from '../../src/activities/deps';
import type { JobOutcome } from '../../src/activities/types';

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

describe('live training figures', () => {
  /** A job going through `statuses`, and a fake training watcher whose figures move on between two polls. */
  function trainingDeps(statuses: string[], metricsPollSeconds: number) {
    const followed: string[] = [];
    const released: string[] = [];
    let step = 0;
    let snapshot: { runs: unknown[]; readAt: number } | undefined;
    const at = (s: string) =>
      ({
        name: 'job-1',
        properties: {
          jobType: 'Pipeline',
          status: s,
          experimentName: 'exp',
          services: { Studio: { endpoint: 'https://ml.azure.com/runs/job-1' } },
        },
      }) as unknown as JobBase;
    let i = 0;
    const deps = {
      config: { resourceGroup: 'rg', workspace: 'ws', metricsPollSeconds },
      arm: { jobs: { get: async () => at(statuses[0]) } },
      jobs: {
        next: async () => {
          await new Promise((r) => setTimeout(r, 5));
          // A cycle of the training watcher between two polls, for a job it follows.
          if (followed.length > released.length) {
            step += 10;
            snapshot = {
              readAt: Date.now(),
              runs: [
                {
                  info: { run_id: 'job-1_ft', start_time: Date.now() - step * 100 },
                  data: {
                    metrics: [
                      { key: 'loss', value: 2 - step / 100, step, timestamp: Date.now() },
                      { key: 'epoch', value: step / 100, step, timestamp: Date.now() },
                    ],
                    params: [{ key: 'num_train_epochs', value: '1' }],
                  },
                },
              ],
            };
          }
          i = Math.min(i + 1, statuses.length - 1);
          return at(statuses[i]);
        },
      },
      training: {
        follow: (job: string, experiment: string) => followed.push(`${job}@${experiment}`),
        unfollow: (job: string) => released.push(job),
        latest: () => snapshot,
      },
    } as unknown as ActivityDeps;
    return { deps, followed, released };
  }

  test('Queued, then Running with step, loss and ETA in the heartbeat; the entries in the result', async () => {
    const { deps, followed, released } = trainingDeps(['Queued', 'Running', 'Running', 'Running', 'Completed'], 120);
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 });
    const beats: Record<string, unknown>[] = [];
    env.on('heartbeat', (d: unknown) => {
      if (d) beats.push(d as Record<string, unknown>);
    });
    const outcome: JobOutcome = await env.run(makeAwaitPipeline(deps), 'job-1');
    expect(beats.map((b) => b.status)).toEqual(expect.arrayContaining(['Queued', 'Running', 'Completed']));
    const running = beats.filter((b) => b.status === 'Running' && b.training);
    expect(running.length).toBeGreaterThan(0);
    expect(running[running.length - 1]).toMatchObject({
      studioUrl: 'https://ml.azure.com/runs/job-1',
      training: { step: 20, totalSteps: 100, trainLoss: 1.8 },
    });
    expect(outcome).toMatchObject({
      jobName: 'job-1',
      status: 'Completed',
      studioUrl: 'https://ml.azure.com/runs/job-1',
      training: { step: 30, trainLoss: 1.7 },
    });
    expect(outcome.metricsLog?.map((e) => e.step)).toEqual([10, 20, 30]);
    expect({ followed, released }).toEqual({ followed: ['job-1@exp'], released: ['job-1'] });
  });

  test('the job is handed to the watcher once it trains (not while queued or preparing), and let go at the end', async () => {
    const { deps, followed, released } = trainingDeps(
      ['Queued', 'Preparing', 'Running', 'Finalizing', 'Completed'],
      3600,
    );
    await new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 }).run(makeAwaitPipeline(deps), 'job-1');
    expect({ followed, released }).toEqual({ followed: ['job-1@exp'], released: ['job-1'] });
  });

  test('a failed job is let go too; with live metrics off (0) no job is handed over at all', async () => {
    const failing = trainingDeps(['Running', 'Failed'], 120);
    await expect(
      new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 }).run(makeAwaitPipeline(failing.deps), 'job-1'),
    ).rejects.toThrow(/ended Failed/);
    expect(failing.released).toEqual(['job-1']);
    const off = trainingDeps(['Running', 'Running', 'Completed'], 0);
    await expect(
      new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 }).run(makeAwaitPipeline(off.deps), 'job-1'),
    ).resolves.toEqual({ jobName: 'job-1', status: 'Completed', studioUrl: 'https://ml.azure.com/runs/job-1' });
    expect(off.followed).toEqual([]);
  });
});
