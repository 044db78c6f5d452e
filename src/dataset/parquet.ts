// Streaming rows out of parquet (over HTTP range requests, from a local file or from a blob) and
// JSONL (local, http(s) or blob), one row group / one batch of lines at a time.
//
// Memory: a parquet file is never downloaded whole. The footer is read first, then each row group
// that overlaps the wanted rows is fetched with ranged reads and decoded on its own; what is held is
// the current row group, decoded, and the compressed bytes of the ones read ahead (PREFETCH_BYTES,
// at least one group). JSONL is read line by line (lines.ts).
//
// Row numbering: rows are numbered across the files in the order given (shard 00000 first), from 0.
// `limit` is where the slice ends (exclusive) and `startRow` where reading resumes, so
// readRows(files, { limit: 10393, startRow: 5000 }) yields rows 5000..10392 of the split.

import { fileURLToPath } from 'node:url';
import { parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { AsyncBuffer, Compressors, FileMetaData } from 'hyparquet';
import { snappyUncompressor } from 'hysnappy';
import { httpByteSource, isRangeReader, localByteSource, httpAsyncBuffer, type ByteSource } from './bytes';
import { displayName, remoteSize, type HttpOptions } from './http';
import { chatLayoutOf, readChatRows, type ChatLayout } from './chatColumns';
import { snappyArena, type SnappyArena } from './snappyArena';
import { readJsonlRows } from './lines';
import type { RowBatch } from './rows';
import { errorMessage, FormatError } from './util';

export type { ReadStats } from './http';

/** A parquet file reachable over HTTP(S). HubFile fits. */
export interface ParquetFileRef {
  url: string;
  /** Byte size; when absent a HEAD request finds it. */
  size?: number;
  /** Name used in messages (e.g. the repository path); defaults to the URL without its query. */
  path?: string;
}

export interface ReadRowsOptions extends HttpOptions {
  /** End of the slice (exclusive), counted from row 0 of the first file. Default: all rows. */
  limit?: number;
  /** First row to yield (resume point). Default 0. */
  startRow?: number;
  /** JSONL only: byte offset where row `startRow` starts (a RowBatch's `ends`), so the prefix is not read again. */
  startOffset?: number;
  /** Columns to read (parquet only). Default: all. */
  columns?: string[];
  /**
   * Parquet only: leave text columns as their UTF-8 bytes (Uint8Array) instead of decoding them to
   * strings. Staging writes them into JSONL from the bytes (jsonl.ts, writeJsonLine), which saves
   * the UTF-8 decoding, the strings' garbage collection and the re-encoding (bench/staging).
   */
  textAsBytes?: boolean;
  /**
   * Parquet with textAsBytes only: the rows of a batch are read before the next batch is asked for, and
   * not after. Their text bytes may then live in memory the next row group reuses (snappyArena.ts), which
   * saves a new buffer per page and the garbage collections they cause (bench/README.md section 2).
   * Staging writes each row into its block as it comes (stageSplit); a reader that keeps rows must not set it.
   */
  transient?: boolean;
  /** Rows per batch for JSONL sources. Default 1000. */
  jsonlBatchSize?: number;
  /** Format of a readLocalRows source whose name does not say it. */
  format?: 'parquet' | 'jsonl';
  /** Stops an http(s) JSONL download. */
  signal?: AbortSignal;
}

/**
 * Snappy (the Hub's parquet codec) in WebAssembly: hyparquet's own decoder is plain JS and was half
 * of the decoding time when staging (bench/staging). One instance per process, made on first use;
 * its memory grows to the largest page decoded and stays there (pages are about a megabyte).
 */
let compressors: Compressors | undefined;
function fastCompressors(): Compressors {
  compressors ??= { SNAPPY: snappyUncompressor() };
  return compressors;
}

/** A page decompressed into a buffer of its own (a snappy arena's pages that do not fit). */
function pageDecompressor(input: Uint8Array, outputLength: number): Uint8Array {
  const snappy = fastCompressors().SNAPPY as (input: Uint8Array, outputLength: number) => Uint8Array;
  return snappy(input, outputLength);
}

/** Pooled group buffers are sized in steps of this, so that one fits the next groups (transient reads). */
const POOL_ROUNDING = 256 * 1024;

/** Compressed row-group bytes read ahead of the group being decoded (at least one group is). */
const PREFETCH_BYTES = 8 * 1024 * 1024;

/** First guess at the footer size; hyparquet fetches the rest when the footer is larger. */
const FOOTER_FETCH_SIZE = 64 * 1024;

/** Text values stay bytes (ReadRowsOptions.textAsBytes). */
const BYTES_PARSERS = { stringFromBytes: (bytes: Uint8Array | undefined): Uint8Array | undefined => bytes };

interface ParquetSource {
  name: string;
  open(): Promise<AsyncBuffer>;
}

/** A parquet file ready to read: random access to its bytes, and its footer. */
interface OpenedParquet {
  name: string;
  buffer: AsyncBuffer;
  metadata: FileMetaData;
}

async function openParquet(source: ParquetSource): Promise<OpenedParquet> {
  const buffer = await source.open();
  return { name: source.name, buffer, metadata: await readFooter(buffer, source.name) };
}

async function readFooter(buffer: AsyncBuffer, name: string): Promise<FileMetaData> {
  // An error of the reads themselves (HTTP, disk) is passed on as is; anything else means the bytes
  // are not parquet.
  let ioError: unknown;
  const watched: AsyncBuffer = {
    byteLength: buffer.byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      try {
        return await buffer.slice(start, end);
      } catch (err) {
        ioError = err;
        throw err;
      }
    },
  };
  try {
    return await parquetMetadataAsync(watched, { initialFetchSize: FOOTER_FETCH_SIZE });
  } catch (err) {
    if (ioError !== undefined) throw ioError;
    throw new FormatError(`reading ${name}: not a readable parquet file (${errorMessage(err)})`);
  }
}

/** The bytes of a row group's column chunks: one contiguous range of the file. */
function groupByteRange(
  metadata: FileMetaData,
  group: number,
  columns?: string[],
): { start: number; end: number } | undefined {
  let start = Infinity;
  let end = 0;
  for (const chunk of metadata.row_groups[group].columns) {
    const meta = chunk.meta_data;
    if (!meta) return undefined; // column chunks stored elsewhere: let hyparquet fetch them itself
    if (columns && !columns.includes(meta.path_in_schema[0] ?? '')) continue;
    const from = Number(meta.dictionary_page_offset || meta.data_page_offset); // the dictionary page comes first
    start = Math.min(start, from);
    end = Math.max(end, from + Number(meta.total_compressed_size));
  }
  return Number.isFinite(start) && end > start ? { start, end } : undefined;
}

/** Serves slices inside [start, start + bytes.byteLength) from memory, anything else from the file. */
function prefetchedBuffer(file: AsyncBuffer, start: number, bytes: ArrayBuffer): AsyncBuffer {
  const end = start + bytes.byteLength;
  return {
    byteLength: file.byteLength,
    slice(from: number, to?: number) {
      const stop = to ?? file.byteLength;
      if (from >= start && stop <= end) return bytes.slice(from - start, stop - start);
      return file.slice(from, to);
    },
  };
}

/** A file's part of rows [from, to) of the split; `fileStart` is the split's row of its first row. */
interface FileRange {
  file: OpenedParquet;
  fileIndex: number;
  fileStart: number;
  from: number;
  to: number;
}

/** A row group's part of the rows wanted: rows [start, end) of the split; the group starts at row `groupStart`. */
interface GroupTask {
  group: number;
  groupStart: number;
  start: number;
  end: number;
}

function groupTasks({ file, fileStart, from, to }: FileRange): GroupTask[] {
  const tasks: GroupTask[] = [];
  let groupStart = fileStart;
  for (let g = 0; g < file.metadata.row_groups.length; g++) {
    const groupEnd = groupStart + Number(file.metadata.row_groups[g].num_rows);
    const start = Math.max(from, groupStart);
    const end = Math.min(to, groupEnd);
    if (start < end) tasks.push({ group: g, groupStart, start, end });
    groupStart = groupEnd;
    if (groupStart >= to) break;
  }
  return tasks;
}

/** The files holding rows [startRow, limit) of the split, each opened (footer read) when its turn comes. */
async function* filesInRange(
  opens: readonly (() => Promise<OpenedParquet>)[],
  opts: { startRow?: number; limit?: number },
): AsyncGenerator<FileRange> {
  const limit = opts.limit ?? Infinity;
  const startRow = opts.startRow ?? 0;
  checkRange(limit, startRow);
  if (startRow >= limit) return;
  let fileStart = 0;
  for (let i = 0; i < opens.length && fileStart < limit; i++) {
    const file = await opens[i]();
    const fileEnd = fileStart + Number(file.metadata.num_rows);
    if (startRow < fileEnd) {
      yield { file, fileIndex: i, fileStart, from: Math.max(startRow, fileStart), to: Math.min(limit, fileEnd) };
    }
    fileStart = fileEnd;
  }
}

/**
 * Rows [from, to) of one parquet file, one row group at a time. The next groups' bytes are fetched
 * while the current one is processed (the network overlaps the work: a server that answers late, as
 * a busy one does, is waited for less often), but a group is decoded only when its turn comes: decoded
 * rows are large JS objects, compressed bytes are not.
 */
async function* readParquetGroups(
  range: FileRange,
  meta: { columns?: string[]; textAsBytes?: boolean; transient?: boolean },
): AsyncGenerator<RowBatch> {
  const { file, fileStart } = range;
  const { buffer, metadata, name } = file;
  const tasks = groupTasks(range);
  // The chat schema with text as bytes has a faster decoder (chatColumns.ts); it needs the group's bytes.
  const layout = meta.textAsBytes && !meta.columns ? chatLayoutOf(metadata) : undefined;
  // Transient batches: each group's pages are decompressed into the memory of the group before it.
  const arena = layout && meta.transient ? snappyArena(pageDecompressor) : undefined;
  // Transient reads over HTTP ranges: each group's compressed bytes are read into a buffer of a small pool,
  // given back once the consumer asks for the next batch (an uncompressed page's values are read where
  // they lie, so the batch's rows may point into it until then).
  const reader = arena && isRangeReader(buffer) ? buffer : undefined;
  const pool: Uint8Array[] = [];
  const fetchGroup = async (t: GroupTask): Promise<GroupBytes> => {
    const bytes = groupByteRange(metadata, t.group, meta.columns);
    if (!bytes) return { source: buffer };
    if (reader) {
      const size = bytes.end - bytes.start;
      const fits = pool.findIndex((b) => b.length >= size);
      const target =
        fits >= 0 ? pool.splice(fits, 1)[0] : new Uint8Array(Math.ceil(size / POOL_ROUNDING) * POOL_ROUNDING);
      await reader.sliceInto(bytes.start, bytes.end, target);
      // the group's bytes are a prefix of the buffer: only the chat reader gets them (by offsets)
      return { source: buffer, data: target.buffer as ArrayBuffer, start: bytes.start, pooled: target };
    }
    const data = await buffer.slice(bytes.start, bytes.end);
    return { source: prefetchedBuffer(buffer, bytes.start, data), data, start: bytes.start };
  };
  const decode = async (group: GroupBytes, t: GroupTask): Promise<Record<string, unknown>[]> => {
    try {
      if (layout && group.data) return readGroupChatRows(metadata, layout, group, t, arena);
      return await parquetReadObjects({
        file: group.source,
        metadata,
        rowStart: t.start - fileStart,
        rowEnd: t.end - fileStart,
        compressors: fastCompressors(),
        ...(meta.textAsBytes ? { parsers: BYTES_PARSERS } : {}),
        ...(meta.columns ? { columns: meta.columns } : {}),
      });
    } catch (err) {
      throw new Error(`reading ${name} rows ${t.start - fileStart}-${t.end - fileStart - 1}: ${errorMessage(err)}`);
    }
  };
  const fetched: Promise<GroupBytes>[] = [];
  let ahead = 0; // compressed bytes of the groups fetched ahead of the current one
  const sizeOf = (t: GroupTask): number => {
    const bytes = groupByteRange(metadata, t.group, meta.columns);
    return bytes ? bytes.end - bytes.start : 0;
  };
  const fetchNext = (): void => {
    const bytes = fetchGroup(tasks[fetched.length]);
    // its failure surfaces when awaited; this only avoids an unhandled rejection if the caller stops early
    bytes.catch(() => undefined);
    fetched.push(bytes);
  };
  for (let i = 0; i < tasks.length; i++) {
    if (i > 0) ahead -= sizeOf(tasks[i]);
    if (i === 0) {
      // the first group alone: its answer does not wait behind the read-ahead's
      fetchNext();
      await fetched[0];
    }
    // read ahead: at least the next group, and more while their bytes stay under PREFETCH_BYTES
    while (
      fetched.length < tasks.length &&
      (fetched.length <= i + 1 || ahead + sizeOf(tasks[fetched.length]) <= PREFETCH_BYTES)
    ) {
      if (fetched.length > i) ahead += sizeOf(tasks[fetched.length]);
      fetchNext();
    }
    const bytes = await fetched[i];
    delete fetched[i];
    const rows = await decode(bytes, tasks[i]);
    yield { startRow: tasks[i].start, rows, file: name, fileIndex: range.fileIndex, chunk: tasks[i].group };
    if (bytes.pooled) pool.push(bytes.pooled);
  }
}

/** A row group's bytes as fetched: random access for hyparquet, and the bytes themselves when one range holds them. */
interface GroupBytes {
  source: AsyncBuffer;
  data?: ArrayBuffer;
  /** File offset of data[0]. */
  start?: number;
  /** The pool's buffer that holds data (transient reads): back to the pool after the batch. */
  pooled?: Uint8Array;
}

/** The task's rows of a row group of the chat schema (chatColumns.ts), from the group's bytes. */
function readGroupChatRows(
  metadata: FileMetaData,
  layout: ChatLayout,
  group: GroupBytes,
  t: GroupTask,
  arena: SnappyArena | undefined,
): Record<string, unknown>[] {
  const data = group.data as ArrayBuffer;
  const base = group.start as number;
  const columns = metadata.row_groups[t.group].columns;
  const chunk = (path: string[]): { bytes: Uint8Array; codec: string } => {
    const meta = columns.find((c) => c.meta_data?.path_in_schema.join('.') === path.join('.'))?.meta_data;
    if (!meta) throw new Error(`parquet column ${path.join('.')} has no data in row group ${t.group}`);
    const from = Number(meta.dictionary_page_offset || meta.data_page_offset) - base;
    return { bytes: new Uint8Array(data, from, Number(meta.total_compressed_size)), codec: meta.codec };
  };
  const groupRow = t.start - t.groupStart;
  if (arena) {
    // room for every page of the chat columns: compressed and decompressed (headers included); other columns
    // of the file are not decoded
    const leaves = new Set(
      [layout.prompt, layout.promptId, layout.content, layout.role].map((leaf) =>
        leaf?.schemaPath
          .slice(1)
          .map((n) => n.element.name)
          .join('.'),
      ),
    );
    let room = 0;
    for (const c of columns) {
      const meta = c.meta_data;
      if (meta && leaves.has(meta.path_in_schema.join('.'))) {
        room += Number(meta.total_compressed_size) + Number(meta.total_uncompressed_size);
      }
    }
    arena.reset(room);
  }
  return readChatRows(layout, chunk, groupRow, groupRow + (t.end - t.start), arena?.compressors ?? fastCompressors());
}

async function* readParquetSources(sources: readonly ParquetSource[], opts: ReadRowsOptions): AsyncGenerator<RowBatch> {
  for await (const range of filesInRange(
    sources.map((s) => () => openParquet(s)),
    opts,
  )) {
    yield* readParquetGroups(range, groupOptions(opts));
  }
}

function groupOptions(opts: ReadRowsOptions): { columns?: string[]; textAsBytes?: boolean; transient?: boolean } {
  return {
    ...(opts.columns ? { columns: opts.columns } : {}),
    ...(opts.textAsBytes ? { textAsBytes: true } : {}),
    ...(opts.transient ? { transient: true } : {}),
  };
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

function byteParquetSource(source: ByteSource): ParquetSource {
  return { name: source.name, open: () => source.asyncBuffer() };
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

/** Rows of parquet files given as ByteSources (local, http(s) or blob), as readRows does. */
export function readParquetRows(sources: readonly ByteSource[], opts: ReadRowsOptions = {}): AsyncGenerator<RowBatch> {
  return readParquetSources(sources.map(byteParquetSource), opts);
}

/** Total rows of parquet files, from their footers only (read at once). */
export async function countRows(files: readonly ParquetFileRef[], opts: ReadRowsOptions = {}): Promise<number> {
  return httpParquetFiles(files, opts).countRows();
}

/** Total rows of parquet ByteSources, from their footers only (read at once). */
export async function countParquetRows(sources: readonly ByteSource[]): Promise<number> {
  return byteParquetFiles(sources).countRows();
}

/**
 * The parquet files of one split, each opened (size, footer) once however often the split is counted
 * and read: staging counts the rows, then reads the slice.
 */
export interface ParquetFiles {
  countRows(): Promise<number>;
  read(opts: ReadRowsOptions): AsyncGenerator<RowBatch>;
}

function parquetFiles(sources: readonly ParquetSource[]): ParquetFiles {
  const opened: (Promise<OpenedParquet> | undefined)[] = [];
  const opens = sources.map((source, i) => (): Promise<OpenedParquet> => {
    // a failed open is not kept: the next call tries again
    opened[i] ??= openParquet(source).catch((err: unknown) => {
      opened[i] = undefined;
      throw err;
    });
    return opened[i];
  });
  return {
    async countRows() {
      // the footers are read at once, not one after the other: a split of three shards is counted in about one
      // footer's round trip (bench/README.md section 2)
      const files = await Promise.allSettled(opens.map((open) => open()));
      let total = 0;
      for (const file of files) {
        if (file.status === 'rejected') throw file.reason; // the first file in order that failed
        total += Number(file.value.metadata.num_rows);
      }
      return total;
    },
    async *read(opts) {
      for await (const range of filesInRange(opens, opts)) {
        yield* readParquetGroups(range, groupOptions(opts));
      }
    },
  };
}

/** A split's parquet files over HTTP range requests (the Hub's shards), opened once each. */
export function httpParquetFiles(files: readonly ParquetFileRef[], opts: HttpOptions = {}): ParquetFiles {
  return parquetFiles(files.map((f) => httpSource(f, opts)));
}

/** A split's parquet files as ByteSources, opened once each. */
export function byteParquetFiles(sources: readonly ByteSource[]): ParquetFiles {
  return parquetFiles(sources.map(byteParquetSource));
}

export type FileFormat = 'parquet' | 'jsonl';

/** The format a file name says: .parquet, or .jsonl / .json / .ndjson. Undefined when it says neither. */
export function fileFormatOf(location: string): FileFormat | undefined {
  let path = location;
  try {
    path = new URL(location).pathname;
  } catch {
    // a plain file path
  }
  const lower = path.toLowerCase();
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.jsonl') || lower.endsWith('.json') || lower.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

function formatOf(location: string, override?: FileFormat): FileFormat {
  const format = override ?? fileFormatOf(location);
  if (!format)
    throw new Error(`cannot tell the format of ${displayName(location)}: name it .jsonl or .parquet (or pass format)`);
  return format;
}

/** A local path, a file:// URL or an http(s) URL as a ByteSource. */
export function byteSourceFor(location: string, opts: HttpOptions = {}): ByteSource {
  if (/^https?:\/\//i.test(location)) return httpByteSource(location, opts);
  return localByteSource(location.startsWith('file:') ? fileURLToPath(location) : location, opts.stats);
}

/** Rows of a JSONL or parquet ByteSource, with readRows' [startRow, limit) semantics. */
export function readSourceRows(
  source: ByteSource,
  format: FileFormat,
  opts: ReadRowsOptions = {},
): AsyncGenerator<RowBatch> {
  if (format === 'parquet') return readParquetRows([source], opts);
  return readJsonlRows(source, {
    ...(opts.startRow !== undefined ? { startRow: opts.startRow } : {}),
    ...(opts.startOffset !== undefined ? { startOffset: opts.startOffset } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.jsonlBatchSize !== undefined ? { batchSize: opts.jsonlBatchSize } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/**
 * Rows of one local file (path or file:// URL) or http(s) URL, .jsonl or .parquet, streamed.
 * Same [startRow, limit) semantics as readRows; JSONL blank lines are not rows, and a line that
 * is not JSON is yielded as an UnparsableLine (so it counts as one invalid row).
 */
export async function* readLocalRows(location: string, opts: ReadRowsOptions = {}): AsyncGenerator<RowBatch> {
  const format = formatOf(location, opts.format);
  const source = byteSourceFor(location, opts);
  if (format === 'jsonl') await source.info(); // a missing file or a 404 fails here, with its name
  yield* readSourceRows(source, format, opts);
}
