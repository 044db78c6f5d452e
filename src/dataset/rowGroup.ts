// One parquet row group, decoded and encoded as staging's JSONL (encode.ts), from its bytes alone: the
// unit of work a worker thread takes (encoderPool.ts). The main thread fetches the bytes; whoever
// encodes them needs nothing else than this job.
import { parquetReadObjects } from 'hyparquet';
import type { AsyncBuffer, Compressors, FileMetaData, RowGroup } from 'hyparquet';
import { snappyUncompressor } from 'hysnappy';
import { encodeRows, type EncodedRows, type SampleRule } from './encode';
import { errorMessage } from './util';

/**
 * Snappy (the Hub's parquet codec) in WebAssembly: hyparquet's own decoder is plain JS and was half
 * of the decoding time when staging (bench/staging). One instance per thread, made on first use;
 * its memory grows to the largest page decoded and stays there (pages are about a megabyte).
 */
let compressors: Compressors | undefined;
export function fastCompressors(): Compressors {
  compressors ??= { SNAPPY: snappyUncompressor() };
  return compressors;
}

/** Text values stay bytes (ReadRowsOptions.textAsBytes). */
export const BYTES_PARSERS = { stringFromBytes: (bytes: Uint8Array | undefined): Uint8Array | undefined => bytes };

/** A row group to encode: its column chunks' bytes and the footer entries that describe them. */
export interface RowGroupJob {
  /** The file, for messages. */
  name: string;
  /** The file's footer with this row group only (groupFooter). */
  metadata: FileMetaData;
  /** The group's column chunks: bytes [byteStart, byteStart + bytes.byteLength) of the file. */
  bytes: ArrayBuffer;
  byteStart: number;
  fileSize: number;
  /** Rows [rowStart, rowEnd) of the group are encoded. */
  rowStart: number;
  rowEnd: number;
  /** The group's first row in the file (messages count rows from the file's start). */
  groupFileRow: number;
  /** Index of the group's row `rowStart` in the split. */
  startRow: number;
  rule: SampleRule;
}

/** The footer as a job carries it: the schema and the one row group (a few hundred bytes to copy). */
export function groupFooter(metadata: FileMetaData, group: RowGroup): FileMetaData {
  return { ...metadata, row_groups: [group], num_rows: group.num_rows };
}

/** Serves slices inside [start, start + bytes.byteLength) from memory, anything else from `file`. */
export function prefetchedBuffer(file: AsyncBuffer | undefined, start: number, bytes: ArrayBuffer, byteLength: number): AsyncBuffer {
  const end = start + bytes.byteLength;
  return {
    byteLength,
    slice(from: number, to?: number) {
      const stop = to ?? byteLength;
      if (from >= start && stop <= end) return bytes.slice(from - start, stop - start);
      if (!file) throw new Error(`bytes ${from}-${stop - 1} are outside the row group's ${start}-${end - 1}`);
      return file.slice(from, to);
    },
  };
}

/** Decodes rows [rowStart, rowEnd) of a file (text as UTF-8 bytes) and encodes them. */
export async function encodeParquetRows(
  file: AsyncBuffer,
  metadata: FileMetaData,
  rows: { name: string; rowStart: number; rowEnd: number; startRow: number; rule: SampleRule; groupFileRow?: number },
): Promise<EncodedRows> {
  const shown = rows.groupFileRow ?? 0;
  const decoded = await parquetReadObjects({
    file,
    metadata,
    rowStart: rows.rowStart,
    rowEnd: rows.rowEnd,
    compressors: fastCompressors(),
    parsers: BYTES_PARSERS,
  }).catch((err: unknown) => {
    throw new Error(`reading ${rows.name} rows ${shown + rows.rowStart}-${shown + rows.rowEnd - 1}: ${errorMessage(err)}`);
  });
  return encodeRows(decoded, rows.startRow, rows.rule);
}

/** A job, encoded where it runs (a worker thread, or the main thread without workers). */
export function encodeRowGroup(job: RowGroupJob): Promise<EncodedRows> {
  const file = prefetchedBuffer(undefined, job.byteStart, job.bytes, job.fileSize);
  return encodeParquetRows(file, job.metadata, job);
}
