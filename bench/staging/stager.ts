// The measured process of the staging benchmark (started by stage.ts): it loads only what staging
// needs (src/dataset and the Blob SDK), stages 100% of one Hub split into Azurite with stageSplit,
// and prints one JSON line: the result, the time, and its memory (peak RSS from getrusage, and
// sampled RSS / heap / external). Then it uploads the same JSONL bytes with the SDK's uploadFile,
// for a raw-upload baseline, after the peak has been read.
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT } from '../../src/config/local';
import { hubSplitSource, listSplitFiles, resolveRevision, stageSplit, type StageProgress } from '../../src/dataset';

const MB = 1024 * 1024;
const REPO = 'HuggingFaceH4/ultrachat_200k';

export interface StageReport {
  rows: number;
  sourceRows: number;
  invalid: number;
  jsonlBytes: number;
  blocks: number;
  seconds: number;
  /** getrusage maxrss of this process, from its start to the end of staging. */
  peakRssMb: number;
  sampledPeakRssMb: number;
  sampledPeakHeapMb: number;
  sampledPeakExternalMb: number;
  /** RSS once modules are loaded and the split listed, before the first row is read. */
  baselineRssMb: number;
  /** Peak RSS sampled while the first and the last third of the rows were staged (flat = equal). */
  firstThirdPeakRssMb: number;
  lastThirdPeakRssMb: number;
  rawUploadSeconds: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

async function main(): Promise<void> {
  const split = option('--split', 'train_sft');
  const blockBytes = Number(option('--block-mb', '4')) * MB;
  const concurrency = Number(option('--concurrency', '3'));
  const endpoint = process.env.BENCH_HUB_ENDPOINT as string;
  const benchDir = process.env.BENCH_DIR as string;
  const container = new ContainerClient(
    `${process.env.BENCH_AZURITE_URL as string}/bench-${Date.now()}`,
    new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key),
  );
  await container.createIfNotExists();
  const revision = await resolveRevision({ endpoint }, REPO, 'main');
  const files = await listSplitFiles({ endpoint }, REPO, revision, split);
  const source = hubSplitSource(REPO, revision, split, files);
  const total = await source.countRows();

  const baselineRssMb = process.memoryUsage().rss / MB;
  const progress: StageProgress = { rowsRead: 0, rowsWritten: 0, bytes: 0 };
  const peaks = { rss: 0, heap: 0, external: 0, firstThird: 0, lastThird: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peaks.rss = Math.max(peaks.rss, m.rss);
    peaks.heap = Math.max(peaks.heap, m.heapUsed);
    peaks.external = Math.max(peaks.external, m.external + m.arrayBuffers);
    if (progress.rowsRead < total / 3) peaks.firstThird = Math.max(peaks.firstThird, m.rss);
    if (progress.rowsRead >= (2 * total) / 3) peaks.lastThird = Math.max(peaks.lastThird, m.rss);
  };
  const timer = setInterval(sample, 25);
  let lastLog = Date.now();
  const blob = container.getBlockBlobClient(`staged/${split}.jsonl`);
  const t0 = Date.now();
  const result = await stageSplit({
    source,
    target: blob,
    label: `${REPO} ${split}[0%:100%]`,
    percent: 100,
    maxInvalidFraction: 0.01,
    total,
    blockBytes,
    concurrency,
    progress,
    onCheckpoint: () => {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        process.stderr.write(`[bench] staging: ${progress.rowsRead} of ${total} rows, ${(progress.bytes / MB).toFixed(0)} MB, rss ${(process.memoryUsage().rss / MB).toFixed(0)} MB\n`);
      }
    },
  });
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(timer);
  sample();
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  // the raw upload of the same bytes: the staged blob copied to a file, then uploaded as it is
  const file = join(benchDir, 'staged.jsonl');
  const download = await blob.download();
  await pipeline(download.readableStreamBody as NodeJS.ReadableStream, createWriteStream(file));
  const t1 = Date.now();
  await container.getBlockBlobClient(`raw/${split}.jsonl`).uploadFile(file, { blockSize: blockBytes, concurrency });
  const rawUploadSeconds = (Date.now() - t1) / 1000;
  rmSync(file, { force: true });
  await container.deleteIfExists();

  const report: StageReport = {
    rows: result.rows,
    sourceRows: result.sourceRows,
    invalid: result.invalid.invalid,
    jsonlBytes: result.bytes,
    blocks: result.blocks,
    seconds,
    peakRssMb,
    sampledPeakRssMb: peaks.rss / MB,
    sampledPeakHeapMb: peaks.heap / MB,
    sampledPeakExternalMb: peaks.external / MB,
    baselineRssMb,
    firstThirdPeakRssMb: peaks.firstThird / MB,
    lastThirdPeakRssMb: peaks.lastThird / MB,
    rawUploadSeconds,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[bench] staging failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
