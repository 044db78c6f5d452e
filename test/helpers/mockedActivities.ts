// Mocked activities for workflow-logic tests (test/helpers/workflowEnv.ts runs the real workflow code
// against them): a canned successful result for every activity, a record of every call per run, and
// per-run scripts that make one step fail for good, block until it is cancelled, or do anything else.
// Runs are told apart by their workflow id (the run id), so one worker serves every run of a test file.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { FineTuneActivities } from '../../src/activities';
import type { StagedSplit } from '../../src/activities/types';
import { actualRunCost } from '../../src/cost/actual';
import { estimateRunCost } from '../../src/cost/estimate';
import { VENDORED_PRICE_TABLE } from '../../src/cost/priceTable';
import { DEFAULT_RETRY_SCHEDULE } from '../../src/webhooks/backoff';

export type ActivityName = keyof FineTuneActivities;
export type ActivityArgs<K extends ActivityName> = Parameters<FineTuneActivities[K]>;
export type ActivityResult<K extends ActivityName> = Awaited<ReturnType<FineTuneActivities[K]>>;

/** The cleanup activities of a run (docs/design.md, invariant 1). */
export const CLEANUPS: readonly ActivityName[] = ['cancelPipeline', 'deleteEndpoint'];

export class Deferred<T = void> {
  done = false;
  value: T | undefined;
  private settle!: (value: T) => void;
  readonly promise = new Promise<T>((resolve) => (this.settle = resolve));
  resolve(value: T): void {
    if (this.done) return;
    this.done = true;
    this.value = value;
    this.settle(value);
  }
}

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

/** The metrics collectMetrics returns unless a run says otherwise. */
export const CANNED_METRICS = { train_loss: 1, eval_loss: 1 };

/** Canned results: what each activity returns when nothing is planned for it (a run that succeeds). */
export const cannedActivities: FineTuneActivities = {
  authenticate: async () => ({ workspace: 'ws', location: 'eastus2', credentialKind: 'clientSecret' }),
  resolveModel: async () => ({
    registry: 'azureml',
    name: 'Phi-3-mini-4k-instruct',
    version: '1',
    assetId: 'azureml://registries/azureml/models/Phi-3-mini-4k-instruct/versions/1',
    // The seed's allow lists (Phi-3-mini-4k-instruct v15): they name the notebook's sizes.
    finetuneComputeAllowList: ['Standard_NC24ads_A100_v4', 'Standard_NC48ads_A100_v4'],
    inferenceComputeAllowList: ['Standard_NC6s_v3', 'Standard_NC24ads_A100_v4'],
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
  submitPipeline: async (input) => ({
    jobName: input.names.jobName,
    componentId: 'chat_completion_pipeline',
    displayName: 'job',
    parameters: {},
    warnings: [],
    notes: [],
    adopted: false,
  }),
  awaitPipeline: async (jobName) => ({ jobName, status: 'Completed' }),
  cancelPipeline: async (jobName) => ({ jobName, status: 'Canceled' }),
  collectMetrics: async () => ({ metrics: { ...CANNED_METRICS }, runsSeen: 1 }),
  registerModel: async (input) => ({
    name: input.modelName,
    version: '1',
    id: `/models/${input.modelName}/versions/1`,
    adopted: false,
  }),
  deployEndpoint: async (input) => ({
    endpointName: input.endpointName,
    deploymentName: 'default',
    scoringUri: `https://${input.endpointName}.example/score`,
    adopted: false,
  }),
  smokeScore: async () => ({ promptPreview: 'hi', replyPreview: 'hello', replyChars: 5, latencyMs: 1 }),
  deleteEndpoint: async (endpointName) => ({ endpointName, existed: true, deleted: true }),
  // The real estimator and measurement over canned figures (src/cost/): a few cents, within any budget over $1.
  estimateCost: async (input) =>
    estimateRunCost(
      {
        region: input.location,
        model: { name: input.model.name },
        training: {
          vmSize: input.compute.vmSize,
          nodes: 1,
          gpusPerNode: input.compute.gpusPerNode,
          epochs: 1,
          train: { rows: input.data.train.rows, bytes: input.data.train.bytes },
          test: { rows: input.data.test.rows, bytes: input.data.test.bytes },
        },
        endpoint: {
          instanceType: input.spec.deployment.instanceType,
          instances: input.spec.deployment.instanceCount,
          livenessInitialDelaySeconds: input.spec.deployment.livenessInitialDelaySeconds,
          keepAliveMinutes: input.spec.deployment.keepAliveMinutes,
        },
      },
      VENDORED_PRICE_TABLE,
    ),
  measureCost: async (input) =>
    actualRunCost(
      {
        jobs: input.jobNames.map((jobName) => ({
          jobName,
          vmSize: input.vmSize ?? 'Standard_NC24ads_A100_v4',
          nodes: 1,
          startedAt: '2026-12-01T10:00:00.000Z',
          endedAt: '2026-12-01T10:10:00.000Z',
        })),
        deployments: [],
      },
      VENDORED_PRICE_TABLE,
      input.location,
    ),
  describeJob: async () => ({
    componentId: 'azureml://registries/azureml/components/chat_completion_pipeline/versions/0.0.82',
    displayName: 'job',
    parameters: {},
    warnings: [],
    notes: [],
    training: { epochs: 1, nodes: 1, maxSteps: -1, rowsPerStepPerGpu: 1 },
  }),
  findActiveRun: async () => null,
  listTaggedEndpoints: async () => [],
  describeRuns: async (runIds) => runIds.map((runId) => ({ runId, state: 'not-found' as const })),
  // Webhooks: nobody listens unless a test says otherwise; an attempt is answered 200.
  webhookAudience: async () => [],
  webhookTargets: async () => ({ targets: [], schedule: DEFAULT_RETRY_SCHEDULE, attemptTimeoutMs: 15_000 }),
  deliverWebhook: async () => ({
    outcome: 'delivered',
    status: 200,
    durationMs: 1,
    sentAt: new Date().toISOString(),
    signatures: 1,
  }),
};

/** One call of an activity, as the recorder saw it. */
export interface ActivityCall {
  activity: ActivityName;
  attempt: number;
  args: unknown[];
  /** Order of this call's start among every start and end the recorder saw (all runs). */
  startSeq: number;
  /** Order of its end; undefined while it runs. */
  endSeq?: number;
  outcome?: 'completed' | 'failed' | 'cancelled';
}

/** What an override of one activity gets: the call, and the activity's canned result for it. */
export interface Invocation<K extends ActivityName> {
  runId: string;
  activity: K;
  attempt: number;
  args: ActivityArgs<K>;
  canned(): Promise<ActivityResult<K>>;
}

export type Override<K extends ActivityName> = (call: Invocation<K>) => Promise<ActivityResult<K>>;

/** An override as the dispatcher holds it, whatever its activity. */
interface AnyInvocation {
  runId: string;
  activity: ActivityName;
  attempt: number;
  args: unknown[];
  canned(): Promise<unknown>;
}
type AnyOverride = (call: AnyInvocation) => Promise<unknown>;

/**
 * A step held open by blockAt(): it heartbeats (when its activity has a heartbeat timeout) and honours
 * cancellation, ending with the CancelledFailure the cancel brings; proceed() lets it return its canned result.
 *
 * A step without a heartbeat timeout (authenticate, resolveModel, submitPipeline, collectMetrics,
 * registerModel) does not heartbeat while it waits: the SDK sends the first heartbeat of an attempt at once
 * but throttles later ones to 30 s when there is no heartbeat timeout, so a step that heartbeated early would
 * hear of a cancel only half a minute later. Call cancelRequested() once the history records the workflow's
 * request to cancel it: the step then heartbeats, and that first heartbeat's answer carries the cancel.
 */
export class Blocker {
  /** The step was entered (attempt 1). */
  readonly entered = new Deferred();
  /** The step saw the cancel (through a heartbeat) and ended with it. */
  readonly cancelSeen = new Deferred();
  private readonly nudged = new Deferred();
  private readonly released = new Deferred();

  constructor(readonly step: ActivityName) {}

  /** The workflow's request to cancel the step is recorded: a step without a heartbeat timeout heartbeats now. */
  cancelRequested(): void {
    this.nudged.resolve();
  }

  /** Lets the step return its canned result (teardown calls it for every blocker). */
  proceed(): void {
    this.released.resolve();
  }

  /** @internal the blocked activity's body. */
  async hold<T>(result: () => Promise<T>): Promise<T> {
    const ctx = Context.current();
    const heartbeats = (ctx.info.heartbeatTimeoutMs ?? 0) > 0;
    this.entered.resolve();
    try {
      for (;;) {
        if (heartbeats || this.nudged.done) ctx.heartbeat({ blockedAt: this.step });
        const next = await Promise.race([
          ctx.sleep(100).then(() => 'tick' as const),
          this.released.promise.then(() => 'released' as const),
        ]);
        if (next === 'released') return await result();
      }
    } catch (err) {
      if (err instanceof CancelledFailure) this.cancelSeen.resolve();
      throw err;
    }
  }
}

/** What one run's activities do: by default the canned results; the script changes single steps. */
export class RunScript {
  readonly calls: ActivityCall[] = [];
  readonly blockers: Blocker[] = [];
  private readonly overrides = new Map<ActivityName, AnyOverride>();
  private readonly listeners: ((call: ActivityCall) => void)[] = [];

  constructor(readonly runId: string) {}

  /** The activities called, in the order they started. */
  names(): ActivityName[] {
    return this.calls.map((c) => c.activity);
  }

  /** The calls of one activity. */
  callsOf(activity: ActivityName): ActivityCall[] {
    return this.calls.filter((c) => c.activity === activity);
  }

  /** Replaces one activity for this run. */
  override<K extends ActivityName>(activity: K, fn: Override<K>): this {
    this.overrides.set(activity, fn as unknown as AnyOverride);
    return this;
  }

  /** Called at the start of every call of this run, before the activity runs. */
  onCall(listener: (call: ActivityCall) => void): this {
    this.listeners.push(listener);
    return this;
  }

  /** The step's first attempt fails for good: a non-retryable ApplicationFailure naming the step. */
  failAt(step: ActivityName, message = `${step} failed (mocked)`, type = 'MockedStepFailure'): this {
    return this.override(step, async (call) => {
      if (call.attempt > 1) return call.canned();
      throw ApplicationFailure.nonRetryable(message, type, { step });
    });
  }

  /** The step's first attempt waits until it is cancelled (or released with proceed()). */
  blockAt(step: ActivityName): Blocker {
    const blocker = new Blocker(step);
    this.blockers.push(blocker);
    this.override(step, async (call) => (call.attempt > 1 ? call.canned() : blocker.hold(() => call.canned())));
    return blocker;
  }

  /** @internal */
  overrideFor(activity: ActivityName): AnyOverride | undefined {
    return this.overrides.get(activity);
  }

  /** @internal */
  notify(call: ActivityCall): void {
    for (const listener of this.listeners) listener(call);
  }
}

/** The mocked activities of a test file: one set for the worker, a script and a record per run. */
export class MockedActivities {
  /** What the worker registers: every activity, dispatched to the calling run's script. */
  readonly activities: FineTuneActivities;
  private readonly runs = new Map<string, RunScript>();
  private seq = 0;

  constructor(private readonly canned: FineTuneActivities = cannedActivities) {
    const names = Object.keys(canned) as ActivityName[];
    this.activities = Object.fromEntries(
      names.map((name) => [name, (...args: unknown[]) => this.dispatch(name, args)]),
    ) as unknown as FineTuneActivities;
  }

  /** The script (and record) of a run, created on first use: plan it before the run starts. */
  run(runId: string): RunScript {
    let script = this.runs.get(runId);
    if (!script) {
      script = new RunScript(runId);
      this.runs.set(runId, script);
    }
    return script;
  }

  /** Lets every blocked step of every run return (teardown: the worker can then stop at once). */
  releaseAll(): void {
    for (const script of this.runs.values()) for (const blocker of script.blockers) blocker.proceed();
  }

  private async dispatch(activity: ActivityName, args: unknown[]): Promise<unknown> {
    const info = Context.current().info;
    const runId = info.workflowExecution?.workflowId ?? info.activityId;
    const script = this.run(runId);
    const call: ActivityCall = { activity, attempt: info.attempt, args, startSeq: ++this.seq };
    script.calls.push(call);
    script.notify(call);
    const real = this.canned[activity] as unknown as (...a: unknown[]) => Promise<unknown>;
    const canned = () => real(...args);
    const override = script.overrideFor(activity);
    try {
      const result = override
        ? await override({ runId, activity, attempt: info.attempt, args, canned })
        : await canned();
      call.outcome = 'completed';
      return result;
    } catch (err) {
      call.outcome = err instanceof CancelledFailure ? 'cancelled' : 'failed';
      throw err;
    } finally {
      call.endSeq = ++this.seq;
    }
  }
}
