// HTTP plumbing shared by the dataset readers: retries on throttling, 5xx and network errors, error
// messages that never carry a token, a query string or anything the server sent (its status code
// only), and a file's size and version from HEAD.
import type { FetchLike } from './guardedFetch';
import { errorMessage, HttpStatusError, SourceRefused, SourceUnreachable } from './util';

/** Counters a reader updates as it goes (for heartbeats and benchmarks). */
export interface ReadStats {
  requests: number;
  bytesFetched: number;
}

export interface HttpOptions {
  /** Bearer token for the URLs (the Hub's HF_TOKEN). */
  token?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Replaces global fetch: the guarded fetch for user-given URLs (guardedFetch.ts), or a test's. */
  fetch?: FetchLike;
  /** Updated while reading. */
  stats?: ReadStats;
}

const MAX_ATTEMPTS = 4;
/** A server that timed out twice is not answering: two attempts, not four (each may take the whole timeout). */
const MAX_TIMEOUT_ATTEMPTS = 2;

/** A URL as it may appear in messages and records: origin and path, no query (it may hold a signature). */
export function displayName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function requestHeaders(opts: HttpOptions): Record<string, string> {
  return { ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}), ...(opts.headers ?? {}) };
}

/**
 * fetch with a few retries on network errors, 408/429 and 5xx (honouring Retry-After). A refused
 * source (SourceRefused) and a failure another attempt cannot fix (a name that does not resolve, a
 * bad TLS certificate) are not retried; when the attempts are spent, the last network failure is
 * thrown as a final SourceUnreachable (retryable: false) that says what happened and how many
 * attempts were made.
 */
export async function fetchWithRetry(
  url: string,
  init: RequestInit,
  opts: HttpOptions,
  what: string,
): Promise<Response> {
  const doFetch: FetchLike = opts.fetch ?? fetch;
  let last: SourceUnreachable | undefined;
  let attempts = 0;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    attempts = attempt;
    if (opts.stats) opts.stats.requests++;
    try {
      const res = await doFetch(url, init);
      if (!isTransientStatus(res.status) || attempt === MAX_ATTEMPTS) return res;
      last = undefined;
      const retryAfter = Number(res.headers.get('retry-after'));
      await res.body?.cancel().catch(() => undefined);
      await delay(
        Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 30_000) : 250 * 2 ** attempt,
      );
    } catch (err) {
      if (init.signal?.aborted) throw err;
      if (err instanceof SourceRefused) throw new SourceRefused(`${what}: ${err.message}`);
      last =
        err instanceof SourceUnreachable
          ? err
          : new SourceUnreachable(`the request failed (${errorMessage(err)})`, 'network', true);
      if (!last.retryable) break;
      if (attempt === MAX_ATTEMPTS || (last.problem === 'timeout' && attempt >= MAX_TIMEOUT_ATTEMPTS)) break;
      await delay(250 * 2 ** attempt);
    }
  }
  // This reader's attempts are spent: final as far as it is concerned (retryable: false).
  const problem = last ?? new SourceUnreachable('the request failed', 'network', true);
  throw new SourceUnreachable(
    `${what}: ${problem.message}${attempts > 1 ? ` (${attempts} attempts)` : ''}`,
    problem.problem,
    false,
  );
}

/**
 * An answer that is not the file, as an error that names the status only: headers and body are the
 * server's text, which must not reach messages or records (a dataset URL may point anywhere).
 */
export function statusError(res: Response, what: string, opts: Pick<HttpOptions, 'token'> = {}): HttpStatusError {
  const denied = res.status === 401 || res.status === 403;
  const hint = denied
    ? opts.token
      ? ' (check the token: HF_TOKEN)'
      : ' (the server refused access: serve the file without authentication, or copy it to the workspace datastore)'
    : res.status === 404
      ? ' (no such file: check the URL)'
      : '';
  return new HttpStatusError(`${what}: HTTP ${res.status}${hint}`, res.status);
}

export interface RemoteFileInfo {
  size: number;
  /** ETag or Last-Modified (with the size): what tells a changed file apart. Undefined when the server sends neither. */
  version?: string;
}

/** Size and version of a remote file: HEAD, or a one-byte range request when HEAD gives no length. */
export async function remoteFileInfo(url: string, opts: HttpOptions): Promise<RemoteFileInfo> {
  const what = `reading ${displayName(url)}`;
  const head = await fetchWithRetry(url, { method: 'HEAD', headers: requestHeaders(opts) }, opts, what);
  if (!head.ok) throw statusError(head, what, opts);
  const versionOf = (res: Response, size: number): string | undefined => {
    const etag = res.headers.get('etag');
    const modified = res.headers.get('last-modified');
    return etag || modified ? `${etag ?? ''}|${modified ?? ''}|${size}` : undefined;
  };
  const length = Number(head.headers.get('content-length'));
  if (head.headers.get('content-length') !== null && Number.isSafeInteger(length)) {
    const version = versionOf(head, length);
    return version === undefined ? { size: length } : { size: length, version };
  }
  const probe = await fetchWithRetry(url, { headers: { ...requestHeaders(opts), Range: 'bytes=0-0' } }, opts, what);
  const range = /\/(\d+)\s*$/.exec(probe.headers.get('content-range') ?? '');
  await probe.body?.cancel().catch(() => undefined);
  if (probe.status === 206 && range?.[1]) {
    const size = Number(range[1]);
    const version = versionOf(probe, size);
    return version === undefined ? { size } : { size, version };
  }
  throw new Error(`${what}: the server reports no file size (no Content-Length or Content-Range)`);
}

/** Byte length of a remote file. */
export async function remoteSize(url: string, opts: HttpOptions): Promise<number> {
  return (await remoteFileInfo(url, opts)).size;
}
