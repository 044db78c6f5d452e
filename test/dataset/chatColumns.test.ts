// The chat schema's faster reader (chatColumns.ts) gives exactly the rows hyparquet's parquetReadObjects
// gives with text as bytes, so validation and the staged JSONL cannot tell them apart: over the Hub
// stand-in's shards (planted invalid rows) and over a file of nulls at every level, in several pages.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { DEFAULT_REPO_ID, SHARD_FILES } from '../../devstack/emulator/hub';
import {
  chatLayoutOf,
  localByteSource,
  readParquetRows,
  readRows,
  validateChatTextRow,
  type RowBatch,
} from '../../src/dataset';
import { startHub } from './hubServer';

const TEXT = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const;
const SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: 3 },
  { name: 'prompt', ...TEXT, repetition_type: 'OPTIONAL' },
  { name: 'prompt_id', ...TEXT, repetition_type: 'OPTIONAL' },
  {
    name: 'messages',
    num_children: 1,
    converted_type: 'LIST',
    logical_type: { type: 'LIST' },
    repetition_type: 'OPTIONAL',
  },
  { name: 'list', num_children: 1, repetition_type: 'REPEATED' },
  { name: 'element', num_children: 2, repetition_type: 'OPTIONAL' },
  { name: 'content', ...TEXT, repetition_type: 'OPTIONAL' },
  { name: 'role', ...TEXT, repetition_type: 'OPTIONAL' },
];

type Message = { content: string | null; role: string | null } | null;
const turn = (content: string | null, role: string | null): Message => ({ content, role });
const EDGE_ROWS: { prompt: string | null; prompt_id: string | null; messages: Message[] | null }[] = [
  { prompt: 'hi', prompt_id: 'a', messages: [turn('hi', 'user'), turn('hello / "there" ü 😀', 'assistant')] },
  { prompt: null, prompt_id: null, messages: [turn('q', 'user'), turn('a', 'assistant')] },
  { prompt: 'p', prompt_id: 'c', messages: null },
  { prompt: 'p', prompt_id: 'd', messages: [] },
  { prompt: 'p', prompt_id: 'e', messages: [null, turn('a', 'assistant')] },
  { prompt: 'p', prompt_id: 'f', messages: [turn(null, 'user'), turn('a', 'assistant')] },
  { prompt: 'p', prompt_id: 'g', messages: [turn('q', null), turn('a', 'assistant')] },
  { prompt: 'p', prompt_id: 'h', messages: [turn('q', 'user'), turn('  \n', 'assistant')] },
  { prompt: 'p', prompt_id: 'i', messages: [turn('q', 'captain'), turn('a', 'assistant')] },
  { prompt: '', prompt_id: '', messages: [turn('q'.repeat(3000), 'user'), turn('a\u2028b\u0000', 'assistant')] },
];

/** Rows as hyparquet reads them (text as bytes), for rows [rowStart, rowEnd) of the file. */
async function referenceRows(data: ArrayBuffer, rowStart: number, rowEnd: number): Promise<unknown[]> {
  return parquetReadObjects({
    file: data,
    rowStart,
    rowEnd,
    parsers: { stringFromBytes: (bytes: Uint8Array | undefined) => bytes },
  });
}

async function fastRows(path: string, startRow: number, limit: number): Promise<unknown[]> {
  const rows: unknown[] = [];
  for await (const batch of readParquetRows([localByteSource(path)], {
    startRow,
    limit,
    textAsBytes: true,
  }) as AsyncGenerator<RowBatch>) {
    rows.push(...batch.rows);
  }
  return rows;
}

/** A row with each text's bytes copied (a transient batch's bytes are reused by the next one). */
function copied(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(copied);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copied(v)]));
  }
  return value;
}

/** fastRows with `transient`: each batch copied before the next one is asked for, as staging writes it. */
async function transientRows(path: string, startRow: number, limit: number): Promise<unknown[]> {
  const rows: unknown[] = [];
  let buffers = 0;
  const seen = new Set<ArrayBufferLike>();
  for await (const batch of readParquetRows([localByteSource(path)], {
    startRow,
    limit,
    textAsBytes: true,
    transient: true,
  }) as AsyncGenerator<RowBatch>) {
    for (const row of batch.rows) {
      const text = (row as { prompt?: unknown }).prompt;
      if (text instanceof Uint8Array && !seen.has(text.buffer)) {
        seen.add(text.buffer);
        buffers++;
      }
      rows.push(copied(row));
    }
  }
  // the pages of every row group live in the reader's arena: one memory, grown a few times at most
  if (rows.length > 0) expect(buffers).toBeLessThanOrEqual(4);
  return rows;
}

describe('the chat schema reader', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftflow-chatcols-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function compare(data: ArrayBuffer, ranges: [number, number][]): Promise<void> {
    const path = join(dir, `f${Math.random().toString(36).slice(2)}.parquet`);
    await writeFile(path, Buffer.from(data));
    expect(chatLayoutOf(parquetMetadata(data))).toBeDefined();
    for (const [from, to] of ranges) {
      const expected = await referenceRows(data, from, to);
      const actual = await fastRows(path, from, to);
      expect(actual).toEqual(expected);
      expect(actual.map((row) => validateChatTextRow(row))).toEqual(expected.map((row) => validateChatTextRow(row)));
      expect(await transientRows(path, from, to)).toEqual(expected);
    }
  }

  test('nulls at every level, several pages per column chunk, in row groups of 4', async () => {
    const rows = [...EDGE_ROWS, ...EDGE_ROWS, ...EDGE_ROWS];
    const data = parquetWriteBuffer({
      schema: SCHEMA,
      columnData: [
        { name: 'prompt', data: rows.map((r) => r.prompt) },
        { name: 'prompt_id', data: rows.map((r) => r.prompt_id) },
        { name: 'messages', data: rows.map((r) => r.messages) },
      ],
      rowGroupSize: 4,
      pageSize: 512,
    });
    await compare(data, [
      [0, rows.length],
      [3, 17],
      [9, 10],
    ]);
  });

  test("the Hub stand-in's shards, planted invalid rows included", async () => {
    const hub = await startHub({
      rowsPerSplit: { train_sft: 30, test_sft: 400, train_gen: 30, test_gen: 30 },
      rowGroupSize: 90,
    });
    try {
      const url = `${hub.endpoint}/datasets/${DEFAULT_REPO_ID}/resolve/main/${SHARD_FILES.test_sft[0]}`;
      const data = await (await fetch(url)).arrayBuffer();
      await compare(data, [
        [0, 400],
        [95, 301],
      ]);
      // transient over HTTP ranges: each group's bytes in a pooled buffer, reused once the batch is read
      const rows: unknown[] = [];
      for await (const batch of readRows([{ url, size: data.byteLength }], {
        startRow: 95,
        limit: 400,
        textAsBytes: true,
        transient: true,
      })) {
        rows.push(...batch.rows.map(copied));
      }
      expect(rows).toEqual(await referenceRows(data, 95, 400));
    } finally {
      await hub.close();
    }
  });

  test('a schema that is not the chat schema is not given to it', () => {
    const data = parquetWriteBuffer({ columnData: [{ name: 'messages', data: ['a', 'b'] }] });
    expect(chatLayoutOf(parquetMetadata(data))).toBeUndefined();
  });
});
