// Rows to JSONL lines in one pass, as staging needs them: each row validated, sampled, and written
// (when kept and valid) into one byte buffer, with per row what happened to it. A batch of rows
// becomes a few flat arrays, which a worker thread can hand back without copying (encoderPool.ts).
import { writeJsonLine, type ByteSink } from './jsonl';
import { inHashSample, sampleKey, type Sampling } from './sampling';
import { INVALID_REASONS, validateChatTextRow, type InvalidReason } from './validate';

/** Which rows a batch keeps: every row (the slice is cut by row numbers), or the hash sample's. */
export type SampleRule = { method: 'first' } | { method: 'hash'; seed: number; percent: number };

export function sampleRule(sampling: Sampling, percent: number): SampleRule {
  return sampling.method === 'hash' ? { method: 'hash', seed: sampling.seed, percent } : { method: 'first' };
}

/** Outcome of a row: its line was written. */
export const WRITTEN = 0;
/** Outcome of a row: not in the hash sample (not counted anywhere). */
export const NOT_SAMPLED = 255;
/** Outcomes 1..n: the row is invalid for the reason INVALID_REASON_CODES[outcome - 1]. */
export const INVALID_REASON_CODES = Object.keys(INVALID_REASONS) as InvalidReason[];

export function invalidReasonOf(outcome: number): InvalidReason {
  const reason = INVALID_REASON_CODES[outcome - 1];
  if (reason === undefined) throw new RangeError(`not an invalid-row outcome: ${outcome}`);
  return reason;
}

/** A batch of consecutive rows, encoded. */
export interface EncodedRows {
  /** Index of the first row in the whole split. */
  startRow: number;
  /** The lines of the written rows, back to back, each ending with "\n". */
  jsonl: Uint8Array;
  /** Per row: where its line ends in `jsonl` (a row without a line: where the previous one ended). */
  lineEnds: Uint32Array;
  /** Per row: WRITTEN, NOT_SAMPLED, or an invalid reason's code (1 + its index in INVALID_REASON_CODES). */
  outcomes: Uint8Array;
  /** JSONL sources: per row, the byte offset just after its line in the source (the resume point). */
  sourceEnds?: number[];
}

/** A growable buffer to encode into; `initialBytes` is a guess at the batch's JSONL size. */
export function growableSink(initialBytes = 1024 * 1024): ByteSink {
  return {
    buf: Buffer.allocUnsafeSlow(Math.max(initialBytes, 1024)),
    length: 0,
    reserve(n: number): void {
      if (this.length + n <= this.buf.length) return;
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    },
  };
}

/**
 * Encodes `rows` (row `startRow` of the split first) as staging writes them: a row not in the
 * sample is NOT_SAMPLED; else it is validated (validateChatTextRow) and, when valid, its line written
 * (writeJsonLine). Rows are released from `rows` as they are done.
 */
export function encodeRows(rows: unknown[], startRow: number, rule: SampleRule, sink?: ByteSink): EncodedRows {
  const out = sink ?? growableSink();
  const lineEnds = new Uint32Array(rows.length);
  const outcomes = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i];
    rows[i] = undefined;
    const result = validateChatTextRow(raw);
    if (rule.method === 'hash') {
      const key = sampleKey(raw, startRow + i, result.ok ? result.row.prompt_id : undefined);
      if (!inHashSample(rule.seed, key, rule.percent)) {
        outcomes[i] = NOT_SAMPLED;
        lineEnds[i] = out.length;
        continue;
      }
    }
    if (result.ok) {
      writeJsonLine(result.row, out);
      outcomes[i] = WRITTEN;
    } else {
      outcomes[i] = 1 + INVALID_REASON_CODES.indexOf(result.reason);
    }
    lineEnds[i] = out.length;
  }
  return { startRow, jsonl: out.buf.subarray(0, out.length), lineEnds, outcomes };
}
