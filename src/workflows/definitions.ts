// Messages, types and constants of the fineTune workflow, shared by the workflow, the client and tests.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { GateEvaluation } from '../runSpec/qualityGate';
import type { RunSpec } from '../runSpec/schema';
import type {
  AuthResult,
  CollectedMetrics,
  JobDescription,
  DeleteEndpointResult,
  RegisteredModel,
  SmokeScoreResult,
  StagedSplit,
  SubmittedJob,
  ValidatedCompute,
  ResolvedModel,
} from '../activities/types';
import type { CostEstimate, RunCost } from '../cost/types';

/** The run's steps in the order they run (docs/design.md, "The run": the order as built). */
export const STEPS = [
  'authenticate',
  'resolveModel',
  // Staged before the cluster is looked up or created: bad data fails the run before any Azure resource exists.
  'stageDataset',
  'validateCompute',
  'submitPipeline',
  'awaitPipeline',
  'collectMetrics',
  'registerModel',
  'deployEndpoint',
  'smokeScore',
  'deleteEndpoint',
] as const;
export type StepName = (typeof STEPS)[number];

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';

export interface StepState {
  name: StepName;
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Why the run ended, in the user's words. */
export type RunOutcome =
  'succeeded' | 'failed' | 'cancelled' | 'quality-gate-failed' | 'training-budget-exceeded' | 'cost-budget-exceeded';

export interface RunProgress {
  runId: string;
  status: RunStatus;
  outcome?: RunOutcome;
  currentStep?: StepName;
  steps: StepState[];
  jobName: string;
  endpointName: string;
  /** While the endpoint is kept alive after the smoke test: when it will be deleted. */
  endpointExpiresAt?: string;
  warnings: string[];
  /** What the run noted that needs no action (defaults the component does not declare, dropped). */
  notes?: string[];
  metrics?: Record<string, number>;
  qualityGate?: GateEvaluation;
  /** What the run is expected to cost (before its job) and what it cost (after it); absent in runs from before. */
  cost?: RunCost;
  error?: string;
}

export interface FineTuneOptions {
  /** Heartbeat timeout of the long steps; a crashed worker is noticed after this long. Default 30 s. */
  heartbeatTimeoutSeconds?: number;
  /**
   * Start-to-close timeout of the steps that do not heartbeat (authenticate, resolveModel, submitPipeline,
   * collectMetrics, registerModel). An attempt lost with a crashed worker is retried only when it fires.
   * Default 300 s; tests that kill workers set a few seconds.
   */
  quickStepTimeoutSeconds?: number;
}

export interface FineTuneInput {
  /** A validated run spec (parseRunSpec), defaults filled in. */
  spec: RunSpec;
  options?: FineTuneOptions;
  /** The API key the run belongs to: its registered webhook endpoints hear of the run (src/webhooks). */
  owner?: string;
}

/**
 * The workflow's own result. Callers read it as a run's result record (src/control/runResult.ts), which
 * the client, the CLI and the API return alike.
 */
export interface FineTuneResult {
  runId: string;
  status: 'succeeded';
  model: Pick<ResolvedModel, 'registry' | 'name' | 'version' | 'assetId'>;
  compute: ValidatedCompute;
  data: { revision: string; train: StagedSplit; test: StagedSplit; scoring: StagedSplit };
  /** studioUrl: the job in Azure ML studio (absent in results of runs from before it was recorded). */
  job: SubmittedJob & { status: string; studioUrl?: string };
  metrics: CollectedMetrics['metrics'];
  registeredModel: RegisteredModel;
  /** instanceType: the deployment's (absent in results of runs from before it was recorded). */
  endpoint: DeleteEndpointResult & { instanceType?: string; scoringUri?: string; servedSeconds: number };
  qualityGate: GateEvaluation;
  smokeScore: SmokeScoreResult;
  /** The estimate and the measured cost (absent in results of runs from before). */
  cost?: RunCost;
  /** What needs action. */
  warnings: string[];
  /** What needs no action (absent in results of runs from before notes were recorded). */
  notes?: string[];
  steps: StepState[];
}

export const progressQuery = defineQuery<RunProgress>('progress');

// ------------------------------------------------------------------------------------------------
// A dry run (planFineTune): the checks of a run's first steps, read-only, and what the run would do.

export const PLAN_WORKFLOW_PREFIX = 'plan-';

export interface PlanFineTuneInput {
  /** A validated run spec (parseRunSpec), defaults filled in. */
  spec: RunSpec;
  /** The run id a start of this spec would have (ft-<idempotency key>, or an example without one). */
  runId: string;
  /** True when runId comes from an idempotency key: a start with it uses the same names. */
  namesFixed: boolean;
  options?: FineTuneOptions;
}

/** What a run of the spec would use and cost, from the same checks and the same names as a real run. */
export interface FineTunePlan {
  object: 'fine_tune_plan';
  runId: string;
  /** False without an idempotency key: a start then gets an id of its own, and the names derived from it change. */
  namesFixed: boolean;
  names: {
    jobName: string;
    endpointName: string;
    deploymentName: string;
    registeredModel: string;
    /** 'next': the registered model's next integer version, chosen when the run registers it. */
    modelVersion: 'next';
    experimentName: string;
    computeName: string;
    /** Where each split is (or would be) staged in the default datastore. */
    blobs: { train: string; test: string; scoring: string };
  };
  workspace: AuthResult;
  model: Pick<ResolvedModel, 'registry' | 'name' | 'version' | 'assetId'>;
  compute: ValidatedCompute;
  deployment: { instanceType: string; instanceCount: number; keepAliveMinutes: number };
  job: JobDescription;
  data: { revision: string; contentKey: string; train: StagedSplit; test: StagedSplit; scoring: StagedSplit };
  cost: CostEstimate;
  maxCostUsd?: number;
  warnings: string[];
}

/** Extend the kept-alive endpoint's lifetime by some minutes, or end it now. */
export interface EndpointLifetimeChange {
  extendMinutes?: number;
  endNow?: boolean;
}

/** Returns when the endpoint will now be deleted (ISO time), or null when it is being deleted now. */
export const endpointLifetimeUpdate = defineUpdate<{ expiresAt: string | null }, [EndpointLifetimeChange]>(
  'endpointLifetime',
);

// ------------------------------------------------------------------------------------------------
// What a run records about how it was started (the workflow memo), so resume can start it again.

export const RUN_MEMO_KEY = 'ftflow';

export type RunSource = 'client' | 'cli' | 'api' | 'schedule';

export interface RunMemo {
  spec: RunSpec;
  options?: FineTuneOptions;
  source: RunSource;
  /** Who asked, beside the source: the API key's id, the CLI's operating-system user, a client's own name. */
  actor?: string;
  /** Unique per start request: tells the caller whether its request created the run or found it. */
  startToken?: string;
  idempotencyKey?: string;
  scheduleId?: string;
  /** The API key that started it (its webhooks hear of it); a resume keeps it. */
  owner?: string;
}

// ------------------------------------------------------------------------------------------------
// Retraining schedules: each tick runs scheduledFineTune, which starts the run as a child, unless a
// run that trains the same thing (same content key) is already running, whoever started it.

/** Prefix of the schedule action's workflow id; the server appends the tick's time to it. */
export const SCHEDULED_WORKFLOW_PREFIX = 'ftsched-';

export interface ScheduledFineTuneInput {
  scheduleId: string;
  spec: RunSpec;
  options?: FineTuneOptions;
}

export interface ScheduledFineTuneResult {
  scheduleId: string;
  /** The run this tick started, or the running run it deferred to. */
  runId: string;
  outcome: 'succeeded' | 'deferred';
}

// ------------------------------------------------------------------------------------------------
// The janitor: deletes endpoints this service created whose run has closed (or that outlived a TTL).

export const JANITOR_WORKFLOW_ID = 'ftflow-janitor';
export const JANITOR_SCHEDULE_ID = 'ftflow-janitor';

export interface JanitorInput {
  /** Report what would be deleted, delete nothing. */
  dryRun?: boolean;
  /**
   * Also delete endpoints older than this even while their run still runs: a hard ceiling for a run
   * whose worker is gone. Unset by default (a kept-alive endpoint may legitimately serve for days).
   */
  maxEndpointAgeHours?: number;
}

export interface JanitorDecision {
  endpointName: string;
  runId?: string;
  reason: string;
}

export interface JanitorReport {
  checkedAt: string;
  dryRun: boolean;
  examined: number;
  /** Deleted and confirmed gone (with dryRun: would be deleted). */
  deleted: JanitorDecision[];
  kept: JanitorDecision[];
  /** Could not be deleted in this sweep; the next one tries again. */
  failed: JanitorDecision[];
}
