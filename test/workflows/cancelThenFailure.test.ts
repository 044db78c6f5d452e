// Issue 13 item 5, "a cancel that stays a cancel": a run whose cancellation was requested while a step ran
// closes CANCELLED (after its cleanup) whatever that step reports afterwards: a heartbeat timeout (its worker
// hung or died before it acknowledged the cancel), a start-to-close timeout, or any other activity failure.
// A failure that came before the cancel request stays a failure. Fast and stack-free: the workflow runs on a
// throw-away dev server (test/helpers/workflowEnv.ts) with mocked activities (test/helpers/mockedActivities.ts);
// a "dead worker" is an activity that saw the cancel, ignored it and stopped heartbeating, so the server times
// it out as it would after a SIGKILL (test/faults/cancelThenKill.stack.test.ts does the same with real worker processes).
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { StepName } from '../../src/workflows/definitions';
import { waitFor } from '../helpers/localStack';
import { CLEANUPS, Deferred, MockedActivities } from '../helpers/mockedActivities';
import { awaitHistory, historyOf, stepAttempts } from '../helpers/runRecords';
import { startWorkflowEnv, type WorkflowTestEnv } from '../helpers/workflowEnv';

/** Heartbeating steps are timed out after 1 s of silence; the quick ones after 5 s. */
const OPTIONS = { heartbeatTimeoutSeconds: 1, quickStepTimeoutSeconds: 5 };

/**
 * What the planned step does. `hang-after-cancel`: heartbeats until the cancel reaches it, then ignores it
 * and goes silent (a hung or dead worker: the server times it out). `fail-after-cancel`: once the cancel is
 * recorded, fails with a retryable error (Azure's 503 landing after the request). `fail-before-cancel`: fails
 * for good at once, and the cancel comes while the cleanup runs. `cancel-during-final-delete`: every step
 * succeeds, and the cancel comes while the last step, the endpoint's deletion, runs.
 */
type Mode = 'hang-after-cancel' | 'fail-after-cancel' | 'fail-before-cancel' | 'cancel-during-final-delete';

interface Plan {
  step: StepName;
  mode: Mode;
  /** Heartbeats while it waits (the steps the workflow runs with a heartbeat timeout do). */
  heartbeats: boolean;
  entered: Deferred;
  /** Set by the test once the history records the workflow's request to cancel this step. */
  cancelRecorded: Deferred;
  /** Set by the test once the run has closed: a hung attempt may return (the server ignores it). */
  release: Deferred;
  /** Set once the first cleanup activity starts (fail-before-cancel: the cancel comes then). */
  cleanupStarted: Deferred;
  /** The step saw the cancel (through its heartbeat) and ignored it. */
  cancelSeen: boolean;
}

const plans = new Map<string, Plan>();
/** Every activity of every run: canned results, a record of the calls, and each run's plan (runPlanned). */
const mocks = new MockedActivities();

/** Waits, heartbeating when the step does, until the cancel reaches it (heartbeat) or is recorded (no heartbeat). */
async function untilCancelled(plan: Plan): Promise<void> {
  const ctx = Context.current();
  if (!plan.heartbeats) return plan.cancelRecorded.promise;
  try {
    for (;;) {
      ctx.heartbeat({ waiting: plan.step });
      await ctx.sleep(100);
    }
  } catch (err) {
    if (!(err instanceof CancelledFailure)) throw err;
    plan.cancelSeen = true;
  }
}

/**
 * The run's script: every activity returns its canned result except the planned step's first attempt (and,
 * for the modes whose cancel comes during the cleanup, the endpoint's deletion), which does what the mode says.
 */
function script(runId: string, plan: Plan): void {
  const run = mocks.run(runId);
  run.onCall((call) => {
    if (CLEANUPS.includes(call.activity)) plan.cleanupStarted.resolve();
  });
  const cancelDuringDelete = plan.mode === 'fail-before-cancel' || plan.mode === 'cancel-during-final-delete';
  if (cancelDuringDelete) {
    // The cancel comes while the endpoint is deleted, after the run's outcome was decided (not cancellable).
    run.override('deleteEndpoint', async (call) => {
      if (plan.step === 'deleteEndpoint') plan.entered.resolve();
      await plan.cancelRecorded.promise;
      return call.canned();
    });
    if (plan.step === 'deleteEndpoint') return;
  }
  run.override(plan.step, async (call) => {
    if (call.attempt > 1) return call.canned();
    plan.entered.resolve();
    if (plan.mode === 'fail-before-cancel')
      throw ApplicationFailure.nonRetryable(`${plan.step}: quota exceeded`, 'QuotaExceeded');
    await untilCancelled(plan);
    if (plan.mode === 'fail-after-cancel')
      throw ApplicationFailure.retryable(`${plan.step}: Azure answered 503 after the cancel`, 'ServiceUnavailable');
    // Ignore the cancel and go silent, as a dead worker does: the server times the attempt out.
    await plan.release.promise;
    return call.canned();
  });
}

type HistoryEvent = Awaited<ReturnType<typeof historyOf>>[number];

function eventIdOf(events: HistoryEvent[], has: (e: HistoryEvent) => unknown): number | undefined {
  const e = events.find((x) => has(x));
  return e ? Number(e.eventId) : undefined;
}

/** The scheduled event id of the step's (only) activity. */
function scheduledIdOf(events: HistoryEvent[], step: string): number | undefined {
  return eventIdOf(events, (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === step);
}

describe('a cancel stays a cancel whatever the step reports after the request', () => {
  let t: WorkflowTestEnv;
  let client: WorkflowTestEnv['client'];

  // Every step the workflow runs with a heartbeat timeout; submitPipeline (no heartbeat) waits for its
  // cancellation too. awaitPipeline is abandoned on cancel (TRY_CANCEL): the workflow never waits for it.
  const HANGS: [StepName, string[]][] = [
    ['stageDataset', []],
    ['validateCompute', []],
    ['awaitPipeline', ['cancelPipeline']],
    ['deployEndpoint', ['deleteEndpoint']],
    ['smokeScore', ['deleteEndpoint']],
  ];
  const FAILS_AFTER_CANCEL: [StepName, boolean, string[]][] = [
    ['submitPipeline', false, ['cancelPipeline']],
    ['deployEndpoint', true, ['deleteEndpoint']],
  ];

  beforeAll(async () => {
    t = await startWorkflowEnv('cancel-then-failure');
    client = t.client;
    await t.startWorker(mocks.activities);
    // The runs are independent (one run id, plan and script each): all of them at once, each test awaits its own.
    for (const [step] of HANGS) void settled(step, 'hang-after-cancel');
    for (const [step, heartbeats] of FAILS_AFTER_CANCEL) void settled(step, 'fail-after-cancel', heartbeats);
    void settled('deployEndpoint', 'fail-before-cancel');
    void settled('deleteEndpoint', 'cancel-during-final-delete');
  }, 60_000);

  afterAll(async () => {
    for (const plan of plans.values()) plan.release.resolve();
    mocks.releaseAll();
    await t?.teardown();
  });

  async function runPlanned(step: StepName, mode: Mode, heartbeats = true) {
    const key = `cancel-then-${mode}-${step}-${randomUUID().slice(0, 8)}`;
    const runId = `ft-${key}`;
    const plan: Plan = {
      step,
      mode,
      heartbeats,
      entered: new Deferred(),
      cancelRecorded: new Deferred(),
      release: new Deferred(),
      cleanupStarted: new Deferred(),
      cancelSeen: false,
    };
    plans.set(runId, plan);
    script(runId, plan);
    const started = Date.now();
    try {
      const run = await client.start({}, { idempotencyKey: key, options: OPTIONS });
      await waitFor(`${step} to be entered`, async () => (plan.entered.done ? true : undefined), 30_000);
      if (mode === 'fail-before-cancel' || mode === 'cancel-during-final-delete')
        await waitFor('the cleanup to start', async () => (plan.cleanupStarted.done ? true : undefined), 30_000);
      await client.handle(run.runId).cancel();
      // The workflow's own request to cancel the step (none for a cleanup step: it is not cancellable).
      await awaitHistory(t.env.client, run.runId, 'the run to act on the cancel request', (events) =>
        mode === 'fail-before-cancel' || mode === 'cancel-during-final-delete'
          ? events.some((e) => e.workflowExecutionCancelRequestedEventAttributes)
          : events.some((e) => e.activityTaskCancelRequestedEventAttributes),
      );
      plan.cancelRecorded.resolve();
      const error = await client.result(run.runId).then(
        () => undefined,
        (err: unknown) => err,
      );
      const events = await historyOf(t.env.client, run.runId);
      const progress = await client.progress(run.runId);
      const status = (await client.handle(run.runId).describe()).status.name;
      return { run, plan, error, events, progress, status, seconds: (Date.now() - started) / 1000 };
    } finally {
      plan.release.resolve();
    }
  }

  /** The step's attempt ended without acknowledging the cancel, after the request: timed out or failed. */
  function expectUnacknowledgedAfterRequest(events: HistoryEvent[], step: string, ended: 'timedOut' | 'failed') {
    const attempts = stepAttempts(events).filter((a) => a.step === step);
    expect(attempts.map((a) => a.outcome)).toEqual([ended]);
    const scheduled = scheduledIdOf(events, step);
    const cancelRequested = eventIdOf(
      events,
      (e) => Number(e.activityTaskCancelRequestedEventAttributes?.scheduledEventId) === scheduled,
    );
    const end = eventIdOf(
      events,
      (e) =>
        Number((e.activityTaskTimedOutEventAttributes ?? e.activityTaskFailedEventAttributes)?.scheduledEventId) ===
        scheduled,
    );
    expect(cancelRequested).toBeDefined();
    expect(end).toBeGreaterThan(cancelRequested!);
    if (ended === 'timedOut') {
      const timedOut = events.find(
        (e) => Number(e.activityTaskTimedOutEventAttributes?.scheduledEventId) === scheduled,
      );
      expect(timedOut?.activityTaskTimedOutEventAttributes?.failure?.message).toMatch(/heartbeat/i);
    }
  }

  type Planned = Awaited<ReturnType<typeof runPlanned>>;
  type Settled = { ok: true; value: Planned } | { ok: false; error: unknown };
  const runs = new Map<string, Promise<Settled>>();

  /** runPlanned once per step and mode, started by beforeAll; never rejects (so never unhandled). */
  function settled(step: StepName, mode: Mode, heartbeats = true): Promise<Settled> {
    const key = `${step}/${mode}`;
    let run = runs.get(key);
    if (!run) {
      run = runPlanned(step, mode, heartbeats).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      runs.set(key, run);
    }
    return run;
  }

  /** The planned run's outcome (the test's own run, already under way). */
  async function planned(step: StepName, mode: Mode, heartbeats = true): Promise<Planned> {
    const s = await settled(step, mode, heartbeats);
    if (!s.ok) throw s.error;
    return s.value;
  }

  function expectCancelled(r: Planned, step: StepName, cleanups: string[]) {
    expect(r.error).toBeInstanceOf(WorkflowFailedError);
    expect((r.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(r.status).toBe('CANCELLED');
    expect(r.events.at(-1)?.workflowExecutionCanceledEventAttributes).toBeTruthy();
    expect(r.progress).toMatchObject({ status: 'cancelled', outcome: 'cancelled' });
    expect(r.progress.steps.find((s) => s.name === step)?.status).toBe('cancelled');
    // Cleanup ran before the run closed: a submitted job is cancelled, an endpoint deleted.
    const ran = mocks.run(r.run.runId).names();
    expect(ran.filter((c) => CLEANUPS.includes(c))).toEqual(cleanups);
  }

  const report: string[] = [];
  afterAll(() => process.stderr.write(`[cancelThenFailure]\n  ${report.join('\n  ')}\n`));

  test.each<[StepName, string[]]>(HANGS)(
    'cancelled while %s runs, which then hangs and times out on heartbeat: the run closes CANCELLED after its cleanup',
    async (step, cleanups) => {
      const r = await planned(step, 'hang-after-cancel');
      report.push(`${step} hang-after-cancel: ${r.status} in ${r.seconds.toFixed(1)} s`);
      expectCancelled(r, step, cleanups);
      // The workflow does not wait for the follower it abandons: the run may close before the cancel reaches it.
      if (step === 'awaitPipeline') return;
      expect(r.plan.cancelSeen).toBe(true);
      expectUnacknowledgedAfterRequest(r.events, step, 'timedOut');
      // The run's record still says what the step did after the request.
      expect(r.progress.steps.find((s) => s.name === step)?.detail).toMatch(/heartbeat timeout/i);
    },
  );

  test.each<[StepName, boolean, string[]]>(FAILS_AFTER_CANCEL)(
    'cancelled while %s runs, which then fails with a retryable error: the run closes CANCELLED, the step is not retried',
    async (step, heartbeats, cleanups) => {
      const r = await planned(step, 'fail-after-cancel', heartbeats);
      report.push(`${step} fail-after-cancel: ${r.status} in ${r.seconds.toFixed(1)} s`);
      expectCancelled(r, step, cleanups);
      expectUnacknowledgedAfterRequest(r.events, step, 'failed');
      expect(r.progress.steps.find((s) => s.name === step)?.detail).toContain('Azure answered 503 after the cancel');
    },
  );

  test('a failure before the cancel request stays a failure: the cancel during its cleanup changes nothing', async () => {
    const r = await planned('deployEndpoint', 'fail-before-cancel');
    report.push(`deployEndpoint fail-before-cancel: ${r.status} in ${r.seconds.toFixed(1)} s`);
    expect(r.error).toBeInstanceOf(WorkflowFailedError);
    expect((r.error as WorkflowFailedError).cause).not.toBeInstanceOf(CancelledFailure);
    expect(r.status).toBe('FAILED');
    expect(r.progress).toMatchObject({ status: 'failed', outcome: 'failed' });
    expect(r.progress.error).toContain('quota exceeded');
    expect(
      mocks
        .run(r.run.runId)
        .names()
        .filter((c) => CLEANUPS.includes(c)),
    ).toEqual(['deleteEndpoint']);
  });

  test('a cancel that comes while a succeeded run deletes its endpoint changes nothing: the run succeeds', async () => {
    const r = await planned('deleteEndpoint', 'cancel-during-final-delete');
    report.push(`deleteEndpoint cancel-during-final-delete: ${r.status} in ${r.seconds.toFixed(1)} s`);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('COMPLETED');
    expect(r.progress).toMatchObject({ status: 'succeeded', outcome: 'succeeded' });
    expect(
      mocks
        .run(r.run.runId)
        .names()
        .filter((c) => CLEANUPS.includes(c)),
    ).toEqual(['deleteEndpoint']);
  });
});
