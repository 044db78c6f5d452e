// The staging code reads the Hub stand-in through the Hub's HTTP API, as it would read huggingface.co.
import { DEFAULT_REPO_ID, SHARD_FILES, hubCommit, hubExpectedRow, hubInvalidRows } from '../../devstack/emulator/hub';
import {
  HubError,
  ValidationTally,
  countRows,
  globToRegExp,
  listSplitFiles,
  readRows,
  resolveRevision,
  sliceRowCount,
  validateChatRow,
  type HubFile,
  type ReadStats,
  type RowBatch,
} from '../../src/dataset';
import { startHub, type RunningHub } from './hubServer';

const REPO = DEFAULT_REPO_ID;
// train_sft: 3 shards of 334/333/333 rows, row groups of 100 → boundaries at 100, 200, 300, 334, 434, …
const OPTS = { rowsPerSplit: { train_sft: 1000, test_sft: 250, train_gen: 900, test_gen: 120 }, rowGroupSize: 100 };

async function collect(gen: AsyncGenerator<RowBatch>): Promise<{ rows: unknown[]; batches: RowBatch[] }> {
  const rows: unknown[] = [];
  const batches: RowBatch[] = [];
  for await (const batch of gen) {
    expect(batch.startRow).toBe(
      batches.length ? batches[batches.length - 1].startRow + batches[batches.length - 1].rows.length : batch.startRow,
    );
    batches.push(batch);
    rows.push(...batch.rows);
  }
  return { rows, batches };
}

function expectedRows(split: 'train_sft' | 'test_sft' | 'train_gen' | 'test_gen', from: number, to: number): unknown[] {
  const out: unknown[] = [];
  for (let i = from; i < to; i++) {
    const row = hubExpectedRow(split, i, OPTS);
    // a missing list reads back as an absent key
    out.push(row.messages === null ? { prompt: row.prompt, prompt_id: row.prompt_id } : row);
  }
  return out;
}

describe('Hub client against the stand-in', () => {
  let hub: RunningHub;
  let client: { endpoint: string };

  beforeAll(async () => {
    hub = await startHub(OPTS);
    client = { endpoint: hub.endpoint };
  });
  afterAll(async () => {
    await hub.close();
  });

  test('resolveRevision: main → the commit sha; the sha resolves to itself', async () => {
    const sha = await resolveRevision(client, REPO, 'main');
    expect(sha).toBe(hubCommit(OPTS));
    expect(await resolveRevision(client, REPO, sha)).toBe(sha);
  });

  test('listSplitFiles: the split shards in order, pinned to the sha, with sizes', async () => {
    const files = await listSplitFiles(client, REPO, 'main', 'train_sft');
    const sha = hubCommit(OPTS);
    expect(files.map((f) => f.path)).toEqual([...SHARD_FILES.train_sft]);
    for (const f of files) {
      expect(f.url).toBe(`${hub.endpoint}/datasets/${REPO}/resolve/${sha}/${f.path}`);
      expect(f.size).toBeGreaterThan(1000);
      const head = await fetch(f.url, { method: 'HEAD' });
      expect(Number(head.headers.get('content-length'))).toBe(f.size);
    }
    expect((await listSplitFiles(client, REPO, 'main', 'test_gen')).map((f) => f.path)).toEqual([
      ...SHARD_FILES.test_gen,
    ]);
  });

  test('clear errors for an unknown dataset, revision or split', async () => {
    await expect(listSplitFiles(client, 'nobody/nothing', 'main', 'train_sft')).rejects.toThrow(
      /dataset nobody\/nothing was not found/,
    );
    await expect(resolveRevision(client, REPO, 'v0.0-missing')).rejects.toThrow(
      /revision "v0\.0-missing" of dataset HuggingFaceH4\/ultrachat_200k was not found/,
    );
    const err = await listSplitFiles(client, REPO, 'main', 'train').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('SplitNotFound');
    expect((err as HubError).retryable).toBe(false);
    expect((err as Error).message).toBe(
      'dataset HuggingFaceH4/ultrachat_200k at revision "main" has no split "train"; its splits are: train_sft, test_sft, train_gen, test_gen',
    );
    await expect(resolveRevision(client, 'not a repo id', 'main')).rejects.toThrow(/owner\/name/);
    await expect(resolveRevision({ endpoint: 'http://127.0.0.1:9' }, REPO, 'main')).rejects.toMatchObject({
      code: 'Network',
      retryable: true,
    });
  });

  test('countRows reads only the footers', async () => {
    const files = await listSplitFiles(client, REPO, 'main', 'train_sft');
    const stats: ReadStats = { requests: 0, bytesFetched: 0 };
    expect(await countRows(files, { stats })).toBe(1000);
    expect(stats.requests).toBe(3);
  });

  test("countRows reads the shards' footers at once, not one after the other", async () => {
    // every parquet request is held 50 ms: read one after the other, at most one would be waiting at a time
    let waiting = 0;
    let most = 0;
    const slow = await startHub(OPTS, (app) =>
      app.addHook('onRequest', async (req) => {
        if (!req.url.endsWith('.parquet')) return;
        most = Math.max(most, ++waiting);
        await new Promise((resolve) => setTimeout(resolve, 50));
        waiting--;
      }),
    );
    try {
      const files = await listSplitFiles({ endpoint: slow.endpoint }, REPO, 'main', 'train_sft');
      expect(files).toHaveLength(3);
      expect(await countRows(files)).toBe(1000);
      expect(most).toBe(3);
    } finally {
      await slow.close();
    }
  });

  test('reads exactly the first N rows across shard and row-group boundaries, in order', async () => {
    const files = await listSplitFiles(client, REPO, 'main', 'train_sft');
    const total = await countRows(files);
    const n = sliceRowCount(total, 45); // 450: crosses shard 0 (334 rows) into shard 1, mid row group
    expect(n).toBe(450);
    const { rows, batches } = await collect(readRows(files, { limit: n }));
    expect(rows).toHaveLength(450);
    expect(rows).toEqual(expectedRows('train_sft', 0, 450));
    // one batch per (partial) row group: 0-99, 100-199, 200-299, 300-333 | 334-433, 434-449
    expect(batches.map((b) => [b.fileIndex, b.chunk, b.startRow, b.rows.length])).toEqual([
      [0, 0, 0, 100],
      [0, 1, 100, 100],
      [0, 2, 200, 100],
      [0, 3, 300, 34],
      [1, 0, 334, 100],
      [1, 1, 434, 16],
    ]);
    expect(batches[4].file).toBe(SHARD_FILES.train_sft[1]);
  });

  test('the whole split when no limit is given; a limit past the end just ends', async () => {
    const files = await listSplitFiles(client, REPO, 'main', 'train_sft');
    const { rows } = await collect(readRows(files, { limit: 5000 }));
    expect(rows).toHaveLength(1000);
    expect(rows[999]).toEqual(expectedRows('train_sft', 999, 1000)[0]);
    expect((await collect(readRows(files))).rows).toHaveLength(1000);
    expect((await collect(readRows(files, { limit: 0 }))).rows).toHaveLength(0);
  });

  test('resumes at a row offset (inside a row group of a later shard) and skips earlier shards', async () => {
    const files = await listSplitFiles(client, REPO, 'main', 'train_sft');
    const stats: ReadStats = { requests: 0, bytesFetched: 0 };
    const { rows, batches } = await collect(readRows(files, { startRow: 690, limit: 700, stats }));
    expect(rows).toEqual(expectedRows('train_sft', 690, 700));
    expect(batches.map((b) => [b.fileIndex, b.startRow])).toEqual([[2, 690]]);
    // footers of shards 0 and 1 only (64 KiB each at most), then the footer and one row group of shard 2
    const splitBytes = files.reduce((s, f: HubFile) => s + f.size, 0);
    expect(stats.bytesFetched).toBeLessThan(2 * 65536 + files[2].size);
    expect(stats.bytesFetched).toBeLessThan(splitBytes / 2);

    // resume from a heartbeat-like offset gives the same rows as a straight read
    const straight = (await collect(readRows(files, { limit: 600 }))).rows;
    const firstPart = (await collect(readRows(files, { limit: 250 }))).rows;
    const rest = (await collect(readRows(files, { startRow: 250, limit: 600 }))).rows;
    expect([...firstPart, ...rest]).toEqual(straight);
  });

  test('the planted invalid rows are the ones validation rejects, with the same reasons', async () => {
    const files = await listSplitFiles(client, REPO, 'main', 'train_sft');
    const tally = new ValidationTally(`${REPO} train_sft`);
    const rejected: { index: number; reason: string }[] = [];
    for await (const batch of readRows(files)) {
      batch.rows.forEach((row, i) => {
        const result = validateChatRow(row);
        tally.record(batch.startRow + i, result);
        if (!result.ok) rejected.push({ index: batch.startRow + i, reason: result.reason });
      });
    }
    expect(rejected).toEqual(hubInvalidRows('train_sft', OPTS));
    expect(rejected.map((r) => r.reason)).toEqual([
      'messages_empty',
      'no_assistant_turn',
      'empty_content',
      'bad_role',
      'messages_missing',
    ]);
    expect(tally.fraction()).toBeCloseTo(0.005, 6);
    expect(() => tally.check(0.01)).not.toThrow();
    expect(() => tally.check(0.001)).toThrow(/5 of 1000 rows are invalid \(0\.5%\), more than the allowed 0\.1%/);
  });

  test('parquet files are read with range requests only (never a whole file)', async () => {
    const files = await listSplitFiles(client, REPO, 'main', 'test_sft');
    const ranges: string[] = [];
    const spy: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      ranges.push(headers.get('range') ?? 'none');
      return fetch(input, init);
    };
    const { rows } = await collect(readRows(files, { limit: 120, fetch: spy }));
    expect(rows).toHaveLength(120);
    expect(ranges.length).toBeGreaterThan(1);
    expect(ranges.every((r) => /^bytes=\d+-\d+$/.test(r))).toBe(true);
  });
});

describe('Hub client with a token', () => {
  const TOKEN = 'hf_secret_abc';
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startHub({ ...OPTS, token: TOKEN });
  });
  afterAll(async () => {
    await hub.close();
  });

  test('without the token: a clear, non-retryable error that does not echo any token', async () => {
    const err = await listSplitFiles({ endpoint: hub.endpoint }, REPO, 'main', 'test_sft').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'Unauthorized', retryable: false, status: 401 });
    expect((err as Error).message).toMatch(/Set HF_TOKEN/);
    const wrong = await resolveRevision({ endpoint: hub.endpoint, token: 'hf_wrong_xyz' }, REPO, 'main').catch(
      (e: unknown) => e,
    );
    expect((wrong as Error).message).toMatch(/Invalid credentials/);
    expect((wrong as Error).message).not.toContain('hf_wrong_xyz');
  });

  test('with the token: listing and reading work (the token goes to the file URLs too)', async () => {
    const files = await listSplitFiles({ endpoint: hub.endpoint, token: TOKEN }, REPO, 'main', 'test_sft');
    const { rows } = await collect(readRows(files, { limit: 5, token: TOKEN }));
    expect(rows).toEqual(expectedRows('test_sft', 0, 5));
    await expect(collect(readRows(files, { limit: 5 }))).rejects.toThrow(/HTTP 401/);
  });
});

test('globToRegExp follows the data_files glob rules', () => {
  expect(globToRegExp('data/train_sft-*').test('data/train_sft-00000-of-00003-a3ecf92756993583.parquet')).toBe(true);
  expect(globToRegExp('data/train_sft-*').test('data/train_sft/x.parquet')).toBe(false);
  expect(globToRegExp('data/train_sft-*').test('data/train_gen-00000.parquet')).toBe(false);
  expect(globToRegExp('data/**/*.parquet').test('data/a/b/c.parquet')).toBe(true);
  expect(globToRegExp('data/**/*.parquet').test('data/c.parquet')).toBe(true);
  expect(globToRegExp('x?.json').test('x1.json')).toBe(true);
});
