// Reads a JSONL file that is used as it is (already in the datastore): every row validated, the bytes
// hashed, nothing written. The threshold applies as for staged data, so bad data fails the run early.
import { createHash } from 'node:crypto';
import type { ByteSource } from './bytes';
import { readJsonlRows } from './lines';
import type { StageProgress } from './stageSplit';
import { StagingError } from './stageSplit';
import { validateChatRow, ValidationTally, type ValidationSummary } from './validate';

export interface VerifiedFile {
  /** True when `maxRows` stopped the read before the end of the file: the figures cover the rows read. */
  partial?: boolean;
  /** Rows of the file (valid or not) and valid rows. */
  sourceRows: number;
  rows: number;
  bytes: number;
  /** sha256 of the file's bytes, hex. */
  sha256: string;
  invalid: ValidationSummary;
}

export async function verifyJsonl(
  source: ByteSource,
  opts: {
    label: string;
    maxInvalidFraction: number;
    progress?: StageProgress;
    signal?: AbortSignal;
    /** A dry run's bounded read: stop once more than this many rows were read; the whole file is judged only when it was all read. */
    maxRows?: number;
  },
): Promise<VerifiedFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  const hashing: ByteSource = {
    name: source.name,
    info: () => source.info(),
    asyncBuffer: () => source.asyncBuffer(),
    async stream(offset, signal) {
      const inner = await source.stream(offset, signal);
      return (async function* () {
        for await (const chunk of inner) {
          hash.update(chunk);
          bytes += chunk.byteLength;
          yield chunk;
        }
      })();
    },
  };
  const tally = new ValidationTally(opts.label);
  const progress = opts.progress ?? { rowsRead: 0, rowsWritten: 0, bytes: 0 };
  let partial = false;
  for await (const batch of readJsonlRows(hashing, opts.signal ? { signal: opts.signal } : {})) {
    batch.rows.forEach((row, i) => tally.record(batch.startRow + i, validateChatRow(row)));
    Object.assign(progress, { rowsRead: tally.totalRows, rowsWritten: tally.validRows, bytes });
    if (opts.maxRows !== undefined && tally.totalRows > opts.maxRows) {
      partial = true;
      break;
    }
  }
  if (partial) {
    return { sourceRows: tally.totalRows, rows: tally.validRows, bytes, sha256: '', invalid: tally.summary(), partial };
  }
  try {
    tally.check(opts.maxInvalidFraction);
  } catch (err) {
    throw new StagingError(
      `${(err as Error).message} The file is used as it is, so fix it in place.`,
      'TooManyInvalidRows',
      tally.summary(),
    );
  }
  if (tally.validRows === 0) throw new StagingError(`${opts.label} has no valid conversation`, 'EmptySlice');
  return {
    sourceRows: tally.totalRows,
    rows: tally.validRows,
    bytes,
    sha256: hash.digest('hex'),
    invalid: tally.summary(),
  };
}
