// The job event relay (src/workflows/jobEventRelay.ts) between the API's publisher and the workers' feeds,
// on a throw-away dev server: every event reaches every worker once and in order, also across the relay's
// continue-as-new; a worker that starts late hears only what comes after it; one that fell behind the
// window is told to poll everything.
import { JobEventFeed } from '../../src/activities/jobEventFeed';
import { jobEventRelayId, type JobEvent } from '../../src/config/jobEvents';
import { JobEventPublisher } from '../../src/control/jobEventRelay';
import { waitFor } from '../helpers/localStack';
import { startWorkflowEnv, type RunningWorker, type WorkflowTestEnv } from '../helpers/workflowEnv';

let t: WorkflowTestEnv;
let worker: RunningWorker;

beforeAll(async () => {
  t = await startWorkflowEnv('relay');
  worker = await t.startWorker({});
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await t?.teardown();
});

/** A stand-in for the job watcher that records what the feed gives it. */
function recorder() {
  const woken: JobEvent[] = [];
  let polls = 0;
  let pushing = false;
  return {
    woken,
    get polls() {
      return polls;
    },
    get pushing() {
      return pushing;
    },
    watcher: {
      wake: (jobName: string, status?: string) => {
        woken.push({ jobName, ...(status !== undefined ? { status } : {}) });
        return true;
      },
      pollSoon: () => {
        polls += 1;
      },
      setPushing: (on: boolean) => {
        pushing = on;
      },
    },
  };
}

const until = (what: string, ok: () => boolean, timeoutMs = 60_000) =>
  waitFor(what, async () => (ok() ? true : undefined), timeoutMs);

test('every event reaches every worker once, in order, across continue-as-new', async () => {
  const taskQueue = t.taskQueue;
  // A relay that continues as new every ~40 history events, so the batches cross it a few times.
  const started = await t.env.client.workflow.start('jobEventRelay', {
    taskQueue,
    workflowId: jobEventRelayId(taskQueue),
    args: [{ seq: 0, events: [], historyLimit: 40 }],
  });
  const publisher = new JobEventPublisher(t.env.client, taskQueue, { batchMs: 1 });
  const a = recorder();
  const b = recorder();
  const feeds = [a, b].map((r) => new JobEventFeed(async () => t.env.client, r.watcher, taskQueue));
  feeds.forEach((f) => f.start());
  try {
    await until('both feeds reach the relay', () => a.pushing && b.pushing);
    const sent: JobEvent[] = [];
    for (let i = 0; i < 30; i++) {
      const batch = [{ jobName: `job-${i}`, status: i % 2 ? 'Completed' : 'Running' }];
      sent.push(...batch);
      await publisher.publish(batch);
    }
    await until('both feeds have every event', () => a.woken.length >= sent.length && b.woken.length >= sent.length);
    expect(a.woken).toEqual(sent);
    expect(b.woken).toEqual(sent);
    const first = await t.env.client.workflow
      .getHandle(jobEventRelayId(taskQueue), started.firstExecutionRunId)
      .describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');

    // A worker that starts now hears only what comes after it.
    const late = recorder();
    const lateFeed = new JobEventFeed(async () => t.env.client, late.watcher, taskQueue);
    lateFeed.start();
    feeds.push(lateFeed);
    await until('the late feed reaches the relay', () => late.pushing);
    await publisher.publish([{ jobName: 'after-late', status: 'Completed' }]);
    await until('the late feed has the new event', () => late.woken.length >= 1);
    expect(late.woken).toEqual([{ jobName: 'after-late', status: 'Completed' }]);

    // A cursor behind the relay's window (2,000 events) is told to poll everything.
    await publisher.publish(Array.from({ length: 2100 }, (_, i) => ({ jobName: `bulk-${i}` })));
    const reply = await t.env.client.workflow
      .getHandle(jobEventRelayId(taskQueue))
      .executeUpdate<{ gap: boolean; events: unknown[] }, [{ after: number }]>('nextJobEvents', {
        args: [{ after: 1 }],
      });
    expect(reply.gap).toBe(true);
    expect(reply.events).toHaveLength(2000);
  } finally {
    const stopped = feeds.map((f) => f.stop());
    // Wakes the feeds' waiting updates so their loops see the stop; none may outlive the test's server.
    await publisher.publish([{ jobName: 'stop' }]);
    await Promise.all(stopped);
  }
}, 120_000);
