// Small helpers shared by the dataset readers.

/** The message of anything thrown (also for errors from another realm, where instanceof fails). */
export function errorMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') {
    const cause = 'cause' in err ? err.cause : undefined;
    // fetch reports network failures as "fetch failed" with the real reason in `cause`
    if (
      err.message === 'fetch failed' &&
      typeof cause === 'object' &&
      cause !== null &&
      'message' in cause &&
      typeof cause.message === 'string'
    ) {
      return cause.message;
    }
    return err.message;
  }
  return String(err);
}

/** A file that is not what its name says (not parquet, not readable as the format). Not worth retrying. */
export class FormatError extends Error {
  override readonly name = 'FormatError';
}

/** An HTTP answer that is not the file; `status` lets the caller decide whether to retry. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** A local file that cannot be read (missing, a folder, no permission). Not worth retrying. */
export class FileNotReadable extends Error {
  override readonly name = 'FileNotReadable';
}

/**
 * A dataset URL or path the worker will not read (its scheme, the address it resolves to, a redirect,
 * a local path outside the data root): the run spec has to change, so retrying is pointless.
 */
export class SourceRefused extends Error {
  override readonly name = 'SourceRefused';
}

export type UnreachableProblem = 'dns' | 'refused' | 'timeout' | 'tls' | 'network';

/**
 * A dataset server that could not be reached, or stopped answering (DNS failure, connection refused,
 * a connect, response or idle timeout). `retryable` tells the reader whether another attempt may help;
 * once the reader's own attempts are spent it is final for the run.
 */
export class SourceUnreachable extends Error {
  override readonly name = 'SourceUnreachable';
  constructor(
    message: string,
    readonly problem: UnreachableProblem,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * Something the run spec names that cannot be used (a bad file reference, a path outside the datastore,
 * a split with no rows): the run fails with this code, whatever the attempt.
 */
export class PlanRefusal extends Error {
  override readonly name = 'PlanRefusal';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * An error met while reading what one field of the spec names: the run reports it under that field
 * (src/azure/errors.ts, datasetFailure).
 */
export class FieldFailure extends Error {
  override readonly name = 'FieldFailure';
  constructor(
    readonly field: string,
    cause: unknown,
  ) {
    super(`${field}: ${errorMessage(cause)}`, { cause });
  }
}
