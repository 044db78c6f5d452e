// One split's rows, wherever they come from: the parquet shards of a Hub dataset split, or one
// JSONL / parquet file (local, http(s), or a blob of the workspace's datastore). The staging code
// sees only this: a name for messages, an identity for the content key, a row count, and rows from
// a resume point on.
import type { ByteSource } from './bytes';
import type { HubFile } from './hub';
import { countJsonlRows } from './lines';
import { byteParquetFiles, httpParquetFiles, readSourceRows, type FileFormat } from './parquet';
import type { RowBatch } from './rows';
import type { HttpOptions } from './http';

/** Where reading starts: a row, and for JSONL the byte offset of that row's line when known. */
export interface ReadPosition {
  row: number;
  offset?: number;
}

export interface SplitSource {
  /** For messages and records: never a token or a query string. */
  readonly name: string;
  /** Counting is a footer read (parquet), not a pass over the data (JSONL). */
  readonly countIsCheap: boolean;
  /**
   * What the rows are: a location and a version that changes when the content does. Without a
   * version (an http server that sends no ETag or Last-Modified) staged copies are never reused.
   */
  identity(): Promise<{ location: string; version?: string }>;
  countRows(signal?: AbortSignal): Promise<number>;
  /**
   * Rows [from.row, limit), in order. With `textAsBytes` a parquet source may yield text values as
   * UTF-8 bytes (Uint8Array); validateChatRow and writeJsonLine take both. With `transient` too, a
   * batch's rows are valid only until the next batch is asked for (ReadRowsOptions.transient).
   */
  read(
    from: ReadPosition,
    limit: number,
    signal?: AbortSignal,
    opts?: { textAsBytes?: boolean; transient?: boolean },
  ): AsyncGenerator<RowBatch>;
}

/** A split of a Hub dataset at a resolved commit: its parquet shards, in order. */
export function hubSplitSource(
  repoId: string,
  sha: string,
  split: string,
  files: readonly HubFile[],
  opts: HttpOptions = {},
): SplitSource {
  const shards = httpParquetFiles(files, opts);
  return {
    name: `${repoId}@${sha.slice(0, 7)} ${split}`,
    countIsCheap: true,
    identity: async () => ({ location: `hf:${repoId}/${split}`, version: sha }),
    countRows: () => shards.countRows(),
    read: (from, limit, _signal, readOpts) =>
      shards.read({
        startRow: from.row,
        limit,
        ...(readOpts?.textAsBytes ? { textAsBytes: true } : {}),
        ...(readOpts?.transient ? { transient: true } : {}),
      }),
  };
}

/** One file holding a whole split. */
export function fileSplitSource(bytes: ByteSource, format: FileFormat, location: string): SplitSource {
  const parquet = format === 'parquet' ? byteParquetFiles([bytes]) : undefined;
  return {
    name: bytes.name,
    countIsCheap: format === 'parquet',
    async identity() {
      const info = await bytes.info();
      return info.version === undefined ? { location } : { location, version: info.version };
    },
    countRows: (signal) => (parquet ? parquet.countRows() : countJsonlRows(bytes, signal)),
    read: (from, limit, signal, readOpts) =>
      parquet
        ? parquet.read({
            startRow: from.row,
            ...(Number.isFinite(limit) ? { limit } : {}),
            ...(readOpts?.textAsBytes ? { textAsBytes: true } : {}),
            ...(readOpts?.transient ? { transient: true } : {}),
          })
        : readSourceRows(bytes, format, {
            startRow: from.row,
            ...(from.offset !== undefined && format === 'jsonl' ? { startOffset: from.offset } : {}),
            ...(Number.isFinite(limit) ? { limit } : {}),
            ...(signal ? { signal } : {}),
          }),
  };
}
