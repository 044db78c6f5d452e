// Streaming rows out of parquet (over HTTP range requests or from a local file) and JSONL
// (local or https), one row group / one batch of lines at a time.
//
// Memory: a parquet file is never downloaded whole. The footer is read first, then each row group
// that overlaps the wanted rows is fetched with Range requests and decoded on its own; at most the
// current row group and the one being read ahead are held. JSONL is read line by line.
//
// Row numbering: rows are numbered across the files in the order given (shard 00000 first), from 0.
// `limit` is where the slice ends (exclusive) and `startRow` where reading resumes, so
// readRows(files, { limit: 10393, startRow: 5000 }) yields rows 5000..10392 of the split.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { errorMessage } from './util';
import { UnparsableLine } from './validate';

/** A parquet file reachable over HTTP(S). HubFile fits. */
export interface ParquetFileRef {
  url: string;
  /** Byte size; when absent a HEAD request finds it. */
  size?: number;
  /** Name used in messages (e.g. the repository path); defaults to the URL without its query. */
  path?: string;
}

/** Counters a reader updates as it goes (for heartbeats and benchmarks). */
export interface ReadStats {
  requests: number;
  bytesFetched: number;
}

export interface ReadRowsOptions {
  /** End of the slice (exclusive), counted from row 0 of the first file. Default: all rows. */
  limit?: number;
  /** First row to yield (resume point). Default 0. */
  startRow?: number;
  /** Bearer token for the file URLs (the Hub's HF_TOKEN). */
  token?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Columns to read (parquet only). Default: all. */
  columns?: string[];
  /** Replaces global fetch (tests). */
  fetch?: typeof fetch;
  /** Updated while reading. */
  stats?: ReadStats;
  /** Rows per batch for JSONL sources. Default 1000. */
  jsonlBatchSize?: number;
  /** Format of a readLocalRows source whose name does not say it. */
  format?: 'parquet' | 'jsonl';
}

export interface RowBatch {
  /** Index of rows[0] in the whole sequence (across files). */
  startRow: number;
  /** Raw rows, to be checked with validateChatRow (an unparsable JSONL line is an UnparsableLine). */
  rows: unknown[];
  /** The file the rows came from (path or URL without query). */
  file: string;
  /** Position of that file in the list. */
  fileIndex: number;
  /** Row group within the file (parquet), or batch number (JSONL). */
  chunk: number;
}

const MAX_ATTEMPTS = 4;
const WHOLE_BODY_LIMIT = 8 * 1024 * 1024;
/** First guess at the footer size; hyparquet fetches the rest when the footer is larger. */
const FOOTER_FETCH_SIZE = 64 * 1024;

function displayName(url: string): string {
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

function requestHeaders(opts: ReadRowsOptions): Record<string, string> {
  return { ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}), ...(opts.headers ?? {}) };
}

/** fetch with a few retries on network errors, 408/429 and 5xx (honouring Retry-After). */
async function fetchWithRetry(url: string, init: RequestInit, opts: ReadRowsOptions, what: string): Promise<Response> {
  const doFetch = opts.fetch ?? fetch;
  let lastError = '';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (opts.stats) opts.stats.requests++;
    try {
      const res = await doFetch(url, init);
      if (!isTransientStatus(res.status) || attempt === MAX_ATTEMPTS) return res;
      lastError = `HTTP ${res.status}`;
      const retryAfter = Number(res.headers.get('retry-after'));
      await res.body?.cancel().catch(() => undefined);
      await delay(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 30_000) : 250 * 2 ** attempt);
    } catch (err) {
      lastError = errorMessage(err);
      if (attempt === MAX_ATTEMPTS) break;
      await delay(250 * 2 ** attempt);
    }
  }
  throw new Error(`${what}: request failed after ${MAX_ATTEMPTS} attempts (${lastError})`);
}

function statusError(res: Response, what: string): Error {
  const code = res.headers.get('x-error-code');
  const msg = res.headers.get('x-error-message');
  const hint = res.status === 401 || res.status === 403 ? ' (check the token: HF_TOKEN)' : '';
  return new Error(`${what}: HTTP ${res.status}${code ? ` ${code}` : ''}${msg ? ` — ${msg}` : ''}${hint}`);
}

/** Byte length of a remote file: HEAD, or a one-byte range request when HEAD gives no length. */
async function remoteSize(url: string, opts: ReadRowsOptions): Promise<number> {
  const what = `reading ${displayName(url)}`;
  const head = await fetchWithRetry(url, { method: 'HEAD', headers: requestHeaders(opts) }, opts, what);
  if (!head.ok) throw statusError(head, what);
  const length = Number(head.headers.get('content-length'));
  if (head.headers.get('content-length') !== null && Number.isSafeInteger(length)) return length;
  const probe = await fetchWithRetry(url, { headers: { ...requestHeaders(opts), Range: 'bytes=0-0' } }, opts, what);
  const range = /\/(\d+)\s*$/.exec(probe.headers.get('content-range') ?? '');
  await probe.body?.cancel().catch(() => undefined);
  if (probe.status === 206 && range?.[1]) return Number(range[1]);
  throw new Error(`${what}: the server reports no file size (no Content-Length or Content-Range)`);
}

/**
 * An AsyncBuffer over HTTP range requests. Each slice is one `Range: bytes=a-b` request; a server
 * that ignores Range is only tolerated for small files (it would otherwise send the whole file).
 */
export function httpAsyncBuffer(url: string, byteLength: number, opts: ReadRowsOptions = {}): AsyncBuffer {
  const what = `reading ${displayName(url)}`;
  return {
    byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? byteLength, byteLength);
      if (stop <= start) return new ArrayBuffer(0);
      const res = await fetchWithRetry(url, { headers: { ...requestHeaders(opts), Range: `bytes=${start}-${stop - 1}` } }, opts, what);
      if (res.status === 206) {
        const body = await res.arrayBuffer();
        if (opts.stats) opts.stats.bytesFetched += body.byteLength;
        if (body.byteLength !== stop - start) {
          throw new Error(`${what}: asked for bytes ${start}-${stop - 1} and got ${body.byteLength} bytes`);
        }
        return body;
      }
      if (res.status === 200) {
        if (byteLength > WHOLE_BODY_LIMIT) {
          await res.body?.cancel().catch(() => undefined);
          throw new Error(`${what}: the server ignores Range requests; refusing to download the whole ${byteLength}-byte file`);
        }
        const body = await res.arrayBuffer();
        if (opts.stats) opts.stats.bytesFetched += body.byteLength;
        return body.slice(start, stop);
      }
      await res.body?.cancel().catch(() => undefined);
      throw statusError(res, what);
    },
  };
}

interface ParquetSource {
  name: string;
  open(): Promise<AsyncBuffer>;
}

async function readFooter(buffer: AsyncBuffer, name: string): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(buffer, { initialFetchSize: FOOTER_FETCH_SIZE });
  } catch (err) {
    throw new Error(`reading ${name}: not a readable parquet file (${errorMessage(err)})`);
  }
}

/** Rows [from, to) of one parquet file, one row group at a time, reading one group ahead. */
async function* readParquetGroups(
  buffer: AsyncBuffer,
  metadata: FileMetaData,
  fileStart: number,
  from: number,
  to: number,
  meta: { name: string; fileIndex: number; columns?: string[] },
): AsyncGenerator<RowBatch> {
  const tasks: { group: number; start: number; end: number }[] = [];
  let groupStart = fileStart;
  for (let g = 0; g < metadata.row_groups.length; g++) {
    const groupEnd = groupStart + Number(metadata.row_groups[g].num_rows);
    const start = Math.max(from, groupStart);
    const end = Math.min(to, groupEnd);
    if (start < end) tasks.push({ group: g, start, end });
    groupStart = groupEnd;
    if (groupStart >= to) break;
  }
  const read = (t: { start: number; end: number }): Promise<Record<string, unknown>[]> =>
    parquetReadObjects({
      file: buffer,
      metadata,
      rowStart: t.start - fileStart,
      rowEnd: t.end - fileStart,
      ...(meta.columns ? { columns: meta.columns } : {}),
    }).catch((err: unknown) => {
      throw new Error(`reading ${meta.name} rows ${t.start - fileStart}-${t.end - fileStart - 1}: ${errorMessage(err)}`);
    });
  let next: Promise<Record<string, unknown>[]> | undefined = tasks.length ? read(tasks[0]) : undefined;
  for (let i = 0; i < tasks.length && next; i++) {
    const rows = await next;
    next = i + 1 < tasks.length ? read(tasks[i + 1]) : undefined;
    // its failure surfaces when awaited; this only avoids an unhandled rejection if the caller stops early
    next?.catch(() => undefined);
    yield { startRow: tasks[i].start, rows, file: meta.name, fileIndex: meta.fileIndex, chunk: tasks[i].group };
  }
}

async function* readParquetSources(sources: readonly ParquetSource[], opts: ReadRowsOptions): AsyncGenerator<RowBatch> {
  const limit = opts.limit ?? Infinity;
  const startRow = opts.startRow ?? 0;
  checkRange(limit, startRow);
  if (startRow >= limit) return;
  let fileStart = 0;
  for (let i = 0; i < sources.length && fileStart < limit; i++) {
    const source = sources[i];
    const buffer = await source.open();
    const metadata = await readFooter(buffer, source.name);
    const fileEnd = fileStart + Number(metadata.num_rows);
    if (startRow < fileEnd) {
      yield* readParquetGroups(buffer, metadata, fileStart, Math.max(startRow, fileStart), Math.min(limit, fileEnd), {
        name: source.name,
        fileIndex: i,
        ...(opts.columns ? { columns: opts.columns } : {}),
      });
    }
    fileStart = fileEnd;
  }
}

function checkRange(limit: number, startRow: number): void {
  if (!(limit >= 0) || (Number.isFinite(limit) && !Number.isSafeInteger(limit))) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  if (!Number.isSafeInteger(startRow) || startRow < 0) {
    throw new RangeError(`startRow must be a non-negative integer, got ${startRow}`);
  }
}

function httpSource(ref: ParquetFileRef, opts: ReadRowsOptions): ParquetSource {
  const name = ref.path ?? displayName(ref.url);
  return {
    name,
    open: async () => httpAsyncBuffer(ref.url, ref.size ?? (await remoteSize(ref.url, opts)), opts),
  };
}

function localParquetSource(path: string, opts: ReadRowsOptions): ParquetSource {
  return {
    name: path,
    open: async () => {
      const buffer = await asyncBufferFromFile(path);
      const stats = opts.stats;
      if (!stats) return buffer;
      return {
        byteLength: buffer.byteLength,
        async slice(start: number, end?: number): Promise<ArrayBuffer> {
          const data = await buffer.slice(start, end);
          stats.requests++;
          stats.bytesFetched += data.byteLength;
          return data;
        },
      };
    },
  };
}

/**
 * Rows of parquet files read over HTTP range requests, in file order, one row group per batch.
 * Yields rows [startRow, limit) of the concatenation (see the header of this file).
 */
export function readRows(files: readonly ParquetFileRef[], opts: ReadRowsOptions = {}): AsyncGenerator<RowBatch> {
  return readParquetSources(
    files.map((f) => httpSource(f, opts)),
    opts,
  );
}

/** Total rows of parquet files, from their footers only. */
export async function countRows(files: readonly ParquetFileRef[], opts: ReadRowsOptions = {}): Promise<number> {
  let total = 0;
  for (const f of files) {
    const source = httpSource(f, opts);
    total += Number((await readFooter(await source.open(), source.name)).num_rows);
  }
  return total;
}

type LocalFormat = 'parquet' | 'jsonl';

function formatOf(location: string, override?: LocalFormat): LocalFormat {
  if (override) return override;
  let path = location;
  try {
    path = new URL(location).pathname;
  } catch {
    // a plain file path
  }
  const lower = path.toLowerCase();
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.jsonl') || lower.endsWith('.json') || lower.endsWith('.ndjson')) return 'jsonl';
  throw new Error(`cannot tell the format of ${displayName(location)}: name it .jsonl or .parquet (or pass format)`);
}

async function* readJsonlLines(lines: AsyncIterable<string>, name: string, opts: ReadRowsOptions): AsyncGenerator<RowBatch> {
  const limit = opts.limit ?? Infinity;
  const startRow = opts.startRow ?? 0;
  checkRange(limit, startRow);
  const batchSize = Math.max(1, opts.jsonlBatchSize ?? 1000);
  let lineNumber = 0;
  let row = 0;
  let chunk = 0;
  let batch: unknown[] = [];
  let batchStart = startRow;
  if (limit <= startRow) return;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    const index = row++;
    if (index < startRow) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      value = new UnparsableLine(lineNumber, errorMessage(err));
    }
    batch.push(value);
    if (index + 1 >= limit) break;
    if (batch.length >= batchSize) {
      yield { startRow: batchStart, rows: batch, file: name, fileIndex: 0, chunk: chunk++ };
      batch = [];
      batchStart = index + 1;
    }
  }
  if (batch.length) yield { startRow: batchStart, rows: batch, file: name, fileIndex: 0, chunk };
}

async function* countingLines(input: Readable, stats: ReadStats | undefined): AsyncGenerator<string> {
  if (stats) input.on('data', (chunk: Buffer | string) => (stats.bytesFetched += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length));
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
    input.destroy();
  }
}

/**
 * Rows of one local file (path or file:// URL) or https URL, .jsonl or .parquet, streamed.
 * Same [startRow, limit) semantics as readRows; JSONL blank lines are not rows, and a line that
 * is not JSON is yielded as an UnparsableLine (so it counts as one invalid row).
 */
export async function* readLocalRows(location: string, opts: ReadRowsOptions = {}): AsyncGenerator<RowBatch> {
  const format = formatOf(location, opts.format);
  const isHttp = /^https?:\/\//i.test(location);
  const path = location.startsWith('file:') ? fileURLToPath(location) : location;

  if (format === 'parquet') {
    const source = isHttp ? httpSource({ url: location }, opts) : localParquetSource(path, opts);
    yield* readParquetSources([source], opts);
    return;
  }

  if (isHttp) {
    const what = `reading ${displayName(location)}`;
    const res = await fetchWithRetry(location, { headers: requestHeaders(opts) }, opts, what);
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw statusError(res, what);
    }
    const input = Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
    yield* readJsonlLines(countingLines(input, opts.stats), displayName(location), opts);
    return;
  }

  await stat(path).catch((err: unknown) => {
    throw new Error(`reading ${path}: ${errorMessage(err)}`);
  });
  if (opts.stats) opts.stats.requests++;
  yield* readJsonlLines(countingLines(createReadStream(path), opts.stats), path, opts);
}
