// Stages one split: reads its rows (a resume point on), keeps the slice or sample, validates each
// row, writes pandas-compatible JSONL into blocks of a block blob as they fill, and commits the
// block list with metadata once the split is complete and under the invalid-row threshold.
//
// Memory is bounded by the block size: the block being filled, at most `concurrency` blocks being
// uploaded, and the reader's current (and next) row group. Nothing grows with the split.
//
// Resume: after each block is staged (in block order) `onCheckpoint` gets the state a restarted
// worker needs to continue right after it: the next source row (and byte offset for JSONL), the
// block digests so far, and the counters. Given that checkpoint, a new call continues there and
// produces the same bytes, the same blocks and the same content hash as an uninterrupted run.
import { createHash } from 'node:crypto';
import { blockDigest, blockId, blockListSha256, DEFAULT_BLOCK_BYTES, MAX_BLOCKS } from './blocks';
import { writeJsonLine, type ByteSink } from './jsonl';
import { FIRST_ROWS, inHashSample, sampleKey, type Sampling } from './sampling';
import { sliceRowCount } from './split';
import type { ReadPosition, SplitSource } from './splitSource';
import { textString, validateChatTextRow, ValidationTally, type ValidationSummary } from './validate';

/** The part of @azure/storage-blob's BlockBlobClient staging uses (structural: no Azure import here). */
export interface BlockBlobTarget {
  stageBlock(
    blockId: string,
    body: Buffer,
    contentLength: number,
    options?: { abortSignal?: AbortSignal; transactionalContentMD5?: Uint8Array },
  ): Promise<unknown>;
  commitBlockList(
    blocks: string[],
    options?: {
      metadata?: Record<string, string>;
      blobHTTPHeaders?: { blobContentType?: string };
      abortSignal?: AbortSignal;
    },
  ): Promise<unknown>;
}

/** Where a restarted worker continues: everything up to `nextRow` is in the staged blocks. */
export interface SplitCheckpoint {
  /** Source row (0 = first row of the split) the next block starts with. */
  nextRow: number;
  /** JSONL sources: byte offset of that row's line, so reading resumes without the prefix. */
  nextOffset?: number;
  /** sha256 (base64) of each staged block, in order; block i has id blockId(i). */
  blocks: string[];
  /** JSONL bytes in those blocks. */
  bytes: number;
  /** Valid rows written to those blocks. */
  rowsWritten: number;
  /** Rows of the slice or sample seen so far, valid or not. */
  rowsTaken: number;
  /** Invalid rows so far (counts by reason and the first examples). */
  tally: ValidationSummary;
}

/** Live counters (the caller may read them at any time, e.g. for a timer heartbeat). */
export interface StageProgress {
  rowsRead: number;
  rowsWritten: number;
  bytes: number;
}

export interface StageSplitOptions {
  source: SplitSource;
  target: BlockBlobTarget;
  /** For messages, e.g. "HuggingFaceH4/ultrachat_200k train_sft[0%:5%]". */
  label: string;
  percent: number;
  sampling?: Sampling;
  /** 0..1: more invalid rows than this fraction fails the split (nothing is committed). */
  maxInvalidFraction: number;
  /** Target block size. Default 4 MiB (DEFAULT_BLOCK_BYTES). */
  blockBytes?: number;
  /** Blocks uploading at once. Default 3. */
  concurrency?: number;
  /**
   * Send each block's MD5 for the service to check (transactionalContentMD5). Default false: HTTPS
   * already guarantees the bytes arrive as sent, each block's sha256 is kept for the content hash,
   * and MD5 cost about a tenth of the staging CPU (bench/staging).
   */
  contentMd5?: boolean;
  /** Rows of the source, when already known (skips counting). */
  total?: number;
  resume?: SplitCheckpoint;
  signal?: AbortSignal;
  onCheckpoint?(checkpoint: SplitCheckpoint): void;
  /** Called once the split's rows are counted (0 work when the count is known or not needed). */
  onTotal?(total: number): void;
  progress?: StageProgress;
  /** Blob metadata for the commit, from the result (the commit is what marks the split complete). */
  metadata?(result: StagedSplitResult): Record<string, string>;
  contentType?: string;
  /**
   * A dry run's bounded read (src/dataset/preview.ts): stop after this many source rows. When that cuts the
   * slice short, the result says `partial` and the end-of-split checks and the commit are skipped (the rest
   * of the slice may change them); a failure within the rows read is the failure staging would report.
   */
  maxRows?: number;
}

export interface StagedSplitResult {
  /** Rows taken into the slice or sample (valid or not). */
  sourceRows: number;
  /** Valid rows written. */
  rows: number;
  /** Rows read from the source to find them (the slice; the whole split for hash sampling). */
  scannedRows: number;
  bytes: number;
  /** blockListSha256 of the blocks (see blocks.ts). */
  sha256: string;
  blocks: number;
  invalid: ValidationSummary;
  /** Row this call started at (0, or a checkpoint's nextRow). */
  resumedAtRow: number;
  /** Rows of the source, when they were counted. */
  total?: number;
  /** True when `maxRows` stopped the read before the end of the slice: the figures cover the rows read. */
  partial?: boolean;
}

/** Room for the line that takes a block past its target size (a longer line grows the buffer). */
const BLOCK_SLACK = 256 * 1024;

/**
 * The block being filled, with the free list its buffers come from and go back to. A class, not an
 * object literal per split: the JSON writer's optimized code inlines `reserve`, and a literal made a new
 * `reserve` function for every split, which made V8 throw that code away and compile it again at each one.
 */
class BlockSink implements ByteSink {
  private readonly free: Buffer[] = [];
  buf: Buffer;
  length = 0;
  constructor(readonly size: number) {
    this.buf = this.take();
  }
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.size);
  }
  /** A buffer whose upload is done (one that grew past the block size for a long line is let go). */
  giveBack(buffer: Buffer): void {
    if (buffer.length === this.size) this.free.push(buffer);
  }
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.size, (this.length + n) * 2));
    this.buf.copy(bigger, 0, 0, this.length);
    this.giveBack(this.buf);
    this.buf = bigger;
  }
}

export type StagingErrorCode = 'EmptySlice' | 'TooManyInvalidRows' | 'TooManyBlocks';

/** Staging refused the split for a reason in the data or the spec (not worth retrying). */
export class StagingError extends Error {
  override readonly name = 'StagingError';
  constructor(
    message: string,
    readonly code: StagingErrorCode,
    readonly invalid?: ValidationSummary,
  ) {
    super(message);
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new DOMException('staging was cancelled', 'AbortError');
}

export async function stageSplit(opts: StageSplitOptions): Promise<StagedSplitResult> {
  const { source, target, label, percent, maxInvalidFraction, signal } = opts;
  const sampling = opts.sampling ?? FIRST_ROWS;
  const blockBytes = opts.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const concurrency = Math.max(1, opts.concurrency ?? 3);
  if (!(blockBytes >= 1)) throw new RangeError(`blockBytes must be positive, got ${blockBytes}`);

  // The slice: "first" takes the first `limit` rows; "hash" reads everything and keeps its sample.
  let total = opts.total;
  let limit = Infinity;
  if (sampling.method === 'first' && (percent < 100 || source.countIsCheap)) {
    if (total === undefined) {
      total = await source.countRows(signal);
      opts.onTotal?.(total);
    }
    limit = sliceRowCount(total, percent);
    if (limit === 0) {
      throw new StagingError(
        `${label} is empty (${percent}% of ${total} rows rounds to 0): raise dataset.percent`,
        'EmptySlice',
      );
    }
  }

  const resume = opts.resume;
  const tally = resume ? ValidationTally.fromSummary(resume.tally, label) : new ValidationTally(label);
  const digests = resume ? [...resume.blocks] : [];
  let bytes = resume?.bytes ?? 0;
  let rowsWritten = resume?.rowsWritten ?? 0;
  let rowsTaken = resume?.rowsTaken ?? 0;
  const start: ReadPosition = resume
    ? { row: resume.nextRow, ...(resume.nextOffset !== undefined ? { offset: resume.nextOffset } : {}) }
    : { row: 0 };
  let scanned = start.row;
  const readLimit = opts.maxRows !== undefined ? Math.min(limit, start.row + opts.maxRows) : limit;
  const progress = opts.progress ?? { rowsRead: 0, rowsWritten: 0, bytes: 0 };
  Object.assign(progress, { rowsRead: scanned, rowsWritten, bytes });

  // The block being filled: lines are written straight into it (writeJsonLine), so no line ever
  // exists as a string. Buffers come back to a free list when their upload is done: memory is a
  // few blocks, allocated once.
  const sink = new BlockSink(blockBytes + BLOCK_SLACK);
  const inflight: { upload: Promise<unknown>; buffer: Buffer; checkpoint: SplitCheckpoint }[] = [];

  const drainOne = async (): Promise<void> => {
    const next = inflight.shift();
    if (!next) return;
    await next.upload;
    sink.giveBack(next.buffer);
    opts.onCheckpoint?.(next.checkpoint);
  };

  const cutBlock = async (nextRow: number, nextOffset: number | undefined): Promise<void> => {
    const index = digests.length;
    if (index >= MAX_BLOCKS) {
      throw new StagingError(
        `${label}: more than ${MAX_BLOCKS} blocks of ${blockBytes} bytes; stage with larger blocks`,
        'TooManyBlocks',
      );
    }
    const buffer = sink.buf;
    const body = buffer.subarray(0, sink.length);
    sink.length = 0;
    digests.push(blockDigest(body));
    bytes += body.length;
    Object.assign(progress, { rowsRead: Math.max(progress.rowsRead, nextRow), rowsWritten, bytes });
    const checkpoint: SplitCheckpoint = {
      nextRow,
      ...(nextOffset !== undefined ? { nextOffset } : {}),
      blocks: [...digests],
      bytes,
      rowsWritten,
      rowsTaken,
      tally: tally.summary(),
    };
    while (inflight.length >= concurrency) await drainOne();
    sink.buf = sink.take();
    if (signal?.aborted) throw abortReason(signal);
    const upload = target.stageBlock(blockId(index), body, body.length, {
      ...(opts.contentMd5 ? { transactionalContentMD5: createHash('md5').update(body).digest() } : {}),
      ...(signal ? { abortSignal: signal } : {}),
    });
    upload.catch(() => undefined); // surfaced when drained
    inflight.push({ upload, buffer, checkpoint });
  };

  try {
    // Transient batches (ReadRowsOptions.transient): every row of a batch is validated and copied into the
    // block before the next batch is asked for; nothing keeps a row (the tally keeps indexes and reasons,
    // a sample's key is a string).
    for await (const batch of source.read(start, readLimit, signal, { textAsBytes: true, transient: true })) {
      if (signal?.aborted) throw abortReason(signal);
      const { rows, ends } = batch;
      for (let i = 0; i < rows.length; i++) {
        const index = batch.startRow + i;
        const raw = rows[i];
        rows[i] = undefined; // the batch may be large: let each row go as soon as it is done
        const result = validateChatTextRow(raw);
        scanned = index + 1;
        if (
          sampling.method === 'hash' &&
          !inHashSample(
            sampling.seed,
            sampleKey(raw, index, result.ok ? textString(result.row.prompt_id) : undefined),
            percent,
          )
        ) {
          continue;
        }
        tally.record(index, result);
        rowsTaken++;
        if (!result.ok) {
          // A slice of known size that is already over the threshold cannot come back under it.
          if (Number.isFinite(limit)) tally.check(maxInvalidFraction, limit);
          continue;
        }
        writeJsonLine(result.row, sink);
        rowsWritten++;
        if (sink.length >= blockBytes) await cutBlock(index + 1, ends?.[i]);
      }
      progress.rowsRead = scanned;
      progress.rowsWritten = rowsWritten;
      progress.bytes = bytes + sink.length;
    }
    if (sink.length > 0) await cutBlock(scanned, undefined);
    while (inflight.length > 0) await drainOne();
  } catch (err) {
    if (err instanceof Error && err.name === 'TooManyInvalidRows') {
      throw new StagingError(err.message, 'TooManyInvalidRows', tally.summary());
    }
    throw err;
  } finally {
    // Uploads still running after a failure are left to finish or fail on their own; none is committed.
    for (const { upload } of inflight) upload.catch(() => undefined);
  }

  // Cut short by maxRows: the slice goes on past what was read (or, for a sample, the split may).
  const partial =
    readLimit !== limit &&
    scanned >= readLimit &&
    !(total !== undefined && sampling.method === 'hash' && scanned >= total);
  if (!partial) {
    try {
      tally.check(maxInvalidFraction);
    } catch (err) {
      throw new StagingError((err as Error).message, 'TooManyInvalidRows', tally.summary());
    }
  }

  const result: StagedSplitResult = {
    sourceRows: rowsTaken,
    rows: rowsWritten,
    scannedRows: scanned,
    bytes,
    sha256: blockListSha256(digests),
    blocks: digests.length,
    invalid: tally.summary(),
    resumedAtRow: start.row,
    ...(total !== undefined ? { total } : {}),
    ...(partial ? { partial } : {}),
  };
  Object.assign(progress, { rowsRead: scanned, rowsWritten, bytes });
  if (partial) return result;
  if (signal?.aborted) throw abortReason(signal);
  await target.commitBlockList(
    digests.map((_, i) => blockId(i)),
    {
      metadata: opts.metadata?.(result) ?? {},
      blobHTTPHeaders: { blobContentType: opts.contentType ?? 'application/jsonl; charset=utf-8' },
      ...(signal ? { abortSignal: signal } : {}),
    },
  );
  return result;
}
