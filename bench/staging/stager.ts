// The measured process of the staging bench (started by main.ts, one process per repetition, so its
// peak RSS is the staging code's own). Two modes, on the same Azurite, same block size and
// concurrency:
//   stage  every split of the Hub stand-in's dataset, `--percent` of each (the notebook's first rows),
//          through the real staging path: Hub parquet over HTTP ranges -> rows -> validation ->
//          JSONL blocks -> stageBlock/commit (stageSplit, as the stageDataset activity calls it);
//   raw    the JSONL files given with `--files` uploaded as they are (the SDK's uploadFile): the
//          upload-only baseline for the same bytes.
// Prints one JSON line (StagerReport) and exits.
import { join } from 'node:path';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT } from '../../src/config/local';
import {
  hubSplitSource,
  listSplitFiles,
  resolveRevision,
  stageSplit,
  type BlockBlobTarget,
  type SplitSource,
  type StageProgress,
} from '../../src/dataset';

const MB = 1024 * 1024;
const REPO = 'HuggingFaceH4/ultrachat_200k';

export interface SplitFigures {
  split: string;
  rows: number;
  sourceRows: number;
  invalid: number;
  bytes: number;
  blocks: number;
  seconds: number;
  blobPath: string;
  /** Staging only: when each step of the split's start was reached, ms from the split's start. */
  phases?: SplitPhases;
}

/**
 * A staged split's start, in ms from its start: rows counted (all shards' footers read), first rows read
 * (the first row group fetched and decoded), first block handed to the upload (filled), first block
 * staged (its Put Block answered); and the end (block list committed). `steadyMBps` is the rate of the
 * blocks after the fifth (splits of more than eight blocks): the split's speed once the pipeline is full.
 */
export interface SplitPhases {
  countedMs?: number;
  firstRowsMs: number;
  firstBlockSentMs: number;
  firstBlockStagedMs: number;
  endMs: number;
  steadyMBps?: number;
}

/** Times the steps of one split's staging by wrapping its source and target (stageSplit is not changed). */
function splitClock(source: SplitSource, target: BlockBlobTarget) {
  const t0 = performance.now();
  const at = (): number => Math.round(performance.now() - t0);
  let firstRowsMs: number | undefined;
  let firstBlockSentMs: number | undefined;
  let countedMs: number | undefined;
  const staged: { ms: number; bytes: number }[] = [];
  const timedSource: SplitSource = {
    ...source,
    async *read(from, limit, signal, opts) {
      for await (const batch of source.read(from, limit, signal, opts)) {
        firstRowsMs ??= at();
        yield batch;
      }
    },
  };
  const timedTarget: BlockBlobTarget = {
    stageBlock(id, body, length, options) {
      firstBlockSentMs ??= at();
      return target.stageBlock(id, body, length, options);
    },
    commitBlockList: (blocks, options) => target.commitBlockList(blocks, options),
  };
  return {
    source: timedSource,
    target: timedTarget,
    counted(): void {
      countedMs = at();
    },
    checkpoint(bytes: number): void {
      staged.push({ ms: performance.now() - t0, bytes });
    },
    phases(): SplitPhases {
      const endMs = at();
      const from = staged[4];
      const last = staged[staged.length - 1];
      return {
        ...(countedMs !== undefined ? { countedMs } : {}),
        firstRowsMs: firstRowsMs ?? endMs,
        firstBlockSentMs: firstBlockSentMs ?? endMs,
        firstBlockStagedMs: Math.round(staged[0]?.ms ?? endMs),
        endMs,
        ...(staged.length > 8
          ? { steadyMBps: Math.round(((last.bytes - from.bytes) / MB / ((last.ms - from.ms) / 1000)) * 10) / 10 }
          : {}),
      };
    },
  };
}

export interface StagerReport {
  mode: 'stage' | 'raw';
  percent: number;
  seconds: number;
  bytes: number;
  splits: SplitFigures[];
  /** getrusage maxrss of this process at the end (staging or uploading included). */
  peakRssMiB: number;
  /** RSS once modules are loaded, before the first byte is read. */
  baselineRssMiB: number;
  /** CPU seconds of this process (user + system) during the timed part. */
  cpuSeconds: number;
  /** Highest values sampled every 50 ms (process.memoryUsage): where the memory is. */
  sampled: { rssMiB: number; heapTotalMiB: number; heapUsedMiB: number; externalMiB: number; arrayBuffersMiB: number };
}

/** Peaks of process.memoryUsage(), sampled on a timer. */
function memorySampler(): { stop(): StagerReport['sampled'] } {
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    for (const key of Object.keys(peak) as (keyof typeof peak)[]) peak[key] = Math.max(peak[key], m[key]);
  };
  const timer = setInterval(sample, 50);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const mib = (n: number): number => Math.round((n / MB) * 10) / 10;
      return {
        rssMiB: mib(peak.rss),
        heapTotalMiB: mib(peak.heapTotal),
        heapUsedMiB: mib(peak.heapUsed),
        externalMiB: mib(peak.external),
        arrayBuffersMiB: mib(peak.arrayBuffers),
      };
    },
  };
}

function option(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : process.argv[i + 1];
  if (value === undefined) throw new Error(`stager: --${name} is required`);
  return value;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function stage(
  container: ContainerClient,
  splits: string[],
  percent: number,
  blockBytes: number,
  concurrency: number,
): Promise<SplitFigures[]> {
  const endpoint = option('hub');
  const revision = await resolveRevision({ endpoint }, REPO, 'main');
  const out: SplitFigures[] = [];
  for (const split of splits) {
    const files = await listSplitFiles({ endpoint }, REPO, revision, split);
    const progress: StageProgress = { rowsRead: 0, rowsWritten: 0, bytes: 0 };
    const blobPath = `staged/${split}.jsonl`;
    const t0 = performance.now();
    const clock = splitClock(hubSplitSource(REPO, revision, split, files), container.getBlockBlobClient(blobPath));
    const r = await stageSplit({
      source: clock.source,
      target: clock.target,
      onTotal: () => clock.counted(),
      onCheckpoint: (checkpoint) => clock.checkpoint(checkpoint.bytes),
      label: `${REPO} ${split}[:${percent}%]`,
      percent,
      maxInvalidFraction: 0.01,
      blockBytes,
      concurrency,
      progress,
    });
    out.push({
      split,
      rows: r.rows,
      sourceRows: r.sourceRows,
      invalid: r.invalid.invalid,
      bytes: r.bytes,
      blocks: r.blocks,
      seconds: (performance.now() - t0) / 1000,
      blobPath,
      phases: clock.phases(),
    });
  }
  return out;
}

async function raw(
  container: ContainerClient,
  files: string[],
  blockBytes: number,
  concurrency: number,
): Promise<SplitFigures[]> {
  const out: SplitFigures[] = [];
  for (const file of files) {
    const split = file.slice(file.lastIndexOf('/') + 1).replace(/\.jsonl$/, '');
    const blobPath = `raw/${split}.jsonl`;
    const blob = container.getBlockBlobClient(blobPath);
    const t0 = performance.now();
    // The SDK's default sends a file of up to 256 MiB as one Put Blob; `--raw-upload blocks` makes it use
    // blocks of the same size as staging's whatever the file's size.
    const blocksOnly = process.argv.includes('--raw-upload') && option('raw-upload') === 'blocks';
    await blob.uploadFile(file, {
      blockSize: blockBytes,
      concurrency,
      ...(blocksOnly ? { maxSingleShotSize: 0 } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    const props = await blob.getProperties();
    out.push({
      split,
      rows: 0,
      sourceRows: 0,
      invalid: 0,
      bytes: props.contentLength ?? 0,
      blocks: Math.ceil((props.contentLength ?? 0) / blockBytes),
      seconds,
      blobPath,
    });
  }
  return out;
}

async function main(): Promise<void> {
  const mode = option('mode');
  if (mode !== 'stage' && mode !== 'raw') throw new Error(`stager: --mode stage|raw, got ${mode}`);
  const blockBytes = Number(option('block-mb')) * MB;
  const concurrency = Number(option('concurrency'));
  const container = new ContainerClient(
    join(option('azurite'), option('container')),
    new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key),
  );
  await container.createIfNotExists();
  const baselineRssMiB = process.memoryUsage().rss / MB;
  const cpu0 = cpuSeconds();
  const memory = memorySampler();
  const t0 = performance.now();
  const percent = mode === 'stage' ? Number(option('percent')) : 100;
  const splits =
    mode === 'stage'
      ? await stage(container, option('splits').split(','), percent, blockBytes, concurrency)
      : await raw(container, option('files').split(','), blockBytes, concurrency);
  const seconds = (performance.now() - t0) / 1000;
  const sampled = memory.stop();
  const report: StagerReport = {
    mode,
    percent,
    seconds,
    bytes: splits.reduce((s, x) => s + x.bytes, 0),
    splits,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baselineRssMiB,
    cpuSeconds: cpuSeconds() - cpu0,
    sampled,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[stager] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
