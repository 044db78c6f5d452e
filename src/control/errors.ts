// What the client's callers can get wrong, as typed errors with a code: the CLI maps each code to an
// exit status and the API to an HTTP status, so neither parses messages.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { RunSpecError, type SpecIssue } from '../runSpec/schema';
import { InvalidFilterError } from '../config/visibility';

export type ControlErrorCode = 'invalid' | 'not-found' | 'conflict';

export class ControlError extends Error {
  constructor(
    readonly code: ControlErrorCode,
    message: string,
    readonly issues: SpecIssue[] = [],
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export class RunNotFoundError extends ControlError {
  constructor(readonly runId: string) {
    super('not-found', `no run ${runId} in this namespace`);
    this.name = 'RunNotFoundError';
  }
}

export class ScheduleNotFoundError extends ControlError {
  constructor(readonly scheduleId: string) {
    super('not-found', `no schedule ${scheduleId} in this namespace`);
    this.name = 'ScheduleNotFoundError';
  }
}

/** An idempotency key that was used before with a different run spec. */
export class IdempotencyConflictError extends ControlError {
  constructor(readonly runId: string) {
    super(
      'conflict',
      `idempotency key of run ${runId} was used before with a different run spec; use a new key, or send the same spec to get the existing run`,
    );
    this.name = 'IdempotencyConflictError';
  }
}

export class RunNotResumableError extends ControlError {
  constructor(
    readonly runId: string,
    readonly status: string,
  ) {
    super(
      'conflict',
      status === 'running'
        ? `run ${runId} is still running; nothing to resume`
        : `run ${runId} ${status}; only a failed, cancelled, terminated or timed-out run can be resumed (start a new run to train again)`,
    );
    this.name = 'RunNotResumableError';
  }
}

/** A run that has no result (yet): still running, or ended without succeeding. */
export class RunHasNoResultError extends ControlError {
  constructor(
    readonly runId: string,
    readonly status: string,
    readonly stage?: string,
  ) {
    super(
      'conflict',
      status === 'running'
        ? `run ${runId} is still running${stage ? ` (at ${stage})` : ''}; its result exists once it succeeds (ftflow result ${runId} --wait waits for it)`
        : `run ${runId} ${status}${stage ? ` at ${stage}` : ''}; only a succeeded run has a result (ftflow status ${runId} says why)`,
    );
    this.name = 'RunHasNoResultError';
  }
}

export class ScheduleExistsError extends ControlError {
  constructor(readonly scheduleId: string) {
    super('conflict', `schedule ${scheduleId} already exists; delete it first or choose another id`);
    this.name = 'ScheduleExistsError';
  }
}

export function invalid(field: string, message: string): ControlError {
  return new ControlError('invalid', `${field}: ${message}`, [{ field, message }]);
}

/** Workflow update failures a caller causes: the change the run refuses (keepAlive.ts in src/workflows/). */
const REFUSED_UPDATE_TYPES = new Set(['InvalidEndpointLifetimeChange']);

/** Any error a caller caused, as a ControlError; other errors are returned unchanged. */
export function asControlError(err: unknown): unknown {
  if (err instanceof RunSpecError) return new ControlError('invalid', err.message, err.issues);
  if (err instanceof InvalidFilterError) return invalid(err.field, err.message);
  if (
    err instanceof WorkflowUpdateFailedError &&
    err.cause instanceof ApplicationFailure &&
    REFUSED_UPDATE_TYPES.has(err.cause.type ?? '')
  )
    return new ControlError('conflict', err.cause.message);
  return err;
}

/** Temporal could not be reached: classified where the connection is made (src/config/temporalConnection.ts). */
export { isUnavailable } from '../config/temporalConnection';
