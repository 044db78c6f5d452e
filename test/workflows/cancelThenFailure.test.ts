// Issue 13 item 5, "a cancel that stays a cancel": a run whose cancellation was requested while a step ran
// closes CANCELLED (after its cleanup) whatever that step reports afterwards: a heartbeat timeout (its worker
// hung or died before it acknowledged the cancel), a start-to-close timeout, or any other activity failure.
// A failure that came before the cancel request stays a failure. Fast: the workflow runs on the test stack's
// Temporal server with mocked activities; a "dead worker" is an activity that saw the cancel, ignored it and
// stopped heartbeating, so the server times it out as it would after a SIGKILL (test/faults/cancelThenKill
// does the same with real worker processes).
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { FineTuneActivities } from '../../src/activities';
import { FineTuneClient } from '../../src/client';
import type { StagedSplit } from '../../src/activities/types';
import type { StepName } from '../../src/workflows/definitions';
import { workerOptions } from '../../src/worker';
import { temporalAddress, waitFor } from '../helpers/localStack';
import { awaitHistory, historyOf, stepAttempts } from '../helpers/runRecords';

/** Heartbeating steps are timed out after 1 s of silence; the quick ones after 5 s. */
const OPTIONS = { heartbeatTimeoutSeconds: 1, quickStepTimeoutSeconds: 5 };

class Deferred {
  done = false;
  private settle!: () => void;
  readonly promise = new Promise<void>((resolve) => (this.settle = resolve));
  resolve(): void {
    this.done = true;
    this.settle();
  }
}

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
/** Every activity called, by run id, in order. */
const calls = new Map<string, string[]>();

const split = (name: string): StagedSplit => ({
  split: name,
  uri: `azureml://datastores/workspaceblobstore/paths/${name}.jsonl`,
  blobPath: `${name}.jsonl`,
  sourceRows: 10,
  rows: 10,
  bytes: 100,
  sha256: '0'.repeat(64),
  invalid: { count: 0, byReason: {}, examples: [] },
  reused: false,
});

/** Canned results: what each step returns when nothing is planned for it. */
const canned = {
  authenticate: async () => ({ workspace: 'ws', location: 'eastus2', credentialKind: 'clientSecret' as const }),
  resolveModel: async () => ({
    registry: 'azureml',
    name: 'Phi-3-mini-4k-instruct',
    version: '1',
    assetId: 'azureml://registries/azureml/models/Phi-3-mini-4k-instruct/versions/1',
    lifecycleDates: {},
  }),
  stageDataset: async () => ({
    revision: 'r1',
    contentKey: 'k1',
    train: split('train_sft'),
    test: split('test_sft'),
    scoring: split('test_gen'),
  }),
  validateCompute: async () => ({
    name: 'gpu',
    vmSize: 'Standard_NC24ads_A100_v4',
    gpusPerNode: 1,
    created: false,
    warnings: [],
  }),
  submitPipeline: async (input: { names: { jobName: string } }) => ({
    jobName: input.names.jobName,
    componentId: 'chat_completion_pipeline',
    displayName: 'job',
    parameters: {},
    warnings: [],
    adopted: false,
  }),
  awaitPipeline: async (jobName: string) => ({ jobName, status: 'Completed' }),
  cancelPipeline: async (jobName: string) => ({ jobName, status: 'Canceled' }),
  collectMetrics: async () => ({ metrics: { train_loss: 1, eval_loss: 1 }, runsSeen: 1 }),
  registerModel: async (input: { modelName: string; version: string }) => ({
    name: input.modelName,
    version: input.version,
    id: `/models/${input.modelName}/versions/${input.version}`,
    adopted: false,
  }),
  deployEndpoint: async (input: { endpointName: string }) => ({
    endpointName: input.endpointName,
    deploymentName: 'default',
    scoringUri: `https://${input.endpointName}.example/score`,
    adopted: false,
  }),
  smokeScore: async () => ({ promptPreview: 'hi', replyPreview: 'hello', replyChars: 5, latencyMs: 1 }),
  deleteEndpoint: async (endpointName: string) => ({ endpointName, existed: true, deleted: true }),
};

const CLEANUPS = ['cancelPipeline', 'deleteEndpoint'];

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

function mocked(name: keyof typeof canned): (...args: any[]) => Promise<any> {
  const real = canned[name] as (...args: any[]) => Promise<any>;
  return async (...args: any[]) => {
    const runId = Context.current().info.workflowExecution?.workflowId ?? '';
    calls.set(runId, [...(calls.get(runId) ?? []), name]);
    const plan = plans.get(runId);
    if (plan && CLEANUPS.includes(name)) plan.cleanupStarted.resolve();
    if (
      (plan?.mode === 'fail-before-cancel' || plan?.mode === 'cancel-during-final-delete') &&
      name === 'deleteEndpoint'
    ) {
      // The cancel comes while the endpoint is deleted, after the run's outcome was decided (not cancellable).
      if (plan.step === name) plan.entered.resolve();
      await plan.cancelRecorded.promise;
      return real(...args);
    }
    if (!plan || plan.step !== name || Context.current().info.attempt > 1) return real(...args);
    plan.entered.resolve();
    if (plan.mode === 'fail-before-cancel')
      throw ApplicationFailure.nonRetryable(`${name}: quota exceeded`, 'QuotaExceeded');
    await untilCancelled(plan);
    if (plan.mode === 'fail-after-cancel')
      throw ApplicationFailure.retryable(`${name}: Azure answered 503 after the cancel`, 'ServiceUnavailable');
    // Ignore the cancel and go silent, as a dead worker does: the server times the attempt out.
    await plan.release.promise;
    return real(...args);
  };
}

const activities = Object.fromEntries(
  (Object.keys(canned) as (keyof typeof canned)[]).map((name) => [name, mocked(name)]),
) as unknown as Partial<FineTuneActivities>;

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
  let env: TestWorkflowEnvironment;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let client: FineTuneClient;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: temporalAddress() });
    const taskQueue = `cancel-then-failure-${randomUUID()}`;
    connection = await NativeConnection.connect({ address: temporalAddress() });
    worker = await Worker.create({
      connection,
      ...workerOptions({ address: temporalAddress(), namespace: 'default', taskQueue }, activities),
      shutdownGraceTime: '1 second',
    });
    running = worker.run();
    client = await FineTuneClient.connect({ client: env.client, taskQueue });
  }, 60_000);

  afterAll(async () => {
    for (const plan of plans.values()) plan.release.resolve();
    worker?.shutdown();
    await running;
    await connection?.close();
    await env?.teardown();
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
    const started = Date.now();
    try {
      const run = await client.start({}, { idempotencyKey: key, options: OPTIONS });
      await waitFor(`${step} to be entered`, async () => (plan.entered.done ? true : undefined), 30_000);
      if (mode === 'fail-before-cancel' || mode === 'cancel-during-final-delete')
        await waitFor('the cleanup to start', async () => (plan.cleanupStarted.done ? true : undefined), 30_000);
      await client.handle(run.runId).cancel();
      // The workflow's own request to cancel the step (none for a cleanup step: it is not cancellable).
      await awaitHistory(env.client, run.runId, 'the run to act on the cancel request', (events) =>
        mode === 'fail-before-cancel' || mode === 'cancel-during-final-delete'
          ? events.some((e) => e.workflowExecutionCancelRequestedEventAttributes)
          : events.some((e) => e.activityTaskCancelRequestedEventAttributes),
      );
      plan.cancelRecorded.resolve();
      const error = await client.result(run.runId).then(
        () => undefined,
        (err: unknown) => err,
      );
      const events = await historyOf(env.client, run.runId);
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

  function expectCancelled(r: Awaited<ReturnType<typeof runPlanned>>, step: StepName, cleanups: string[]) {
    expect(r.error).toBeInstanceOf(WorkflowFailedError);
    expect((r.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(r.status).toBe('CANCELLED');
    expect(r.events.at(-1)?.workflowExecutionCanceledEventAttributes).toBeTruthy();
    expect(r.progress).toMatchObject({ status: 'cancelled', outcome: 'cancelled' });
    expect(r.progress.steps.find((s) => s.name === step)?.status).toBe('cancelled');
    // Cleanup ran before the run closed: a submitted job is cancelled, an endpoint deleted.
    const ran = calls.get(r.run.runId) ?? [];
    expect(ran.filter((c) => CLEANUPS.includes(c))).toEqual(cleanups);
  }

  const report: string[] = [];
  afterAll(() => process.stderr.write(`[cancelThenFailure]\n  ${report.join('\n  ')}\n`));

  // Every step the workflow runs with a heartbeat timeout; submitPipeline (no heartbeat) waits for its
  // cancellation too. awaitPipeline is abandoned on cancel (TRY_CANCEL): the workflow never waits for it.
  test.each<[StepName, string[]]>([
    ['stageDataset', []],
    ['validateCompute', []],
    ['awaitPipeline', ['cancelPipeline']],
    ['deployEndpoint', ['deleteEndpoint']],
    ['smokeScore', ['deleteEndpoint']],
  ])(
    'cancelled while %s runs, which then hangs and times out on heartbeat: the run closes CANCELLED after its cleanup',
    async (step, cleanups) => {
      const r = await runPlanned(step, 'hang-after-cancel');
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

  test.each<[StepName, boolean, string[]]>([
    ['submitPipeline', false, ['cancelPipeline']],
    ['deployEndpoint', true, ['deleteEndpoint']],
  ])(
    'cancelled while %s runs, which then fails with a retryable error: the run closes CANCELLED, the step is not retried',
    async (step, heartbeats, cleanups) => {
      const r = await runPlanned(step, 'fail-after-cancel', heartbeats);
      report.push(`${step} fail-after-cancel: ${r.status} in ${r.seconds.toFixed(1)} s`);
      expectCancelled(r, step, cleanups);
      expectUnacknowledgedAfterRequest(r.events, step, 'failed');
      expect(r.progress.steps.find((s) => s.name === step)?.detail).toContain('Azure answered 503 after the cancel');
    },
  );

  test('a failure before the cancel request stays a failure: the cancel during its cleanup changes nothing', async () => {
    const r = await runPlanned('deployEndpoint', 'fail-before-cancel');
    report.push(`deployEndpoint fail-before-cancel: ${r.status} in ${r.seconds.toFixed(1)} s`);
    expect(r.error).toBeInstanceOf(WorkflowFailedError);
    expect((r.error as WorkflowFailedError).cause).not.toBeInstanceOf(CancelledFailure);
    expect(r.status).toBe('FAILED');
    expect(r.progress).toMatchObject({ status: 'failed', outcome: 'failed' });
    expect(r.progress.error).toContain('quota exceeded');
    expect(calls.get(r.run.runId)?.filter((c) => CLEANUPS.includes(c))).toEqual(['deleteEndpoint']);
  });

  test('a cancel that comes while a succeeded run deletes its endpoint changes nothing: the run succeeds', async () => {
    const r = await runPlanned('deleteEndpoint', 'cancel-during-final-delete');
    report.push(`deleteEndpoint cancel-during-final-delete: ${r.status} in ${r.seconds.toFixed(1)} s`);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('COMPLETED');
    expect(r.progress).toMatchObject({ status: 'succeeded', outcome: 'succeeded' });
    expect(calls.get(r.run.runId)?.filter((c) => CLEANUPS.includes(c))).toEqual(['deleteEndpoint']);
  });
});
