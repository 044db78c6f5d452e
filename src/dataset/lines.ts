// JSON Lines read from any ByteSource, with the byte offset where each row's line ends, so a
// reader can stop after any row and a later one start right there (a restarted worker does not
// read the part it already staged again).
//
// Rows are the non-blank lines: a line of JSON whitespace only (space, tab, CR) is skipped, as is
// a UTF-8 byte-order mark at the start of the file. A line that is not JSON is yielded as an
// UnparsableLine, so it counts as one invalid row instead of aborting the split; its line number
// counts from where the read started (the file's start unless a byte offset was given).

import { setImmediate } from 'node:timers/promises';
import type { ByteSource } from './bytes';
import type { RowBatch } from './rows';
import { errorMessage } from './util';
import { UnparsableLine } from './validate';

const NEWLINE = 0x0a;
/** Longest line read as a row: a chat row for a 4k-128k token context is far below it. */
export const MAX_ROW_BYTES = 1024 * 1024;
const MAX_ROW_TEXT = '1 MiB';
// Replacement characters would otherwise hide bytes that are not UTF-8 (e.g. a Latin-1 file).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isBlank(line: Uint8Array): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * A line longer than the row limit. Its bytes are not kept: once a line passes the limit the splitter
 * stops buffering it and only looks for its end, so memory stays bounded by the limit whatever the
 * line's length (a file without a single newline included).
 */
export class LongLine {
  constructor(
    /** The line's length in bytes (without its "\n"). */
    readonly length: number,
    /** Whether it held only JSON whitespace (then it is a blank line, not a row). */
    readonly blank: boolean,
  ) {}
}

interface LineChunk {
  /** The lines completed by one chunk of input (without their "\n"). */
  lines: (Buffer | LongLine)[];
  /** Byte offset just after each line's "\n" (or the end of the file for a last line without one). */
  ends: number[];
}

/** How long the splitter may work before it lets the event loop run (timers, sockets, heartbeats). */
const SLICE_MS = 20;

/**
 * Splits a byte stream that starts at `startOffset` of the file into lines, chunk by chunk. Linear in
 * the input: the pieces of a line that spans chunks are copied once and joined once, at its end. A
 * line longer than `maxLineBytes` is not buffered past the limit (it comes out as a LongLine), so
 * memory is at most the limit plus one chunk. Between chunks the splitter yields to the event loop
 * when it has worked for a while, so a source that is always ready (a file, a fast socket) cannot
 * starve everything else on the worker.
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  startOffset: number,
  maxLineBytes: number = MAX_ROW_BYTES,
): AsyncGenerator<LineChunk> {
  let pending: Buffer[] = []; // copies of the current line's pieces so far
  let pendingBytes = 0;
  let long: { length: number; blank: boolean } | undefined; // the current line, once past the limit
  let pos = startOffset; // file offset of the first byte not yet consumed into a line
  let first = startOffset === 0;
  let sliceStart = performance.now();
  for await (const raw of chunks) {
    let chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (first) {
      first = false;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        chunk = chunk.subarray(3);
        pos += 3;
      }
    }
    const out: LineChunk = { lines: [], ends: [] };
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const piece = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      if (long) {
        long.length += piece.length;
        if (long.blank && !isBlank(piece)) long.blank = false;
      } else if (pendingBytes + piece.length > maxLineBytes) {
        // past the limit: stop keeping this line, remember only its length and whether it is blank
        long = {
          length: pendingBytes + piece.length,
          blank: pending.every(isBlank) && isBlank(piece),
        };
        pending = [];
        pendingBytes = 0;
      } else if (nl === -1) {
        // copy: the stream may reuse its chunk buffer
        if (piece.length) pending.push(Buffer.from(piece));
        pendingBytes += piece.length;
      }
      if (nl === -1) break;
      let line: Buffer | LongLine;
      if (long) line = new LongLine(long.length, long.blank);
      else line = pending.length ? Buffer.concat([...pending, piece], pendingBytes + piece.length) : piece;
      pos += line.length + 1;
      out.lines.push(line);
      out.ends.push(pos);
      pending = [];
      pendingBytes = 0;
      long = undefined;
      start = nl + 1;
    }
    if (out.lines.length) yield out;
    if (performance.now() - sliceStart > SLICE_MS) {
      await setImmediate();
      sliceStart = performance.now();
    }
  }
  if (long) yield { lines: [new LongLine(long.length, long.blank)], ends: [pos + long.length] };
  else if (pendingBytes > 0) {
    const line = Buffer.concat(pending, pendingBytes);
    yield { lines: [line], ends: [pos + line.length] };
  }
}

export interface JsonlReadOptions {
  /** Index of the first row to yield. Default 0. */
  startRow?: number;
  /** Byte offset where row `startRow` starts (from an earlier read's `ends`); without it rows are skipped from the start. */
  startOffset?: number;
  /** End of the slice (exclusive). Default: all rows. */
  limit?: number;
  /** Rows per batch. Default 1000. */
  batchSize?: number;
  signal?: AbortSignal;
}

function checkRange(limit: number, startRow: number): void {
  if (!(limit >= 0) || (Number.isFinite(limit) && !Number.isSafeInteger(limit))) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  if (!Number.isSafeInteger(startRow) || startRow < 0) {
    throw new RangeError(`startRow must be a non-negative integer, got ${startRow}`);
  }
}

/** Rows [startRow, limit) of a JSONL file, in batches, each row with the offset where its line ends. */
export async function* readJsonlRows(source: ByteSource, opts: JsonlReadOptions = {}): AsyncGenerator<RowBatch> {
  const limit = opts.limit ?? Infinity;
  const startRow = opts.startRow ?? 0;
  checkRange(limit, startRow);
  if (startRow >= limit) return;
  const seek = opts.startOffset !== undefined;
  const startOffset = opts.startOffset ?? 0;
  if (!Number.isSafeInteger(startOffset) || startOffset < 0)
    throw new RangeError(`startOffset must be a non-negative integer, got ${startOffset}`);
  const batchSize = Math.max(1, opts.batchSize ?? 1000);

  let row = seek ? startRow : 0;
  let lineNumber = 0;
  let chunk = 0;
  let batch: unknown[] = [];
  let ends: number[] = [];
  let batchStart = startRow;
  const stream = await source.stream(startOffset, opts.signal);
  for await (const part of splitLines(stream, startOffset)) {
    for (let i = 0; i < part.lines.length; i++) {
      lineNumber++;
      const line = part.lines[i];
      if (line instanceof LongLine ? line.blank : isBlank(line)) continue;
      const index = row++;
      if (index < startRow) continue;
      let value: unknown;
      if (line instanceof LongLine) {
        value = new UnparsableLine(
          lineNumber,
          `line ${lineNumber} is ${line.length} bytes, more than the ${MAX_ROW_TEXT} (${MAX_ROW_BYTES}-byte) row limit`,
          'row_too_large',
        );
      } else {
        let text: string | undefined;
        try {
          text = strictUtf8.decode(line);
        } catch (err) {
          value = new UnparsableLine(lineNumber, errorMessage(err), 'not_utf8');
        }
        if (text !== undefined) {
          try {
            value = JSON.parse(text);
          } catch (err) {
            value = new UnparsableLine(lineNumber, errorMessage(err));
          }
        }
      }
      batch.push(value);
      ends.push(part.ends[i]);
      if (index + 1 >= limit) {
        yield { startRow: batchStart, rows: batch, file: source.name, fileIndex: 0, chunk, ends };
        return;
      }
      if (batch.length >= batchSize) {
        yield { startRow: batchStart, rows: batch, file: source.name, fileIndex: 0, chunk: chunk++, ends };
        batch = [];
        ends = [];
        batchStart = index + 1;
      }
    }
  }
  if (batch.length) yield { startRow: batchStart, rows: batch, file: source.name, fileIndex: 0, chunk, ends };
}

/** Rows (non-blank lines) of a JSONL file, counted without parsing them. */
export async function countJsonlRows(source: ByteSource, signal?: AbortSignal): Promise<number> {
  let rows = 0;
  for await (const part of splitLines(await source.stream(0, signal), 0)) {
    for (const line of part.lines) if (!(line instanceof LongLine ? line.blank : isBlank(line))) rows++;
  }
  return rows;
}
