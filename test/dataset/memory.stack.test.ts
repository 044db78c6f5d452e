// Reading a large generated split streams: retained heap stays small whatever the split size.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { DEFAULT_REPO_ID, clearHubRepoCache, hubInvalidRows, prepareHubRepo } from '../../devstack/emulator/hub';
import {
  ValidationTally,
  countRows,
  listSplitFiles,
  readRows,
  toJsonLine,
  validateChatRow,
  type ReadStats,
} from '../../src/dataset';
import { startHub, type RunningHub } from './hubServer';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const ROWS = 50_000;
const OPTS = { rowsPerSplit: { train_sft: ROWS, test_sft: 10, train_gen: 10, test_gen: 10 } };

/** Every file under `root` with its inode and modification time. */
async function filesIn(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const s = await stat(file, { bigint: true });
    out.set(file, `${s.ino}:${s.mtimeNs}`);
  }
  return out;
}

describe('streaming memory', () => {
  let dir: string;
  let hub: RunningHub;
  let generateMs = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftflow-hubcache-'));
    const t0 = Date.now();
    await prepareHubRepo({ ...OPTS, cacheDir: dir });
    generateMs = Date.now() - t0;
    hub = await startHub({ ...OPTS, cacheDir: dir });
  });

  afterAll(async () => {
    await hub.close();
    clearHubRepoCache();
    await rm(dir, { recursive: true, force: true });
  });

  test('the generated shards are cached on disk and reused by a fresh build', async () => {
    const first = await prepareHubRepo({ ...OPTS, cacheDir: dir });
    const written = await filesIn(dir);
    clearHubRepoCache();
    const t0 = Date.now();
    const again = await prepareHubRepo({ ...OPTS, cacheDir: dir });
    const reuseMs = Date.now() - t0;
    expect(again).toEqual(first);
    // Reused, not generated again: the same files, none rewritten (read from the disk, not the clock).
    expect(written.size).toBeGreaterThan(0);
    expect(await filesIn(dir)).toEqual(written);
    console.log(
      `hub generation of ${ROWS} train_sft rows: ${generateMs} ms (under jest); reuse from cacheDir: ${reuseMs} ms`,
    );
  });

  test(`reading all ${ROWS} rows keeps retained heap growth small`, async () => {
    const files = await listSplitFiles({ endpoint: hub.endpoint }, DEFAULT_REPO_ID, 'main', 'train_sft');
    const splitBytes = files.reduce((s, f) => s + f.size, 0);
    expect(await countRows(files)).toBe(ROWS);

    const stats: ReadStats = { requests: 0, bytesFetched: 0 };
    const tally = new ValidationTally('train_sft');
    let jsonlBytes = 0;
    let batches = 0;
    let maxRetained = 0;
    let peakHeap = 0;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    for await (const batch of readRows(files, { stats })) {
      batch.rows.forEach((row, i) => {
        const result = validateChatRow(row);
        tally.record(batch.startRow + i, result);
        if (result.ok) jsonlBytes += Buffer.byteLength(toJsonLine(result.row)) + 1;
      });
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - baseline);
      if (++batches % 20 === 0) {
        gc();
        maxRetained = Math.max(maxRetained, process.memoryUsage().heapUsed - baseline);
      }
    }
    const seconds = (Date.now() - t0) / 1000;
    gc();
    const after = process.memoryUsage().heapUsed - baseline;

    expect(tally.totalRows).toBe(ROWS);
    expect(tally.invalidRows).toBe(hubInvalidRows('train_sft', OPTS).length);
    expect(tally.invalidRows).toBe(250);
    expect(() => tally.check(0.01)).not.toThrow();
    expect(stats.bytesFetched).toBeLessThan(splitBytes * 1.1);

    console.log(
      `read ${ROWS} rows (${batches} row groups) from ${(splitBytes / MB).toFixed(1)} MB of parquet in ${seconds.toFixed(1)} s ` +
        `(${stats.requests} range requests, ${(stats.bytesFetched / MB).toFixed(1)} MB fetched); ` +
        `JSONL produced ${(jsonlBytes / MB).toFixed(1)} MB; retained heap growth max ${(maxRetained / MB).toFixed(1)} MB ` +
        `(after ${(after / MB).toFixed(1)} MB), peak heap growth incl. garbage ${(peakHeap / MB).toFixed(1)} MB`,
    );
    // generous bound: the split is ~45 MB of parquet and ~100 MB of JSONL; one row group is ~1 MB
    expect(maxRetained).toBeLessThan(24 * MB);
    expect(jsonlBytes).toBeGreaterThan(splitBytes);
  });
});
