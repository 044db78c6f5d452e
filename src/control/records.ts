// How a run looks to callers: a summary from what Temporal's visibility store records (cheap, for
// lists), and a full record that adds the run's own progress (its query) and the live job status.
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { SearchAttributeType, SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { FINETUNE_SEARCH_ATTRIBUTES as SA } from '../config/searchAttributes';
import type { RunSpec } from '../runSpec/schema';
import {
  RUN_MEMO_KEY,
  type RunMemo,
  type RunProgress,
  type RunSource,
  type StepName,
  type StepState,
} from '../workflows/definitions';
import type { GateEvaluation } from '../runSpec/qualityGate';
import type { RunCost } from '../cost/types';
import type { JobFollowDetails } from '../activities/types';
import type { LiveTraining, MetricsEntry } from '../azure/liveTraining';
import type { RunResult } from './runResult';

/** A run's state in the user's words; terminated and timed-out runs ran no cleanup code. */
export type RunState = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'terminated' | 'timed-out';

export interface RunSummary {
  /** The run id (the workflow id); the same across a resume. */
  id: string;
  object: 'fine_tune';
  status: RunState;
  /** Why it ended, when it did: succeeded, failed, cancelled, quality-gate-failed, training-budget-exceeded, cost-budget-exceeded. */
  outcome?: string;
  /** The step it is on (or ended on). */
  stage?: string;
  model?: string;
  dataset?: string;
  contentKey?: string;
  createdAt: string;
  finishedAt?: string;
  /** Temporal's id of the latest execution; a resume adds one. */
  executionId: string;
  source?: RunSource;
  scheduleId?: string;
  idempotencyKey?: string;
}

export interface RunRecord extends RunSummary {
  spec?: RunSpec;
  currentStep?: StepName;
  steps: StepState[];
  jobName?: string;
  /** The Azure job's latest status, read from the follower's heartbeat while it waits. */
  jobStatus?: string;
  /** Since when the job has had that status, as the follower saw it (ISO). */
  jobStatusSince?: string;
  /** The job in Azure ML studio. */
  studioUrl?: string;
  /**
   * The training as last read from MLflow by the follower: step of total, epoch, losses, learning rate,
   * ETA, GPU time. Live while the job trains (heartbeat), kept in the step's result afterwards.
   */
  training?: LiveTraining;
  /** The bounded `metrics` entries ("step 120/900: train_loss 1.42"), oldest first. */
  metricsLog?: MetricsEntry[];
  endpointName?: string;
  endpointExpiresAt?: string;
  metrics?: Record<string, number>;
  qualityGate?: GateEvaluation;
  /** The estimate before the job and the cost measured after the run (USD, list prices); absent in runs from before. */
  cost?: RunCost;
  /** Warnings that need action. */
  warnings: string[];
  /** What the run noted that needs no action (e.g. model defaults the pipeline component does not declare). */
  notes: string[];
  error?: string;
  /** False when no worker answered the progress query: steps, metrics and warnings are then unknown. */
  progressAvailable: boolean;
  /** A succeeded run's result record: the same as the client's result(), `ftflow result` and the API's /result. */
  result?: RunResult;
}

const STATUS_BY_EXECUTION: Record<string, RunState> = {
  RUNNING: 'running',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed-out',
  CONTINUED_AS_NEW: 'running',
};

export function runStateOf(executionStatus: string): RunState {
  return STATUS_BY_EXECUTION[executionStatus] ?? 'failed';
}

export function memoOf(memo: Record<string, unknown> | undefined): RunMemo | undefined {
  const value = memo?.[RUN_MEMO_KEY];
  if (value === null || typeof value !== 'object' || !('spec' in value)) return undefined;
  return value as RunMemo;
}

function keyword(
  info: Pick<WorkflowExecutionInfo, 'typedSearchAttributes'>,
  key: SearchAttributeKey<typeof SearchAttributeType.KEYWORD>,
): string | undefined {
  const value = info.typedSearchAttributes.get(key);
  return typeof value === 'string' ? value : undefined;
}

export function summaryOf(
  info: Pick<
    WorkflowExecutionInfo,
    'workflowId' | 'runId' | 'status' | 'startTime' | 'closeTime' | 'memo' | 'typedSearchAttributes'
  >,
): RunSummary {
  const status = runStateOf(info.status.name);
  const recorded = keyword(info, SA.status);
  const memo = memoOf(info.memo);
  return {
    id: info.workflowId,
    object: 'fine_tune',
    status,
    // Terminated runs never recorded why; their FineTuneStatus still says "running".
    outcome: status === 'running' || status === 'terminated' || status === 'timed-out' ? undefined : recorded,
    stage: keyword(info, SA.stage),
    model: keyword(info, SA.model),
    dataset: keyword(info, SA.dataset),
    contentKey: keyword(info, SA.contentKey),
    createdAt: info.startTime.toISOString(),
    finishedAt: info.closeTime?.toISOString(),
    executionId: info.runId,
    source: memo?.source,
    scheduleId: memo?.scheduleId,
    idempotencyKey: memo?.idempotencyKey,
  };
}

/** A terminated run never saw its end: the step it was on still says running. */
function stepsOf(summary: RunSummary, progress: RunProgress | undefined): StepState[] {
  const steps = progress?.steps ?? [];
  if (summary.status !== 'terminated' && summary.status !== 'timed-out') return steps;
  const why =
    summary.status === 'terminated'
      ? 'the run was terminated during this step; no cleanup ran'
      : 'the run timed out during this step; no cleanup ran';
  return steps.map((s) => (s.status === 'running' ? { ...s, status: 'cancelled', detail: why } : s));
}

export function recordOf(
  summary: RunSummary,
  memo: RunMemo | undefined,
  progress: RunProgress | undefined,
  job: JobFollowDetails | undefined,
): RunRecord {
  return {
    ...summary,
    outcome:
      summary.outcome ??
      (summary.status !== 'running' && summary.status !== 'terminated' && summary.status !== 'timed-out'
        ? progress?.outcome
        : undefined),
    spec: memo?.spec,
    currentStep: progress?.currentStep,
    steps: stepsOf(summary, progress),
    jobName: progress?.jobName,
    jobStatus: job?.status,
    jobStatusSince: job?.statusSince,
    studioUrl: job?.studioUrl,
    training: job?.training,
    metricsLog: job?.metricsLog,
    endpointName: progress?.endpointName,
    endpointExpiresAt: progress?.endpointExpiresAt,
    metrics: progress?.metrics,
    qualityGate: progress?.qualityGate,
    ...(progress?.cost ? { cost: progress.cost } : {}),
    warnings: progress?.warnings ?? [],
    notes: progress?.notes ?? [],
    error: progress?.error,
    progressAvailable: progress !== undefined,
  };
}
