// The job watcher over a fake Jobs API: followers hear back only when their job's status changes, a wake
// reads the named job at once (a duplicate or stale event costs nothing or one read), and with push on
// polling falls back to its slow floor.
import type { JobBase } from '@azure/arm-machinelearning';
import { JobWatcher } from '../../src/azure/jobWatcher';

function fakeArm(statuses: Map<string, string>) {
  const calls = { gets: 0, pages: 0 };
  const job = (name: string): JobBase =>
    ({ name, properties: { jobType: 'Pipeline', status: statuses.get(name) } }) as JobBase;
  return {
    calls,
    arm: {
      jobs: {
        get: async (_rg: string, _ws: string, name: string) => {
          calls.gets += 1;
          if (!statuses.has(name)) throw Object.assign(new Error('not found'), { statusCode: 404 });
          return job(name);
        },
        list: () => ({
          byPage: async function* () {
            calls.pages += 1;
            yield [...statuses.keys()].map(job);
          },
        }),
      },
    } as never,
  };
}

const options = { resourceGroup: 'rg', workspace: 'ws', tag: 't', readsPerSecond: 100, wakeDelayMs: 5 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a follower hears back only when the status differs from the one it knows', async () => {
  const statuses = new Map([['j1', 'Running']]);
  const { arm, calls } = fakeArm(statuses);
  const watcher = new JobWatcher(arm, { ...options, minIntervalMs: 20 });
  let heard: string | undefined;
  const waiting = watcher.next('j1', undefined, 'Running').then((j) => (heard = j.properties.status));
  await sleep(120);
  expect(heard).toBeUndefined();
  expect(calls.gets).toBeGreaterThanOrEqual(2);
  statuses.set('j1', 'Completed');
  await waiting;
  expect(heard).toBe('Completed');
  expect(watcher.followed).toBe(0);
});

test('with push on, polling slows to its fallback floor and a wake reads the job at once', async () => {
  const statuses = new Map([['j1', 'Running']]);
  const { arm, calls } = fakeArm(statuses);
  const watcher = new JobWatcher(arm, { ...options, minIntervalMs: 20, pushMinIntervalMs: 60_000 });
  watcher.setPushing(true);
  const waiting = watcher.next('j1', undefined, 'Running');
  await sleep(150);
  const readsWhileQuiet = calls.gets;
  // One polling cycle at the start, then quiet: the fallback floor is a minute.
  expect(readsWhileQuiet).toBe(1);
  statuses.set('j1', 'Completed');
  const woken = Date.now();
  expect(watcher.wake('j1', 'Completed')).toBe(true);
  expect((await waiting).properties.status).toBe('Completed');
  expect(Date.now() - woken).toBeLessThan(1000);
  expect(watcher.cycles.at(-1)).toMatchObject({ kind: 'wake', jobs: 1, mode: 'get', reads: 1 });
});

test('duplicate, stale and foreign events cost nothing; a reordered one at most a read', async () => {
  const statuses = new Map([
    ['j1', 'Running'],
    ['j2', 'Running'],
  ]);
  const { arm, calls } = fakeArm(statuses);
  const watcher = new JobWatcher(arm, { ...options, minIntervalMs: 20, pushMinIntervalMs: 60_000 });
  watcher.setPushing(true);
  const w1 = watcher.next('j1', undefined, 'Running');
  await sleep(50);
  const before = calls.gets;
  expect(watcher.wake('not-followed', 'Completed')).toBe(false);
  // The status the last read showed: nothing new.
  expect(watcher.wake('j1', 'Running')).toBe(false);
  expect(calls.gets).toBe(before);
  // A late "Finalizing" (the job already completed): one read, which finds Completed.
  statuses.set('j1', 'Completed');
  expect(watcher.wake('j1', 'Finalizing')).toBe(true);
  expect(watcher.wake('j1', 'Finalizing')).toBe(true);
  expect((await w1).properties.status).toBe('Completed');
  expect(calls.gets).toBe(before + 1);
  // After the follower left, the same event again is ignored.
  expect(watcher.wake('j1', 'Completed')).toBe(false);
});

test('losing the relay brings polling back to the fast floor', async () => {
  const statuses = new Map([['j1', 'Running']]);
  const { arm, calls } = fakeArm(statuses);
  const watcher = new JobWatcher(arm, { ...options, minIntervalMs: 20, pushMinIntervalMs: 60_000 });
  watcher.setPushing(true);
  const waiting = watcher.next('j1', undefined, 'Running');
  await sleep(80);
  expect(calls.gets).toBe(1);
  watcher.setPushing(false);
  statuses.set('j1', 'Failed');
  expect((await waiting).properties.status).toBe('Failed');
});

test('a read error rejects the followers of that job', async () => {
  const { arm } = fakeArm(new Map());
  const watcher = new JobWatcher(arm, { ...options, minIntervalMs: 20 });
  await expect(watcher.next('missing', undefined, 'Running')).rejects.toMatchObject({ statusCode: 404 });
});
