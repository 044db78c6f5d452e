// Messages, types and constants of the fineTune workflow, shared by the workflow, the client and tests.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { GateEvaluation } from '../spec/qualityGate';
import type { RunSpec } from '../spec/schema';
import type {
  CollectedMetrics,
  DeleteEndpointResult,
  RegisteredModel,
  SmokeScoreResult,
  StagedSplit,
  SubmittedJob,
  ValidatedCompute,
  ResolvedModel,
} from '../activities/types';

export const TASK_QUEUE = 'finetune-flow';

/** The run's steps in the order of DESIGN.md's table. */
export const STEPS = [
  'authenticate',
  'resolveModel',
  'validateCompute',
  'stageDataset',
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
export type RunOutcome = 'succeeded' | 'failed' | 'cancelled' | 'quality-gate-failed' | 'training-budget-exceeded';

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
  metrics?: Record<string, number>;
  qualityGate?: GateEvaluation;
  error?: string;
}

export interface FineTuneOptions {
  /** Heartbeat timeout of the long steps; a crashed worker is noticed after this long. Default 30 s. */
  heartbeatTimeoutSeconds?: number;
}

export interface FineTuneInput {
  /** A validated run spec (parseRunSpec), defaults filled in. */
  spec: RunSpec;
  options?: FineTuneOptions;
}

export interface FineTuneResult {
  runId: string;
  status: 'succeeded';
  model: Pick<ResolvedModel, 'registry' | 'name' | 'version' | 'assetId'>;
  compute: ValidatedCompute;
  data: { revision: string; train: StagedSplit; test: StagedSplit; scoring: StagedSplit };
  job: SubmittedJob & { status: string };
  metrics: CollectedMetrics['metrics'];
  registeredModel: RegisteredModel;
  endpoint: DeleteEndpointResult & { scoringUri?: string; servedSeconds: number };
  qualityGate: GateEvaluation;
  smokeScore: SmokeScoreResult;
  warnings: string[];
  steps: StepState[];
}

export const progressQuery = defineQuery<RunProgress>('progress');

/** Extend the kept-alive endpoint's lifetime by some minutes, or end it now. */
export interface EndpointLifetimeChange {
  extendMinutes?: number;
  endNow?: boolean;
}

/** Returns when the endpoint will now be deleted (ISO time), or null when it is being deleted now. */
export const endpointLifetimeUpdate = defineUpdate<{ expiresAt: string | null }, [EndpointLifetimeChange]>('endpointLifetime');
