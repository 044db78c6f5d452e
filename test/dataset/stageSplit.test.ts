// stageSplit against an in-memory block blob: blocks of whole lines, a content hash checkable from the
// blob, resuming from any checkpoint gives the same bytes, and JSONL resumes at a byte offset.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  blockId,
  blockListSha256Of,
  fileSplitSource,
  inHashSample,
  localByteSource,
  readJsonlRows,
  sampleHash,
  stageSplit,
  StagingError,
  toJsonLine,
  type BlockBlobTarget,
  type ChatRow,
  type SplitCheckpoint,
  type StageSplitOptions,
} from '../../src/dataset';

/** Staged blocks by id and the committed list, as Azure keeps them. */
class MemoryBlob implements BlockBlobTarget {
  readonly staged = new Map<string, Buffer>();
  committed: string[] | undefined;
  metadata: Record<string, string> | undefined;
  stageCalls: string[] = [];
  md5s: (Uint8Array | undefined)[] = [];

  async stageBlock(
    id: string,
    body: Buffer,
    _length: number,
    options?: { transactionalContentMD5?: Uint8Array },
  ): Promise<void> {
    this.stageCalls.push(id);
    this.md5s.push(options?.transactionalContentMD5);
    this.staged.set(id, Buffer.from(body));
  }

  async commitBlockList(ids: string[], options?: { metadata?: Record<string, string> }): Promise<void> {
    for (const id of ids) if (!this.staged.has(id)) throw new Error(`block ${id} was never staged`);
    this.committed = [...ids];
    this.metadata = options?.metadata;
  }

  content(): Buffer {
    return Buffer.concat((this.committed ?? []).map((id) => this.staged.get(id) as Buffer));
  }

  sizes(): number[] {
    return (this.committed ?? []).map((id) => (this.staged.get(id) as Buffer).length);
  }
}

function chat(i: number): ChatRow {
  const text = `question ${i}: ${'why/how über 😀 '.repeat(1 + (i % 7))}`;
  return {
    prompt: text,
    prompt_id: createHash('sha256').update(text).digest('hex'),
    messages: [
      { content: text, role: 'user' },
      { content: `answer ${i} `.repeat(20), role: 'assistant' },
    ],
  };
}

const ROWS = 400;
const INVALID = new Set([17, 150, 151, 390]);

describe('stageSplit', () => {
  let dir: string;
  let jsonlPath: string;
  let expected: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftflow-stage-'));
    const lines: string[] = [];
    const out: string[] = [];
    for (let i = 0; i < ROWS; i++) {
      if (i === 100) lines.push('   ', '');
      if (INVALID.has(i)) {
        lines.push(
          i === 150
            ? '{"broken": '
            : JSON.stringify({ prompt: 'x', messages: [{ role: 'user', content: 'only a question' }] }),
        );
        continue;
      }
      // the source may be formatted any way: staging rewrites it as pandas writes JSONL
      const row = chat(i);
      const source = i % 2 ? { messages: row.messages, extra: i, prompt_id: row.prompt_id, prompt: row.prompt } : row;
      lines.push(JSON.stringify(source) + (i % 3 === 0 ? '\r' : ''));
      out.push(toJsonLine(chat(i)) + '\n');
    }
    jsonlPath = join(dir, 'train.jsonl');
    await writeFile(jsonlPath, '\ufeff' + lines.join('\n'));
    expected = Buffer.from(out.join(''), 'utf8');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const source = () => fileSplitSource(localByteSource(jsonlPath), 'jsonl', jsonlPath);
  const options = (target: BlockBlobTarget, extra: Partial<StageSplitOptions> = {}): StageSplitOptions => ({
    source: source(),
    target,
    label: 'train.jsonl',
    percent: 100,
    maxInvalidFraction: 0.02,
    blockBytes: 16 * 1024,
    ...extra,
  });

  test('writes every valid row as pandas JSONL in blocks of whole lines; the hash is checkable from the blob', async () => {
    const blob = new MemoryBlob();
    const checkpoints: SplitCheckpoint[] = [];
    const result = await stageSplit(
      options(blob, { onCheckpoint: (c) => checkpoints.push(c), metadata: (r) => ({ rows: String(r.rows) }) }),
    );
    expect(blob.content().equals(expected)).toBe(true);
    expect(result).toMatchObject({
      rows: ROWS - INVALID.size,
      sourceRows: ROWS,
      scannedRows: ROWS,
      bytes: expected.length,
      resumedAtRow: 0,
    });
    expect(result.invalid).toMatchObject({ invalid: 4, byReason: { no_assistant_turn: 3, invalid_json: 1 } });
    expect(result.invalid.examples.map((e) => e.row)).toEqual([17, 150, 151]);
    expect(blob.metadata).toEqual({ rows: String(ROWS - INVALID.size) });
    // every block but the last reaches the target size and ends with a whole line
    const sizes = blob.sizes();
    expect(sizes.length).toBe(result.blocks);
    expect(sizes.length).toBeGreaterThan(5);
    expect(sizes.slice(0, -1).every((s) => s >= 16 * 1024)).toBe(true);
    let offset = 0;
    for (const size of sizes) {
      offset += size;
      expect(blob.content()[offset - 1]).toBe(0x0a);
    }
    expect(blob.committed).toEqual(sizes.map((_, i) => blockId(i)));
    expect(result.sha256).toBe(blockListSha256Of(blob.content(), sizes));
    expect(checkpoints.map((c) => c.blocks.length)).toEqual(sizes.map((_, i) => i + 1));
  });

  test("sends each block's MD5 for the service to check only when asked (contentMd5)", async () => {
    const plain = new MemoryBlob();
    await stageSplit(options(plain));
    expect(plain.md5s.every((m) => m === undefined)).toBe(true);
    const checked = new MemoryBlob();
    await stageSplit(options(checked, { contentMd5: true }));
    expect(checked.content().equals(plain.content())).toBe(true);
    expect(checked.md5s.map((m) => Buffer.from(m ?? []).toString('base64'))).toEqual(
      checked.stageCalls.map((id) =>
        createHash('md5')
          .update(checked.staged.get(id) as Buffer)
          .digest('base64'),
      ),
    );
  });

  test('resuming from any checkpoint stages only the rest and gives the same bytes and hash', async () => {
    const full = new MemoryBlob();
    const checkpoints: SplitCheckpoint[] = [];
    const reference = await stageSplit(
      options(full, { onCheckpoint: (c) => checkpoints.push(JSON.parse(JSON.stringify(c)) as SplitCheckpoint) }),
    );
    for (const k of [1, Math.floor(checkpoints.length / 2), checkpoints.length - 2]) {
      const cp = checkpoints[k - 1];
      expect(cp.nextOffset).toBeGreaterThan(0);
      // Azure still holds the blocks the first attempt staged (uncommitted)
      const blob = new MemoryBlob();
      for (let i = 0; i < k; i++) blob.staged.set(blockId(i), full.staged.get(blockId(i)) as Buffer);
      const result = await stageSplit(options(blob, { resume: cp }));
      expect(blob.stageCalls[0]).toBe(blockId(k));
      expect(blob.stageCalls.length).toBe(checkpoints.length - k);
      expect(blob.content().equals(expected)).toBe(true);
      expect(result).toMatchObject({
        sha256: reference.sha256,
        rows: reference.rows,
        sourceRows: reference.sourceRows,
        resumedAtRow: cp.nextRow,
      });
      expect(result.invalid).toEqual(reference.invalid);
    }
  });

  test('JSONL read from a byte offset continues exactly where an earlier read stopped', async () => {
    const bytes = localByteSource(jsonlPath);
    const all: unknown[] = [];
    let endOf120 = 0;
    for await (const b of readJsonlRows(bytes, { batchSize: 7 })) {
      b.rows.forEach((row, i) => {
        all.push(row);
        if (b.startRow + i === 119) endOf120 = (b.ends as number[])[i];
      });
    }
    expect(all.length).toBe(ROWS);
    const rest: unknown[] = [];
    for await (const b of readJsonlRows(bytes, { startRow: 120, startOffset: endOf120 })) rest.push(...b.rows);
    // an UnparsableLine's line number counts from where the read started: compare without it
    const text = (rows: unknown[]) =>
      JSON.stringify(rows, (key, value: unknown) => (key === 'lineNumber' ? undefined : value));
    expect(text(rest)).toBe(text(all.slice(120)));
  });

  test('too many invalid rows: nothing is committed; a known slice fails as soon as it is over', async () => {
    const blob = new MemoryBlob();
    await expect(stageSplit(options(blob, { maxInvalidFraction: 0.005 }))).rejects.toThrow(
      /4 of 400 rows are invalid \(1%\), more than the allowed 0.5%/,
    );
    expect(blob.committed).toBeUndefined();
    // 50% = 200 rows (a counting pass): 3 invalid among the first 152 is already over 1% of 200
    const early = new MemoryBlob();
    const err = await stageSplit(options(early, { percent: 50, maxInvalidFraction: 0.01 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StagingError);
    expect((err as StagingError).code).toBe('TooManyInvalidRows');
    expect((err as Error).message).toMatch(/already 1.5% of the 200 rows of the slice/);
    expect(early.committed).toBeUndefined();
  });

  test('hash sampling: deterministic, about percent% of rows, nested as percent grows, a function of prompt_id only', async () => {
    const a = new MemoryBlob();
    const r30 = await stageSplit(
      options(a, { percent: 30, sampling: { method: 'hash', seed: 7 }, maxInvalidFraction: 0.1 }),
    );
    const kept = (seed: number, pct: number) =>
      Array.from({ length: ROWS }, (_, i) => i).filter(
        (i) => !INVALID.has(i) && inHashSample(seed, chat(i).prompt_id, pct),
      );
    const want = kept(7, 30)
      .map((i) => toJsonLine(chat(i)) + '\n')
      .join('');
    expect(a.content().toString('utf8')).toBe(want);
    expect(r30.scannedRows).toBe(ROWS);
    expect(Math.abs(r30.sourceRows - 0.3 * ROWS)).toBeLessThan(5 * Math.sqrt(ROWS * 0.3 * 0.7));
    const ten = new Set(kept(7, 10));
    expect([...ten].every((i) => kept(7, 30).includes(i))).toBe(true);
    expect(kept(8, 30)).not.toEqual(kept(7, 30));
    expect(sampleHash(7, 'x')).toBe(sampleHash(7, 'x'));
    expect(sampleHash(7, 'x')).toBeGreaterThanOrEqual(0);
    expect(sampleHash(7, 'x')).toBeLessThan(1);
  });
});
