// Issue 13 item 2: a JSONL file without newlines (or with one enormous line) must not wedge the worker.
// The line splitter stops buffering a line once it passes the 1 MiB row limit, works in linear time
// with bounded memory, and lets the event loop run between chunks; the over-long line counts as one
// row_too_large row, and a split made of it fails naming the row and the limit.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  countJsonlRows,
  fileSplitSource,
  LongLine,
  MAX_ROW_BYTES,
  readJsonlRows,
  splitLines,
  stageSplit,
  StagingError,
  UnparsableLine,
  type BlockBlobTarget,
  type ByteSource,
} from '../../src/dataset';

const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;

/** A JSONL "file" of `total` bytes of `fill` and no newline, produced chunk by chunk (one reused buffer). */
function generated(total: number, opts: { fill?: number; onChunk?: () => void } = {}): ByteSource {
  const buffer = Buffer.alloc(CHUNK, opts.fill ?? 0x78 /* x */);
  return {
    name: `generated-${total}.jsonl`,
    info: async () => ({ size: total, version: `v${total}` }),
    async stream(offset) {
      return (async function* () {
        for (let sent = offset; sent < total; sent += CHUNK) {
          opts.onChunk?.();
          yield buffer.subarray(0, Math.min(CHUNK, total - sent));
        }
      })();
    },
    asyncBuffer: () => Promise.reject(new Error('not used')),
  };
}

async function* chunksOf(parts: (string | Buffer)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function collect(parts: (string | Buffer)[], max = MAX_ROW_BYTES) {
  const lines: (string | { long: number; blank: boolean })[] = [];
  const ends: number[] = [];
  for await (const chunk of splitLines(chunksOf(parts), 0, max)) {
    for (const l of chunk.lines) lines.push(l instanceof LongLine ? { long: l.length, blank: l.blank } : l.toString());
    ends.push(...chunk.ends);
  }
  return { lines, ends };
}

describe('splitLines', () => {
  test('lines across chunks, a line exactly at the limit, over-long lines (kept as their length only), offsets', async () => {
    const got = await collect(
      ['ab', 'c\nde', 'f\n', '0123456789\n', '0123', '45678901\nxy', 'z\n', '   ', '        \nlast'],
      10,
    );
    expect(got.lines).toEqual([
      'abc',
      'def',
      '0123456789', // exactly 10 bytes: still a line
      { long: 12, blank: false }, // 12 bytes: past the limit, not buffered
      'xyz',
      { long: 11, blank: true }, // blank, even when long: not a row
      'last',
    ]);
    expect(got.ends).toEqual([4, 8, 19, 32, 36, 48, 52]);
  });

  test('a long line at the end of the file without a newline, and a BOM', async () => {
    const got = await collect([Buffer.from([0xef, 0xbb, 0xbf]), 'a\n', 'x'.repeat(30)], 10);
    expect(got.lines).toEqual(['a', { long: 30, blank: false }]);
    expect(got.ends).toEqual([5, 35]);
  });

  test('over-long lines are row_too_large rows naming the line and the limit; the rows after them still count', async () => {
    const ok = JSON.stringify({ messages: [{ role: 'user', content: 'q' }] });
    const huge = 'y'.repeat(MAX_ROW_BYTES + 5);
    const text = `${ok}\n${huge}\n${ok}\n`;
    const source: ByteSource = {
      name: 'mixed.jsonl',
      info: async () => ({ size: text.length }),
      stream: async () => chunksOf([Buffer.from(text)]),
      asyncBuffer: () => Promise.reject(new Error('not used')),
    };
    const rows: unknown[] = [];
    const ends: number[] = [];
    for await (const batch of readJsonlRows(source)) {
      rows.push(...batch.rows);
      ends.push(...(batch.ends ?? []));
    }
    expect(rows).toHaveLength(3);
    expect(rows[1]).toBeInstanceOf(UnparsableLine);
    expect(rows[1]).toMatchObject({ reason: 'row_too_large', lineNumber: 2 });
    expect((rows[1] as UnparsableLine).error).toContain(`${MAX_ROW_BYTES + 5} bytes, more than the 1 MiB`);
    expect(ends).toEqual([ok.length + 1, ok.length + huge.length + 2, text.length]);
    expect(await countJsonlRows(source)).toBe(3);
  });
});

describe('a 400 MB JSONL without a newline', () => {
  const TOTAL = 400 * MiB;

  test('is read in linear time with bounded memory and comes out as one row_too_large row', async () => {
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    let chunks = 0;
    const source = generated(TOTAL, {
      onChunk: () => {
        if (++chunks % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      },
    });
    const t0 = performance.now();
    const rows: unknown[] = [];
    for await (const batch of readJsonlRows(source)) rows.push(...batch.rows);
    const ms = performance.now() - t0;
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(
      `400 MiB without a newline: read in ${ms.toFixed(0)} ms, RSS growth ${((peak - rss0) / MiB).toFixed(1)} MiB`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ reason: 'row_too_large', lineNumber: 1 });
    expect((rows[0] as UnparsableLine).error).toContain(`${TOTAL} bytes, more than the 1 MiB`);
    expect(chunks).toBe(TOTAL / CHUNK);
    expect(peak - rss0).toBeLessThan(64 * MiB);
    expect(ms).toBeLessThan(15_000);
  }, 30_000);

  test('never holds the event loop for long, even from a source that is always ready', async () => {
    // 400 MiB of spaces: a blank line has to be looked at byte by byte, so the splitter is busy for a
    // while, and its source never makes it wait.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    delay.enable();
    const t0 = performance.now();
    expect(await countJsonlRows(generated(TOTAL, { fill: 0x20 }))).toBe(0);
    const ms = performance.now() - t0;
    delay.disable();
    clearInterval(ticker);
    const maxMs = delay.max / 1e6;
    console.log(
      `400 MiB of spaces without a newline: counted in ${ms.toFixed(0)} ms, event loop delay max ${maxMs.toFixed(0)} ms, ${ticks} ticks of a 10 ms timer`,
    );
    expect(ms).toBeGreaterThan(100); // the work is long enough to tell
    expect(maxMs).toBeLessThan(250);
    expect(ticks).toBeGreaterThan(ms / 10 / 4); // the timer kept running meanwhile
  }, 30_000);

  test('staging it fails the split, naming the row and the limit; nothing is committed', async () => {
    const staged: string[] = [];
    let committed = false;
    const target: BlockBlobTarget = {
      stageBlock: async (id) => {
        staged.push(id);
        return {};
      },
      commitBlockList: async () => {
        committed = true;
        return {};
      },
    };
    const label = 'dataset.files.train generated.jsonl (first 100%)';
    const err = await stageSplit({
      source: fileSplitSource(generated(TOTAL), 'jsonl', 'https://example.org/generated.jsonl'),
      target,
      label,
      percent: 100,
      maxInvalidFraction: 0.01,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StagingError);
    expect((err as StagingError).code).toBe('TooManyInvalidRows');
    const message = (err as Error).message;
    expect(message).toContain(label);
    expect(message).toContain('row 0: row_too_large');
    expect(message).toContain('longer than 1 MiB');
    expect(staged).toEqual([]);
    expect(committed).toBe(false);
  }, 30_000);
});
