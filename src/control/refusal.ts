// Why a run (or its dry run) failed, read from what Temporal reports (WorkflowFailedError and its cause): the
// step, the failure's type (its code) and kind, and its message. A dry run that refuses a spec throws the
// same error a run's result() would, so the CLI and the API read both the same way.
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';

export interface Refusal {
  /** The step (activity) that refused, when an activity did; absent for the workflow's own checks (allow lists, budget). */
  step?: string;
  /** The failure's type: AzureValidation, AzureNotFound, VmSizeNotAllowed, CostBudgetExceeded, ... */
  code: string;
  /** validation, notFound, auth, quota, ...: Azure failures say it; the workflow's own checks are validation. */
  kind: string;
  message: string;
}

/**
 * The refusal a failed run or dry run reports, or undefined when `err` is not one (another error, or a
 * workflow that timed out or was terminated rather than failed by a check).
 */
export function refusalOf(err: unknown): Refusal | undefined {
  if (!(err instanceof WorkflowFailedError)) return undefined;
  const cause = err.cause;
  const step = cause instanceof ActivityFailure ? (cause.activityType ?? undefined) : undefined;
  const failure = cause instanceof ActivityFailure ? cause.cause : cause;
  if (!(failure instanceof ApplicationFailure)) return undefined;
  const detail = failure.details?.[0] as { kind?: unknown } | undefined;
  const kind = typeof detail?.kind === 'string' ? detail.kind : 'validation';
  return { ...(step ? { step } : {}), code: failure.type ?? 'Failed', kind, message: failure.message };
}

/** Whether the refusal is about the spec or its data (a field to fix), rather than the environment. */
export function isBadInput(refusal: Refusal): boolean {
  return refusal.kind === 'validation' || refusal.kind === 'notFound';
}
