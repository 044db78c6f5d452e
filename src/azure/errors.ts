// The one place where failures are classified into retryable and non-retryable. Activities wrap their
// bodies with `asActivityFailure`, so retry policies follow from this table and nowhere else.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { BlobNotFound } from '../dataset/bytes';
import { HubError } from '../dataset/hub';
import { StagingError } from '../dataset/stageSplit';
import {
  FieldFailure,
  FileNotReadable,
  FormatError,
  HttpStatusError,
  PlanRefusal,
  SourceRefused,
  SourceUnreachable,
} from '../dataset/util';
import { MAX_FAILURE_MESSAGE_CHARS, truncateText } from '../runSpec/limits';

export type FailureKind =
  | 'throttled' // 429: wait for Retry-After
  | 'transient' // 5xx, 408, conflicting operation in progress
  | 'network' // connection reset/refused/timeout
  | 'validation' // 400 and our own input checks
  | 'quota'
  | 'capacity'
  | 'auth'
  | 'notFound'
  | 'jobFailed'
  | 'unknown';

const RETRYABLE: ReadonlySet<FailureKind> = new Set(['throttled', 'transient', 'network', 'unknown']);

export interface Classified {
  kind: FailureKind;
  retryable: boolean;
  status?: number;
  code?: string;
  message: string;
  retryAfterMs?: number;
}

/**
 * A failure's message as it may travel: at most MAX_FAILURE_MESSAGE_CHARS (the head kept, the number
 * of characters cut said). Applied where failures are created (RunFailure, asActivityFailure,
 * retriedUntilDone), so no input, however large, makes a failure Temporal cannot carry (gRPC refuses
 * messages over 4 MB; an activity whose failure cannot be reported is retried, never failed).
 */
export function failureMessage(message: string): string {
  return truncateText(message, MAX_FAILURE_MESSAGE_CHARS);
}

/** A failure we raise ourselves with a known kind (bad input, a job that failed, a refused check). */
export class RunFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly code: string = kind,
  ) {
    super(failureMessage(message));
    this.name = 'RunFailure';
  }
}

const QUOTA_CODES = /quota|limitexceeded|insufficientquota/i;
const CAPACITY_CODES = /capacity|skunotavailable|allocationfailed|zonalallocationfailed|overconstrained/i;
const LRO_FAILURE = /^The long-running operation has failed\. (\w+)\. /;
const TRANSIENT_LRO_CODES =
  /^(InternalServerError|ServiceUnavailable|ServerBusy|GatewayTimeout|TooManyRequests|RequestTimeout)$/i;
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'REQUEST_SEND_ERROR',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  statusCode?: unknown;
  status?: unknown;
  code?: unknown;
  cause?: unknown;
  retryAfterMs?: unknown;
  response?: { headers?: { get?(name: string): string | undefined }; bodyAsText?: string | null };
}

function asRecord(value: unknown): ErrorLike {
  return typeof value === 'object' && value !== null ? (value as ErrorLike) : {};
}

/** Parses Retry-After (seconds or HTTP date) and retry-after-ms headers into milliseconds. */
export function parseRetryAfter(
  headers: { get(name: string): string | null | undefined },
  now = Date.now(),
): number | undefined {
  const ms = headers.get('retry-after-ms') ?? headers.get('x-ms-retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const value = headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function armErrorFromBody(body: string | null | undefined): { code?: string; message?: string } {
  if (!body) return {};
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
    const message = typeof parsed.error?.message === 'string' ? parsed.error.message : undefined;
    return { code, message };
  } catch {
    return {};
  }
}

function kindFor(status: number | undefined, code: string | undefined, message = ''): FailureKind {
  const text = `${code ?? ''} ${status !== undefined && status >= 400 ? message : ''}`;
  if (status === 429) return 'throttled';
  if (QUOTA_CODES.test(text)) return 'quota';
  if (CAPACITY_CODES.test(text)) return 'capacity';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'notFound';
  if (status === 408 || status === 409 || (status !== undefined && status >= 500 && status !== 501 && status !== 505))
    return 'transient';
  if (status !== undefined && status >= 400) return 'validation';
  if (code && NETWORK_CODES.has(code)) return 'network';
  return 'unknown';
}

/** Maps any error (ARM RestError, fetch failure, identity error, our own) to a kind and a retry decision. */
export function classifyError(err: unknown): Classified {
  if (err instanceof RunFailure) {
    return { kind: err.kind, retryable: RETRYABLE.has(err.kind), code: err.code, message: err.message };
  }
  const e = asRecord(err);
  const message = typeof e.message === 'string' ? e.message : String(err);
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationRequiredError') {
    return { kind: 'auth', retryable: false, message };
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
  const fromBody = armErrorFromBody(e.response?.bodyAsText);
  let code = fromBody.code ?? (typeof e.code === 'string' ? e.code : undefined);
  if (status === undefined && code === undefined) {
    const cause = asRecord(e.cause);
    if (typeof cause.code === 'string') code = cause.code;
  }
  // The SDK's long-running-operation poller rejects with a plain Error: "The long-running operation has
  // failed. <Code>. <message>". Read the code from it and judge it as the 4xx it was on Azure's side.
  let judgedStatus = status;
  const lro = status === undefined && code === undefined ? LRO_FAILURE.exec(message) : null;
  if (lro) {
    code = lro[1];
    judgedStatus = TRANSIENT_LRO_CODES.test(code) ? 500 : 400;
  }
  let kind = kindFor(judgedStatus, code, fromBody.message ?? message);
  if (name === 'AuthenticationError' && (status === undefined || status < 500)) kind = 'auth';
  if (kind === 'unknown' && /fetch failed|socket hang up|network/i.test(message)) kind = 'network';
  const headers = e.response?.headers;
  const retryAfterMs =
    typeof e.retryAfterMs === 'number'
      ? e.retryAfterMs
      : headers && typeof headers.get === 'function'
        ? parseRetryAfter({ get: (n: string) => headers.get?.(n) })
        : undefined;
  return { kind, retryable: RETRYABLE.has(kind), status, code, message: fromBody.message ?? message, retryAfterMs };
}

/**
 * An error of the dataset code (src/dataset/) as stageDataset reports it, under the spec field it concerns:
 * a FieldFailure says which field, a PlanRefusal is a validation failure as it is, and with a field the
 * reading errors get their kind (the Hub's network errors retried, a refused or unreadable file not).
 * Anything else is returned as it is, for classifyError.
 */
export function datasetFailure(err: unknown, field?: string): unknown {
  if (err instanceof FieldFailure) return datasetFailure(err.cause, err.field);
  if (err instanceof PlanRefusal) return new RunFailure('validation', err.message, err.code);
  if (field === undefined) return err;
  if (err instanceof HubError) {
    const kind =
      err.code === 'Network' || err.code === 'BadResponse' || err.code === 'Http'
        ? 'transient'
        : err.code === 'Unauthorized'
          ? 'auth'
          : 'validation';
    return new RunFailure(kind, `${err.message} (${field})`, `Hub${err.code}`);
  }
  if (err instanceof StagingError) {
    const hint = err.code === 'TooManyInvalidRows' ? ' (dataset.maxInvalidFraction)' : '';
    return new RunFailure('validation', `${err.message}${hint}`, err.code);
  }
  if (err instanceof BlobNotFound || err instanceof FormatError || err instanceof FileNotReadable) {
    return new RunFailure('validation', `${field}: ${err.message}`, err.name);
  }
  if (err instanceof SourceRefused) {
    return new RunFailure('validation', `${field}: ${err.message}`, 'DatasetSourceRefused');
  }
  if (err instanceof SourceUnreachable && field.startsWith('dataset.files.')) {
    // A connection lost in the middle of a body: the activity retries and resumes where it was.
    if (err.retryable) return new RunFailure('network', `${field}: ${err.message}`, 'DatasetSourceUnreachable');
    // The reader already retried (or the server stopped answering): another activity attempt would
    // only repeat the wait, twenty times over.
    return new RunFailure(
      'validation',
      `${field}: ${err.message}. Check that the URL is right and its server is up and reachable from the worker, or copy the file to the workspace datastore and give its azureml://datastores/<name>/paths/<path> URI`,
      'DatasetSourceUnreachable',
    );
  }
  if (err instanceof HttpStatusError && err.status < 500 && err.status !== 408 && err.status !== 429) {
    // A file server's refusal is about that server, not the worker's Azure credentials (no auth hint).
    const denied = (err.status === 401 || err.status === 403) && !field.startsWith('dataset.files.');
    return new RunFailure(denied ? 'auth' : 'validation', `${field}: ${err.message}`, 'DatasetFileUnreadable');
  }
  return err;
}

const HINTS: Partial<Record<FailureKind, string>> = {
  auth: 'check the service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) or `az login`, and its role on the workspace',
  quota: 'request more quota for this VM family in the workspace region, or choose a smaller size',
  capacity: 'the region has no capacity for this size now: retry later or choose another size or region',
  notFound: 'check the names in the run spec and the workspace settings',
};

/** Converts an error into the ApplicationFailure Temporal retries (or not) according to its kind. */
export function asActivityFailure(err: unknown, step: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) {
    if (err.message.length <= MAX_FAILURE_MESSAGE_CHARS) return err;
    return ApplicationFailure.create({
      message: failureMessage(err.message),
      type: err.type ?? undefined,
      nonRetryable: err.nonRetryable ?? undefined,
      details: err.details ?? undefined,
      nextRetryDelay: err.nextRetryDelay ?? undefined,
      category: err.category ?? undefined,
      cause: err.cause instanceof Error ? err.cause : undefined,
    });
  }
  const c = classifyError(err);
  const hint = HINTS[c.kind];
  const where =
    c.status !== undefined ? ` (HTTP ${c.status}${c.code ? ` ${c.code}` : ''})` : c.code ? ` (${c.code})` : '';
  // The cause's text may be anything (an Azure error body, a huge input echoed): cut it, keep the rest.
  const text = truncateText(c.message, MAX_FAILURE_MESSAGE_CHARS - 1024);
  return ApplicationFailure.create({
    message: failureMessage(`${step}: ${text}${where}${hint && !c.retryable ? `. Hint: ${hint}` : ''}`),
    type: `Azure${c.kind[0].toUpperCase()}${c.kind.slice(1)}`,
    nonRetryable: !c.retryable,
    nextRetryDelay: c.kind === 'throttled' && c.retryAfterMs !== undefined ? Math.max(c.retryAfterMs, 1000) : undefined,
    details: [{ kind: c.kind, status: c.status ?? null, code: c.code ?? null }],
  });
}

/** Runs an activity body and converts whatever it throws through the classifier. */
export async function classified<T>(step: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    // A cancelled activity must surface as cancelled (CancelledFailure or AbortError), not as a failure.
    if (isCancellationError(err)) throw err;
    throw asActivityFailure(err, step);
  }
}

export function isCancellationError(err: unknown): boolean {
  return err instanceof CancelledFailure || asRecord(err).name === 'AbortError';
}

export function isNotFound(err: unknown): boolean {
  return classifyError(err).kind === 'notFound';
}

export function isConflict(err: unknown): boolean {
  return classifyError(err).status === 409;
}

/**
 * For cleanup (deleting an endpoint, cancelling a job): every failure is retried, even one classified
 * non-retryable, because giving up leaves something billing; an operator can fix credentials or quota
 * while the retries wait (backoff capped by the workflow's retry policy).
 */
export async function retriedUntilDone<T>(step: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (isCancellationError(err)) throw err;
    const failure = asActivityFailure(err, step);
    if (!failure.nonRetryable) throw failure;
    throw ApplicationFailure.create({
      message: failureMessage(`${failure.message} (cleanup keeps retrying)`),
      type: failure.type ?? undefined,
      nonRetryable: false,
      details: failure.details ?? undefined,
    });
  }
}
