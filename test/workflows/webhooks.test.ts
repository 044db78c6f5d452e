// Webhooks never fail or delay a run (mocked activities on a throw-away dev server): every receiver answers
// 500, or never answers at all, and the run still succeeds, in about the time the same run takes when its
// receivers answer 200 at once; its notifications go on retrying after it closed (parent-close policy ABANDON)
// until they give up, and each attempt is in the run's events. A run without webhooks keeps the history it had
// before webhooks existed (no patch marker, no extra activity), and a cancelled run still sends run.cancelled.
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { WEBHOOK_EVENT_TYPES, subscribedEvents } from '../../src/runSpec/notifications';
import { parseRunSpec, type RunSpecInput } from '../../src/runSpec/schema';
import type { FineTuneInput } from '../../src/workflows/definitions';
import type { DeliveryAttempt, WebhookTarget } from '../../src/webhooks/events';
import { MockedActivities, cannedActivities } from '../helpers/mockedActivities';
import { historyOf } from '../helpers/runRecords';
import { startWorkflowEnv, type WorkflowTestEnv } from '../helpers/workflowEnv';

/** Fast retries: 200 ms, then x2, at most 1 s apart, none after 3 s. */
const SCHEDULE = { firstDelayMs: 200, factor: 2, maxDelayMs: 1000, giveUpAfterMs: 3000 };
const HOOK = 'https://93.184.216.34/hook';

type Behaviour = 'ok' | 'fail' | 'hang';
/** What the receivers of a run do, by run id (the notification's input names its run). */
const behaviour = new Map<string, Behaviour>();
const attempts: { runId: string; messageId: string; label: string }[] = [];

const mocks = new MockedActivities({
  ...cannedActivities,
  webhookAudience: async () => [...WEBHOOK_EVENT_TYPES],
  webhookTargets: async (input) => ({
    targets: input.runWebhooks.flatMap((w, index): WebhookTarget[] =>
      subscribedEvents(w.events).includes(input.type)
        ? [{ ref: { kind: 'run', runId: input.runId, index }, url: w.url, label: `run:${index}` }]
        : [],
    ),
    schedule: SCHEDULE,
    attemptTimeoutMs: 1000,
  }),
  deliverWebhook: async (input): Promise<DeliveryAttempt> => {
    const runId = input.target.ref.kind === 'run' ? input.target.ref.runId : '';
    attempts.push({ runId, messageId: input.messageId, label: input.target.label });
    const sentAt = new Date().toISOString();
    switch (behaviour.get(runId) ?? 'ok') {
      case 'ok':
        return { outcome: 'delivered', status: 200, durationMs: 1, sentAt, signatures: 1 };
      case 'fail':
        return { outcome: 'failed', status: 500, durationMs: 1, sentAt, signatures: 1, error: 'answered 500' };
      case 'hang': {
        // A receiver that never answers: the attempt heartbeats until it is cancelled or the test ends.
        const ctx = Context.current();
        for (;;) {
          ctx.heartbeat();
          await ctx.sleep(200).catch((err: unknown) => {
            if (err instanceof CancelledFailure) throw err;
          });
        }
      }
    }
  },
});

let t: WorkflowTestEnv;

beforeAll(async () => {
  t = await startWorkflowEnv('webhooks');
  await t.startWorker(mocks.activities);
}, 120_000);

afterAll(async () => {
  mocks.releaseAll();
  await t?.teardown();
});

/** Starts a run straight on Temporal (as the client does, without the URL's DNS check). */
async function start(name: string, spec: RunSpecInput, receivers: Behaviour | undefined, owner?: string) {
  const runId = `ft-${name}-${randomUUID().slice(0, 8)}`;
  if (receivers) behaviour.set(runId, receivers);
  const input: FineTuneInput = { spec: parseRunSpec(spec), ...(owner ? { owner } : {}) };
  const started = Date.now();
  const handle = await t.env.client.workflow.start('fineTune', {
    taskQueue: t.taskQueue,
    workflowId: runId,
    args: [input],
  });
  return { runId, handle, started };
}

const withHooks: RunSpecInput = {
  notifications: { webhooks: [{ url: HOOK, events: [...WEBHOOK_EVENT_TYPES] }, { url: `${HOOK}/2` }] },
};

async function children(runId: string): Promise<{ id: string; type: string }[]> {
  const events = await historyOf(t.env.client, runId);
  return events
    .filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
    .map((e) => {
      const a = e.startChildWorkflowExecutionInitiatedEventAttributes!;
      expect(a.parentClosePolicy).toBe(2); // PARENT_CLOSE_POLICY_ABANDON
      return { id: a.workflowId!, type: a.workflowType!.name! };
    });
}

test('receivers that answer 500 or never answer neither fail nor delay the run; deliveries go on after it closed', async () => {
  const [ok, failing, hanging] = await Promise.all([
    start('hooks-ok', withHooks, 'ok'),
    start('hooks-fail', withHooks, 'fail'),
    start('hooks-hang', withHooks, 'hang'),
  ]);
  const took: Record<string, number> = {};
  for (const run of [ok, failing, hanging]) {
    const result = await run.handle.result();
    took[run.runId] = Date.now() - run.started;
    expect(result.status).toBe('succeeded');
  }
  // Each run notified the same events (one per step, started, succeeded, endpoint deleted): 14 children.
  for (const run of [ok, failing, hanging]) {
    const started = await children(run.runId);
    expect(started.every((c) => c.type === 'webhookNotification')).toBe(true);
    expect(started).toHaveLength(14);
  }
  // Not delayed: the runs whose receivers fail took about as long as the one whose receivers answer at once.
  process.stdout.write(`webhooks: run durations (ms) ${JSON.stringify(took)}\n`);
  // (The three share one worker, so the figures are noisy; the proof is below: the run closed while its first
  // delivery attempt still hung.)
  expect(took[failing.runId]).toBeLessThan(took[ok.runId] + 5000);
  expect(took[hanging.runId]).toBeLessThan(took[ok.runId] + 5000);
  const first = (await children(hanging.runId))[0]!;
  const stuck = await t.env.client.workflow.getHandle(first.id).describe();
  expect(stuck.status.name).toBe('RUNNING');
  expect(stuck.raw.pendingActivities?.map((a) => a.activityType?.name)).toEqual(['deliverWebhook', 'deliverWebhook']);

  // The run closed; its last notification is still retrying, then gives up after the schedule's 3 s.
  const last = (await children(failing.runId)).at(-1)!;
  const description = await t.env.client.workflow.getHandle(last.id).describe();
  expect(description.status.name).toBe('RUNNING');
  const report = await t.env.client.workflow.getHandle(last.id).result();
  expect(report.targets.map((x: { outcome: string }) => x.outcome)).toEqual(['gave-up', 'gave-up']);
  const mine = attempts.filter((a) => a.runId === failing.runId);
  const ids = new Set(mine.map((a) => a.messageId));
  expect(ids.size).toBe(14);
  // Every retry of one event carries the same message id: several attempts per id.
  expect(mine.length).toBeGreaterThan(ids.size * 2);

  // Each attempt is an event of the run, and so is giving up.
  const events = (await t.client.events(failing.runId, { limit: 500 })).data;
  const failed = events.filter((e) => e.type === 'webhook.failed');
  expect(failed.length).toBeGreaterThan(14);
  // The two endpoints' attempts run side by side: either may be recorded first.
  expect(failed.map((e) => e.message)).toContain(
    'webhook run.started to run:0 (93.184.216.34) failed: 500 in 1 ms (attempt 1)',
  );
  expect(events.filter((e) => e.type === 'webhook.gave_up').length).toBeGreaterThan(0);
  expect(events.find((e) => e.type === 'run.succeeded')).toBeDefined();
  expect(events.some((e) => e.step === 'webhookAudience')).toBe(false);
  const delivered = (await t.client.events(ok.runId, { limit: 500 })).data.filter(
    (e) => e.type === 'webhook.delivered',
  );
  // 14 events to the first endpoint (it names every event), 3 to the second (the default set: no step events).
  expect(delivered).toHaveLength(17);

  // The history replays (a worker restarted mid-run could carry on).
  await t.replay(failing.runId);
}, 120_000);

test('a run without webhooks keeps the history it had before: no patch marker, no webhook activity, no child', async () => {
  const plain = await start('no-hooks', {}, undefined);
  await plain.handle.result();
  const events = await historyOf(t.env.client, plain.runId);
  const patches = events
    .map((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data)
    .filter((d): d is Uint8Array => d instanceof Uint8Array)
    .map((d) => (JSON.parse(Buffer.from(d).toString('utf8')) as { id: string }).id);
  expect(patches.length).toBeGreaterThan(0);
  expect(patches).not.toContain('webhooks');
  expect(events.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);
  expect(mocks.run(plain.runId).names()).not.toContain('webhookAudience');
});

test('an owner key whose endpoints hear nothing: one question at the start, no notification', async () => {
  const runId = `ft-quiet-${randomUUID().slice(0, 8)}`;
  mocks.run(runId).override('webhookAudience', async () => []);
  const handle = await t.env.client.workflow.start('fineTune', {
    taskQueue: t.taskQueue,
    workflowId: runId,
    args: [{ spec: parseRunSpec({}), owner: 'ci-pipeline' } satisfies FineTuneInput],
  });
  await handle.result();
  expect(mocks.run(runId).callsOf('webhookAudience')).toHaveLength(1);
  expect(await children(runId)).toEqual([]);
});

test('a cancelled run still sends run.cancelled, and cancelling it cancels no notification', async () => {
  const run = await start('hooks-cancel', withHooks, 'ok');
  const blocker = mocks.run(run.runId).blockAt('awaitPipeline');
  await blocker.entered.promise;
  await run.handle.cancel();
  await expect(run.handle.result()).rejects.toThrow();
  // run.started, five steps, run.cancelled.
  const started = await children(run.runId);
  expect(started).toHaveLength(7);
  for (const c of started) {
    const report = await t.env.client.workflow.getHandle(c.id).result();
    expect(report.targets.map((x: { outcome: string }) => x.outcome)).toContain('delivered');
  }
  const events = (await t.client.events(run.runId, { limit: 500 })).data;
  expect(events.some((e) => e.type === 'webhook.delivered' && e.data?.event === 'run.cancelled')).toBe(true);
}, 60_000);
