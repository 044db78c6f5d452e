// Local and http(s) JSONL / parquet sources, streamed with the same [startRow, limit) semantics.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { DEFAULT_REPO_ID, SHARD_FILES, hubExpectedRow } from '../../devstack/emulator/hub';
import {
  UnparsableLine,
  readLocalRows,
  toJsonLine,
  validateChatRow,
  type ChatRow,
  type RowBatch,
} from '../../src/dataset';
import { startHub, type RunningHub } from './hubServer';

async function all(gen: AsyncGenerator<RowBatch>): Promise<{ rows: unknown[]; batches: RowBatch[] }> {
  const rows: unknown[] = [];
  const batches: RowBatch[] = [];
  for await (const b of gen) {
    batches.push(b);
    rows.push(...b.rows);
  }
  return { rows, batches };
}

function chat(i: number): ChatRow {
  const text = `question ${i} — über/unter 😀`;
  return {
    prompt: text,
    prompt_id: i.toString(16).padStart(64, '0'),
    messages: [
      { content: text, role: 'user' },
      { content: `answer ${i}`, role: 'assistant' },
    ],
  };
}

describe('readLocalRows', () => {
  let dir: string;
  let jsonlPath: string;
  let parquetPath: string;
  let hub: RunningHub;
  let files: FastifyInstance;
  let filesBase: string;
  const OPTS = { rowsPerSplit: { train_sft: 30, test_sft: 260, train_gen: 30, test_gen: 30 }, rowGroupSize: 50 };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftflow-dataset-'));
    // 25 rows, a blank line, a CRLF line, and one corrupt line (row 10)
    const lines: string[] = [];
    for (let i = 0; i < 25; i++) {
      if (i === 10) lines.push('{"prompt": "broken", ');
      else lines.push(toJsonLine(chat(i)));
      if (i === 5) lines.push('');
    }
    jsonlPath = join(dir, 'train.jsonl');
    await writeFile(jsonlPath, lines.join('\n').replace(toJsonLine(chat(3)), toJsonLine(chat(3)) + '\r') + '\n');

    hub = await startHub(OPTS);
    const shard = Buffer.from(
      await (
        await fetch(`${hub.endpoint}/datasets/${DEFAULT_REPO_ID}/resolve/main/${SHARD_FILES.test_sft[0]}`)
      ).arrayBuffer(),
    );
    parquetPath = join(dir, 'test_sft.parquet');
    await writeFile(parquetPath, shard);

    // a plain file server for the http(s) URL cases (JSONL without Range support)
    files = fastify({});
    files.get('/files/train.jsonl', async (_req, reply) =>
      reply.type('application/x-ndjson').send(await readFile(jsonlPath)),
    );
    await files.listen({ port: 0, host: '127.0.0.1' });
    filesBase = `http://127.0.0.1:${(files.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await hub.close();
    await files.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('local JSONL: rows in order, blank lines skipped, CRLF tolerated, a corrupt line becomes an UnparsableLine', async () => {
    const { rows } = await all(readLocalRows(jsonlPath));
    expect(rows).toHaveLength(25);
    expect(rows[0]).toEqual(chat(0));
    expect(rows[3]).toEqual(chat(3));
    expect(rows[24]).toEqual(chat(24));
    expect(rows[10]).toBeInstanceOf(UnparsableLine);
    expect((rows[10] as UnparsableLine).lineNumber).toBe(12); // one blank line before it
    const verdicts = rows.map((r) => validateChatRow(r));
    expect(verdicts.filter((v) => !v.ok)).toEqual([{ ok: false, reason: 'invalid_json' }]);
  });

  test('local JSONL: limit, resume and batch sizes', async () => {
    const { rows, batches } = await all(readLocalRows(jsonlPath, { startRow: 7, limit: 20, jsonlBatchSize: 5 }));
    expect(rows).toHaveLength(13);
    expect(rows[0]).toEqual(chat(7));
    expect(rows[12]).toEqual(chat(19));
    expect(batches.map((b) => [b.startRow, b.rows.length])).toEqual([
      [7, 5],
      [12, 5],
      [17, 3],
    ]);
    expect((await all(readLocalRows(pathToFileURL(jsonlPath).toString(), { limit: 2 }))).rows).toEqual([
      chat(0),
      chat(1),
    ]);
    expect((await all(readLocalRows(jsonlPath, { limit: 0 }))).rows).toEqual([]);
  });

  test('local parquet: row groups streamed, nested messages, limit and resume', async () => {
    const { rows, batches } = await all(readLocalRows(parquetPath, { startRow: 40, limit: 120 }));
    expect(rows).toHaveLength(80);
    expect(batches.map((b) => [b.chunk, b.startRow, b.rows.length])).toEqual([
      [0, 40, 10],
      [1, 50, 50],
      [2, 100, 20],
    ]);
    expect(rows[0]).toEqual(hubExpectedRow('test_sft', 40, OPTS));
    expect(rows[79]).toEqual(hubExpectedRow('test_sft', 119, OPTS));
    expect((await all(readLocalRows(parquetPath))).rows).toHaveLength(260);
  });

  test('http URLs: JSONL streamed from a server without Range support, parquet via range requests', async () => {
    const jsonl = await all(readLocalRows(`${filesBase}/files/train.jsonl?sig=abc`, { limit: 12 }));
    expect(jsonl.rows).toHaveLength(12);
    expect(jsonl.rows[11]).toEqual(chat(11));
    expect(jsonl.batches[0].file).toBe(`${filesBase}/files/train.jsonl`);

    const url = `${hub.endpoint}/datasets/${DEFAULT_REPO_ID}/resolve/main/${SHARD_FILES.test_sft[0]}`;
    const pq = await all(readLocalRows(url, { startRow: 255 }));
    expect(pq.rows).toEqual([255, 256, 257, 258, 259].map((i) => hubExpectedRow('test_sft', i, OPTS)));
  });

  test('clear errors: unknown format, missing file, HTTP 404, not parquet', async () => {
    await expect(all(readLocalRows(join(dir, 'data.csv')))).rejects.toThrow(/cannot tell the format .*data\.csv/);
    await expect(all(readLocalRows(join(dir, 'missing.jsonl')))).rejects.toThrow(/missing\.jsonl: ENOENT/);
    await expect(all(readLocalRows(`${filesBase}/files/none.jsonl`))).rejects.toThrow(/HTTP 404/);
    await expect(
      all(readLocalRows(`${hub.endpoint}/datasets/${DEFAULT_REPO_ID}/resolve/main/data/none.parquet`)),
    ).rejects.toThrow(/HTTP 404 \(no such file: check the URL\)$/); // the status only: never the server's own text
    await expect(all(readLocalRows(jsonlPath, { format: 'parquet' }))).rejects.toThrow(/not a readable parquet file/);
  });
});
