// What the fineTune workflow does when each step fails or is cancelled, with mocked activities on a
// throw-away dev server (no local stack): docs/design.md, invariant 1. A submitted job is cancelled unless
// it finished, an endpoint that may exist is ALWAYS deleted, and nothing runs after the step that ended the
// run. Plus the run controls: the training budget, the quality gate and the endpoint's keep-alive.
//
// Every run of the file is started at once in beforeAll (they are independent: one run id each) and each
// test awaits its own; the assertions are on the activities the run called (the mock's record), on how
// the run closed and on its progress record, never on how long anything took.
import { ActivityFailure, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { FINETUNE_SEARCH_ATTRIBUTES as SA } from '../../src/config/searchAttributes';
import { deriveRunNames } from '../../src/runSpec/names';
import { parseRunSpec, type RunSpec, type RunSpecInput } from '../../src/runSpec/schema';
import { STEPS, type FineTuneResult, type RunProgress, type StepName } from '../../src/workflows/definitions';
import type { fineTune } from '../../src/workflows/fineTune';
import { waitFor } from '../helpers/localStack';
import {
  CLEANUPS,
  MockedActivities,
  type ActivityName,
  type Blocker,
  type RunScript,
} from '../helpers/mockedActivities';
import { awaitHistory, historyOf } from '../helpers/runRecords';
import { startWorkflowEnv, type WorkflowTestEnv } from '../helpers/workflowEnv';

/**
 * A blocked heartbeating step hears of a cancel within 0.8 x the heartbeat timeout; 2 s leaves room for a
 * busy 2-core machine. The quick steps' timeout only matters if one hangs, which none should here.
 */
const OPTIONS = { heartbeatTimeoutSeconds: 2, quickStepTimeoutSeconds: 30 };

/** What a step that failed or was cancelled leaves to clean up (docs/design.md, "Order as built", 5 and 7). */
const CLEANUP_AFTER: Record<StepName, ActivityName[]> = {
  authenticate: [],
  resolveModel: [],
  stageDataset: [],
  validateCompute: [],
  // From the moment a job may exist (submitPipeline called, even if it then failed) until it finished.
  submitPipeline: ['cancelPipeline'],
  awaitPipeline: ['cancelPipeline'],
  // The job finished; nothing was deployed yet.
  collectMetrics: [],
  registerModel: [],
  // From the moment an endpoint may exist (deployEndpoint called), whatever ends the run.
  deployEndpoint: ['deleteEndpoint'],
  smokeScore: ['deleteEndpoint'],
  // It is the cleanup itself.
  deleteEndpoint: [],
};

/**
 * The steps whose activity the workflow waits for when it cancels it (ActivityCancellationType
 * WAIT_CANCELLATION_COMPLETED in src/workflows/activityOptions.ts): the cleanup may not start before the
 * step has stopped. The others (TRY_CANCEL) are abandoned at once.
 */
const WAITS_FOR_CANCELLATION: readonly StepName[] = [
  'stageDataset',
  'validateCompute',
  'submitPipeline',
  'deployEndpoint',
  'smokeScore',
];

/**
 * The activities a run calls up to and including `step`: its steps, and the cost estimate between
 * validateCompute and submitPipeline (src/workflows/runCost.ts).
 */
function callsUpTo(step: StepName): ActivityName[] {
  const steps: ActivityName[] = [...STEPS.slice(0, STEPS.indexOf(step) + 1)];
  const at = steps.indexOf('submitPipeline');
  if (at >= 0) steps.splice(at, 0, 'estimateCost');
  return steps;
}

/** From submitPipeline on a job may exist: whatever ends the run, what it cost is measured last. */
function measuredAfter(step: StepName): ActivityName[] {
  return STEPS.indexOf(step) >= STEPS.indexOf('submitPipeline') ? ['measureCost'] : [];
}

/** Every activity of a run that succeeds. */
const WHOLE_RUN: ActivityName[] = [...callsUpTo('deleteEndpoint'), 'measureCost'];

/** Every activity a run calls when it ends at `step`: the steps up to it, its cleanup, then the measured cost. */
function callsEndingAt(step: StepName): ActivityName[] {
  return [...callsUpTo(step), ...CLEANUP_AFTER[step], ...measuredAfter(step)];
}

/** The progress record's step statuses when the run ends at `step` with `status`. */
function statusesEndingAt(step: StepName, status: 'failed' | 'cancelled'): Record<string, string> {
  const at = STEPS.indexOf(step);
  return Object.fromEntries(
    STEPS.map((name, i) => [
      name,
      i < at ? 'completed' : i === at ? status : CLEANUP_AFTER[step].includes(name) ? 'completed' : 'skipped',
    ]),
  );
}

function statusesOf(progress: RunProgress): Record<string, string> {
  return Object.fromEntries(progress.steps.map((s) => [s.name, s.status]));
}

interface RunOutcome {
  runId: string;
  script: RunScript;
  result?: FineTuneResult;
  error?: unknown;
  /** Temporal's execution status: COMPLETED, FAILED, CANCELLED. */
  status: string;
  progress: RunProgress;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

const mocks = new MockedActivities();
let t: WorkflowTestEnv;

/** A scenario runs once, when first asked; the test that asserts on it awaits the same (settled) promise. */
function once<T>(body: () => Promise<T>): () => Promise<Settled<T>> {
  let settled: Promise<Settled<T>> | undefined;
  return () =>
    (settled ??= body().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ));
}
function oncePerStep<T>(body: (step: StepName) => Promise<T>): (step: StepName) => Promise<Settled<T>> {
  const scenarios = new Map<StepName, () => Promise<Settled<T>>>();
  return (step) => {
    let scenario = scenarios.get(step);
    if (!scenario) {
      scenario = once(() => body(step));
      scenarios.set(step, scenario);
    }
    return scenario();
  };
}
async function outcomeOf<T>(settled: Promise<Settled<T>>): Promise<T> {
  const s = await settled;
  if (!s.ok) throw s.error;
  return s.value;
}

async function within<T>(promise: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts a run through the typed client (the spec is validated as every front end does). */
async function start(key: string, spec: RunSpecInput = {}): Promise<string> {
  const run = await t.client.start(spec, { idempotencyKey: key, options: OPTIONS });
  return run.runId;
}

/**
 * Starts a run with a spec the schema would refuse: minutes below the schema's minimum of 1 (the training
 * budget, the keep-alive), so that a time limit of the workflow runs out in a second or two. The workflow
 * itself takes the spec as given; the client, CLI and API refuse such a spec before a run starts.
 */
async function startUnchecked(key: string, spec: RunSpec): Promise<string> {
  const runId = `ft-${key}`;
  await t.env.client.workflow.start<typeof fineTune>('fineTune', {
    taskQueue: t.taskQueue,
    workflowId: runId,
    args: [{ spec, options: OPTIONS }],
  });
  return runId;
}

/** Waits for the run to close and reads how it closed. */
async function closed(runId: string): Promise<RunOutcome> {
  const settled = await t.client
    .handle(runId)
    .result()
    .then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );
  const [description, progress] = await Promise.all([t.client.handle(runId).describe(), t.client.progress(runId)]);
  return { runId, script: mocks.run(runId), ...settled, status: description.status.name, progress };
}

/** The history has the workflow's request to cancel `step`'s activity. */
async function cancelOfStepRecorded(runId: string, step: StepName): Promise<void> {
  await awaitHistory(t.env.client, runId, `the request to cancel ${step}`, (events) => {
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === step);
    return events.some(
      (e) =>
        scheduled !== undefined &&
        String(e.activityTaskCancelRequestedEventAttributes?.scheduledEventId) === String(scheduled.eventId),
    );
  });
}

/** The activities the workflow asked to stop (ActivityTaskCancelRequested in its history), in order. */
async function cancelRequestsOf(runId: string): Promise<string[]> {
  const events = await historyOf(t.env.client, runId);
  const scheduled = new Map(
    events.flatMap((e) =>
      e.activityTaskScheduledEventAttributes
        ? [[String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?'] as const]
        : [],
    ),
  );
  return events.flatMap((e) =>
    e.activityTaskCancelRequestedEventAttributes
      ? [scheduled.get(String(e.activityTaskCancelRequestedEventAttributes.scheduledEventId)) ?? '?']
      : [],
  );
}

const failureAt = oncePerStep(async (step) => {
  const runId = `ft-fail-${step}`;
  mocks.run(runId).failAt(step);
  await start(`fail-${step}`);
  return closed(runId);
});

const cancelAt = oncePerStep(async (step): Promise<RunOutcome & { blocker: Blocker }> => {
  const runId = `ft-cancel-${step}`;
  const blocker = mocks.run(runId).blockAt(step);
  await start(`cancel-${step}`);
  await within(blocker.entered.promise, `${step} to be entered`);
  const cancel = await t.client.cancel(runId, { waitSeconds: 0 });
  if (cancel.cleanup !== 'requested') throw new Error(`cancel of ${runId}: ${cancel.message}`);
  if (step === 'deleteEndpoint') {
    // Non-cancellable: the workflow never asks the step to stop. Let it finish once the cancel is in.
    await awaitHistory(t.env.client, runId, 'the cancel request', (events) =>
      events.some((e) => e.workflowExecutionCancelRequestedEventAttributes),
    );
    blocker.proceed();
  } else {
    await cancelOfStepRecorded(runId, step);
    blocker.cancelRequested();
  }
  return { ...(await closed(runId)), blocker };
});

/** A successful run with a training budget it stays within and a quality gate it passes. */
const GATE = { eval_loss: { max: 2 } };
const happy = once(async () => {
  const runId = await start('happy', { budget: { maxTrainingMinutes: 60 }, qualityGate: GATE });
  return closed(runId);
});

/** The same gate, and the job's eval_loss above it. */
const gateFails = once(async () => {
  const runId = 'ft-gate';
  mocks.run(runId).override('collectMetrics', async () => ({ metrics: { train_loss: 1, eval_loss: 3 }, runsSeen: 1 }));
  await start('gate', { qualityGate: GATE });
  return closed(runId);
});

/** A budget of 1.2 s and a job that never finishes. */
const BUDGET_MINUTES = 0.02;
const budgetRunsOut = once(async () => {
  const runId = 'ft-budget';
  const blocker = mocks.run(runId).blockAt('awaitPipeline');
  const spec = parseRunSpec({ budget: { maxTrainingMinutes: 1 } });
  await startUnchecked('budget', { ...spec, budget: { maxTrainingMinutes: BUDGET_MINUTES } });
  return { ...(await closed(runId)), blocker };
});

/** Waits until the run serves its endpoint after the smoke test (the progress record says until when). */
async function serving(runId: string): Promise<RunProgress> {
  return waitFor(
    `${runId} to keep its endpoint alive`,
    async () => {
      const progress = await t.client.progress(runId);
      return progress.endpointExpiresAt ? progress : undefined;
    },
    30_000,
  );
}

interface KeepAliveObservations {
  whileServing: ActivityName[];
  expiresAt: string;
  extended: { expiresAt: string | null };
  afterExtend: ActivityName[];
  rejected: unknown;
  ended: { expiresAt: string | null };
  replayError: unknown;
}
/** Kept alive for a minute; the update extends it by 5 minutes, refuses a bad change, then ends it now. */
const keepAliveByUpdate = once(async () => {
  const runId = await start('keep-alive-update', { deployment: { keepAliveMinutes: 1 } });
  const progress = await serving(runId);
  const whileServing = mocks.run(runId).names();
  const extended = await t.client.endpointLifetime(runId, { extendMinutes: 5 });
  const afterExtend = mocks.run(runId).names();
  const rejected = await t.client.endpointLifetime(runId, { extendMinutes: 0 }).then(
    () => undefined,
    (err: unknown) => err,
  );
  const ended = await t.client.endpointLifetime(runId, { endNow: true });
  const outcome = await closed(runId);
  const seen: KeepAliveObservations = {
    whileServing,
    expiresAt: progress.endpointExpiresAt ?? '',
    extended,
    afterExtend,
    rejected,
    ended,
    replayError: await t.replay(runId).then(
      () => undefined,
      (err: unknown) => err,
    ),
  };
  return { ...outcome, seen };
});

/**
 * The same updates with the refused one first. Nothing else differs, yet the history cannot be replayed;
 * see the test at the end of this file.
 */
const keepAliveRefusedFirst = once(async () => {
  const runId = await start('keep-alive-refused-first', { deployment: { keepAliveMinutes: 1 } });
  await serving(runId);
  const refusal = await t.client.endpointLifetime(runId, { extendMinutes: 0 }).then(
    () => undefined,
    (err: unknown) => err,
  );
  await t.client.endpointLifetime(runId, { extendMinutes: 5 });
  await t.client.endpointLifetime(runId, { endNow: true });
  await t.client.result(runId);
  const replayError = await t.replay(runId).then(
    () => undefined,
    (err: unknown) => err,
  );
  // Not closed(): its progress query replays the history too, and fails the same way.
  const description = await t.client.handle(runId).describe();
  return { status: description.status.name, calls: mocks.run(runId).names(), replayError, refusal };
});

/** Kept alive for 1.2 s, then the time runs out on its own. */
const keepAliveExpires = once(async () => {
  const spec = parseRunSpec({ deployment: { keepAliveMinutes: 1 } });
  const runId = await startUnchecked('keep-alive-expires', {
    ...spec,
    deployment: { ...spec.deployment, keepAliveMinutes: 0.02 },
  });
  return closed(runId);
});

/** Kept alive for a minute, and the run is cancelled while it serves. */
const keepAliveCancelled = once(async () => {
  const runId = await start('keep-alive-cancel', { deployment: { keepAliveMinutes: 1 } });
  await serving(runId);
  const whileServing = mocks.run(runId).names();
  await t.client.cancel(runId, { waitSeconds: 0 });
  return { ...(await closed(runId)), whileServing };
});

beforeAll(async () => {
  t = await startWorkflowEnv('step-outcomes');
  await t.startWorker(mocks.activities);
  // Every run at once: they are independent, and most of each one's time is waiting on the server.
  for (const step of STEPS) {
    void failureAt(step);
    void cancelAt(step);
  }
  void happy();
  void gateFails();
  void budgetRunsOut();
  void keepAliveByUpdate();
  void keepAliveRefusedFirst();
  void keepAliveExpires();
  void keepAliveCancelled();
}, 60_000);

afterAll(async () => {
  mocks.releaseAll();
  await t?.teardown();
});

test('every step succeeds: each activity runs once, in order, and the endpoint is deleted last', async () => {
  const r = await outcomeOf(happy());
  expect(r.error).toBeUndefined();
  expect(r.status).toBe('COMPLETED');
  expect(r.script.names()).toEqual(WHOLE_RUN);
  expect(r.script.calls.every((c) => c.attempt === 1 && c.outcome === 'completed')).toBe(true);
  const names = deriveRunNames(r.runId);
  expect(r.result).toMatchObject({
    status: 'succeeded',
    job: { jobName: names.jobName, status: 'Completed' },
    qualityGate: { passed: true },
    endpoint: { endpointName: names.endpointName, existed: true, deleted: true },
  });
  expect(r.script.callsOf('deleteEndpoint')[0]?.args).toEqual([names.endpointName]);
  expect(r.progress).toMatchObject({ status: 'succeeded', outcome: 'succeeded' });
  expect(new Set(Object.values(statusesOf(r.progress)))).toEqual(new Set(['completed']));
  // The estimate made before the job and the cost measured after the run, on the record and in the result.
  expect(r.progress.cost).toMatchObject({ currency: 'USD', estimatedUsd: expect.any(Number) });
  expect(r.progress.cost?.actualUsd).toBeCloseTo(3.673 / 6, 6); // the mock's 10 min of one A100 node, eastus2
  expect(r.result?.cost).toEqual(r.progress.cost);
  expect(r.script.callsOf('measureCost')[0]?.args).toEqual([
    expect.objectContaining({ jobNames: [names.jobName], vmSize: 'Standard_NC24ads_A100_v4', location: 'eastus2' }),
  ]);
  // The search attributes the run upserts are registered on the dev server, and say how it ended.
  const { typedSearchAttributes } = await t.client.handle(r.runId).describe();
  expect(typedSearchAttributes.get(SA.status)).toBe('succeeded');
  expect(typedSearchAttributes.get(SA.stage)).toBe('deleteEndpoint');
});

describe.each(STEPS.map((step) => [step]))('%s', (step) => {
  test(`fails for good at ${step}: the run fails naming it, ${
    CLEANUP_AFTER[step].join(' and ') || 'nothing'
  } cleans up, nothing else runs`, async () => {
    const r = await outcomeOf(failureAt(step));
    expect(r.status).toBe('FAILED');
    expect(r.error).toBeInstanceOf(WorkflowFailedError);
    const cause = (r.error as WorkflowFailedError).cause as ActivityFailure;
    expect(cause).toBeInstanceOf(ActivityFailure);
    expect(cause.activityType).toBe(step);
    expect(cause.cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.cause).toMatchObject({ type: 'MockedStepFailure', nonRetryable: true });
    expect(cause.cause?.message).toBe(`${step} failed (mocked)`);

    // Exactly the steps up to the failure, then the cleanup the failure leaves, each once.
    expect(r.script.names()).toEqual(callsEndingAt(step));
    // The cleanup started after the failed step had ended.
    const failed = r.script.callsOf(step)[0]!;
    expect(failed.outcome).toBe('failed');
    for (const cleanup of r.script.calls.filter((c) => CLEANUPS.includes(c.activity) && c !== failed))
      expect(cleanup.startSeq).toBeGreaterThan(failed.endSeq!);
    const names = deriveRunNames(r.runId);
    if (CLEANUP_AFTER[step].includes('cancelPipeline'))
      expect(r.script.callsOf('cancelPipeline')[0]?.args).toEqual([names.jobName]);
    if (CLEANUP_AFTER[step].includes('deleteEndpoint'))
      expect(r.script.callsOf('deleteEndpoint')[0]?.args).toEqual([names.endpointName]);

    expect(r.progress).toMatchObject({ status: 'failed', outcome: 'failed', error: `${step} failed (mocked)` });
    expect(statusesOf(r.progress)).toEqual(statusesEndingAt(step, 'failed'));
    expect(r.progress.steps.find((s) => s.name === step)?.detail).toBe(`${step} failed (mocked)`);
  });

  if (step === 'deleteEndpoint') {
    test('cancelled while deleteEndpoint runs: the deletion is not cancellable, the run completes', async () => {
      const r = await outcomeOf(cancelAt(step));
      expect(r.error).toBeUndefined();
      expect(r.status).toBe('COMPLETED');
      expect(r.result).toMatchObject({ status: 'succeeded', endpoint: { deleted: true } });
      expect(r.script.names()).toEqual(WHOLE_RUN);
      // The workflow never asked the deletion (or anything) to stop: it ended with its result.
      expect(await cancelRequestsOf(r.runId)).toEqual([]);
      expect(r.blocker.cancelSeen.done).toBe(false);
      expect(r.script.callsOf('deleteEndpoint')[0]?.outcome).toBe('completed');
      expect(r.progress).toMatchObject({ status: 'succeeded', outcome: 'succeeded' });
    });
    return;
  }

  test(`cancelled while ${step} runs: the run closes CANCELLED after ${
    CLEANUP_AFTER[step].join(' and ') || 'no cleanup'
  }, nothing else runs`, async () => {
    const r = await outcomeOf(cancelAt(step));
    expect(r.status).toBe('CANCELLED');
    expect(r.error).toBeInstanceOf(WorkflowFailedError);
    expect((r.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);

    expect(r.script.names()).toEqual(callsEndingAt(step));
    // The workflow asked the running step, and only it, to stop (never the cleanup).
    expect(await cancelRequestsOf(r.runId)).toEqual([step]);
    expect(r.progress).toMatchObject({ status: 'cancelled', outcome: 'cancelled' });
    expect(statusesOf(r.progress)).toEqual(statusesEndingAt(step, 'cancelled'));

    if (WAITS_FOR_CANCELLATION.includes(step)) {
      // The step heard the cancel and stopped, and only then did the cleanup start.
      const cancelled = r.script.callsOf(step)[0]!;
      expect(r.blocker.cancelSeen.done).toBe(true);
      expect(cancelled.outcome).toBe('cancelled');
      for (const cleanup of r.script.calls.filter((c) => CLEANUPS.includes(c.activity)))
        expect(cleanup.startSeq).toBeGreaterThan(cancelled.endSeq!);
    }
  });
});

test('the training budget runs out while the job runs: the job is cancelled and the run fails with the budget', async () => {
  const r = await outcomeOf(budgetRunsOut());
  expect(r.status).toBe('FAILED');
  expect(r.error).toBeInstanceOf(WorkflowFailedError);
  // Thrown by the workflow itself, not by an activity.
  const cause = (r.error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'TrainingBudgetExceeded', nonRetryable: true });
  const { jobName } = deriveRunNames(r.runId);
  expect(cause?.message).toBe(
    `training job ${jobName} ran longer than budget.maxTrainingMinutes (${BUDGET_MINUTES} min); it was cancelled`,
  );
  expect(r.script.names()).toEqual(callsEndingAt('awaitPipeline'));
  expect(r.script.callsOf('cancelPipeline')[0]?.args).toEqual([jobName]);
  // The follower was still waiting when the budget ran out: the workflow asked it to stop.
  expect(await cancelRequestsOf(r.runId)).toEqual(['awaitPipeline']);
  expect(r.progress).toMatchObject({ status: 'failed', outcome: 'training-budget-exceeded' });
  expect(statusesOf(r.progress)).toEqual(statusesEndingAt('awaitPipeline', 'failed'));
});

test('the quality gate fails: the run stops after collectMetrics, nothing is registered or deployed', async () => {
  const r = await outcomeOf(gateFails());
  expect(r.status).toBe('FAILED');
  const cause = (r.error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'QualityGateFailed', nonRetryable: true });
  expect(cause?.message).toBe(
    'quality gate failed: eval_loss 3 > max 2. No model was registered and no endpoint created',
  );
  expect((cause as ApplicationFailure).details?.[0]).toMatchObject({
    passed: false,
    checks: [{ metric: 'eval_loss', value: 3, passed: false }],
  });
  // The job had finished: no cancelPipeline; nothing deployed: no deleteEndpoint. What the job cost: measured.
  expect(r.script.names()).toEqual([...callsUpTo('collectMetrics'), 'measureCost']);
  expect(r.progress).toMatchObject({
    status: 'failed',
    outcome: 'quality-gate-failed',
    metrics: { train_loss: 1, eval_loss: 3 },
    qualityGate: { passed: false },
  });
  expect(statusesOf(r.progress)).toMatchObject({
    collectMetrics: 'completed',
    registerModel: 'skipped',
    deployEndpoint: 'skipped',
    deleteEndpoint: 'skipped',
  });
});

describe('keep-alive after the smoke test', () => {
  test('the endpoint serves until the endpointLifetime update ends it, then it is deleted', async () => {
    const r = await outcomeOf(keepAliveByUpdate());
    const seen = r.seen;
    // Serving: smoke-tested, not deleted, and still not deleted after the extension.
    expect(seen.whileServing).toEqual(callsUpTo('smokeScore'));
    expect(seen.afterExtend).toEqual(seen.whileServing);
    expect(seen.rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((seen.rejected as WorkflowUpdateFailedError).cause?.message).toBe('give extendMinutes > 0, or endNow: true');
    expect(Date.parse(seen.extended.expiresAt ?? '') - Date.parse(seen.expiresAt)).toBe(5 * 60_000);
    expect(seen.ended).toEqual({ expiresAt: null });
    // Ended now: deleted, and the run succeeded.
    expect(r.status).toBe('COMPLETED');
    expect(r.script.names()).toEqual(WHOLE_RUN);
    expect(r.result).toMatchObject({ status: 'succeeded', endpoint: { deleted: true } });
    expect(r.progress.endpointExpiresAt).toBeUndefined();
    // A worker that restarted (or evicted the run) could carry on: the history replays.
    expect(seen.replayError).toBeUndefined();
  });

  test('the keep-alive time runs out: the endpoint is deleted and the run succeeds', async () => {
    const r = await outcomeOf(keepAliveExpires());
    expect(r.status).toBe('COMPLETED');
    expect(r.script.names()).toEqual(WHOLE_RUN);
    // It served for its 1.2 s of workflow time before the deletion.
    expect(r.result?.endpoint).toMatchObject({ deleted: true });
    expect(r.result?.endpoint.servedSeconds).toBeGreaterThanOrEqual(1);
    expect(r.progress.status).toBe('succeeded');
    expect(r.progress.endpointExpiresAt).toBeUndefined();
  });

  test('cancelled while the endpoint is kept alive: the endpoint is deleted and the run closes CANCELLED', async () => {
    const r = await outcomeOf(keepAliveCancelled());
    expect(r.whileServing).toEqual(callsUpTo('smokeScore'));
    expect(r.status).toBe('CANCELLED');
    expect((r.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(r.script.names()).toEqual(WHOLE_RUN);
    expect(r.script.callsOf('deleteEndpoint')[0]?.outcome).toBe('completed');
    expect(r.progress).toMatchObject({ status: 'cancelled', outcome: 'cancelled' });
    expect(statusesOf(r.progress)).toMatchObject({ smokeScore: 'completed', deleteEndpoint: 'completed' });
  });
});

/**
 * Regression (found by this suite with Temporal's TypeScript SDK 1.24.0 and the OpenTelemetry workflow
 * interceptors this project bundles): the interceptors' update instrumentation is gated by an SDK flag that
 * is recorded in the workflow task where it is first used. When the endpointLifetime checks ran in an update
 * validator, a refused update's speculative task was dropped by the server with the flag's record, a later
 * accepted update's task completed without it, and on replay that update ran without the instrumentation's
 * yield points ("Update machine does not handle this event: TimerCanceled"): a restarted worker could no
 * longer cancel the run or delete its endpoint (docs/design.md, invariant 1). The checks now run in the
 * handler (src/workflows/keepAlive.ts): a refused change is an accepted update that fails, in the history.
 */
test('a refused endpointLifetime update, then accepted ones: the caller hears why, and the history replays', async () => {
  const r = await outcomeOf(keepAliveRefusedFirst());
  expect(r.status).toBe('COMPLETED');
  expect(r.calls).toEqual(WHOLE_RUN);
  expect(r.refusal).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(((r.refusal as WorkflowUpdateFailedError).cause as Error).message).toBe(
    'give extendMinutes > 0, or endNow: true',
  );
  expect(r.replayError).toBeUndefined();
});
