// The staging path without network, for side-by-side CPU and memory figures of one change in one
// process: every split of the generated dataset (the Hub stand-in's cache, .data/bench/hub/<key>/data)
// read from disk, through stageSplit (parquet, validation, JSONL blocks, block digests) into a target
// that drops the blocks as an upload would once sent. Prints one JSON line per repetition.
//
//   node .data/bench-dist/bench/staging/local.js --percent 5 [--splits test_sft,...] [--reps 3] [--dir DIR]
//
// A stager built from other sources (cp -r .data/bench-dist .data/bench-before) runs the same way, so
// two versions alternate on the same load: `for v in bench-dist bench-before; do node .data/$v/...; done`.
// The content hash of each split is printed, so the output is seen to be the same bytes.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  byteParquetFiles,
  localByteSource,
  stageSplit,
  type BlockBlobTarget,
  type SplitSource,
} from '../../src/dataset';
import { PROJECT_ROOT } from '../../devstack/stack';

const MB = 1024 * 1024;
const SPLITS = ['train_sft', 'test_sft', 'train_gen', 'test_gen'];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

/** The largest cached dataset (the real-size one) unless --dir says which. */
function dataDir(): string {
  const given = process.argv.includes('--dir') ? arg('dir', '') : '';
  if (given) return given;
  const root = join(PROJECT_ROOT, '.data', 'bench', 'hub');
  const sizes = readdirSync(root).map((key) => {
    const dir = join(root, key, 'data');
    const bytes = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    return { dir, bytes };
  });
  sizes.sort((a, b) => b.bytes - a.bytes);
  if (!sizes[0]) throw new Error(`no generated dataset under ${root}: run npm run bench:staging once`);
  return sizes[0].dir;
}

function splitSource(dir: string, split: string): SplitSource {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${split}-`) && f.endsWith('.parquet'))
    .sort();
  const shards = byteParquetFiles(files.map((f) => localByteSource(join(dir, f))));
  return {
    name: split,
    countIsCheap: true,
    identity: async () => ({ location: split }),
    countRows: () => shards.countRows(),
    read: (from, limit, _signal, opts) =>
      shards.read({
        startRow: from.row,
        limit,
        ...(opts?.textAsBytes ? { textAsBytes: true } : {}),
        ...(opts?.transient ? { transient: true } : {}),
      }),
  };
}

/** Drops each block after a turn of the event loop (an upload's body is held until it is sent). */
const DROP: BlockBlobTarget = {
  stageBlock: () => new Promise((resolve) => setImmediate(resolve)),
  commitBlockList: async () => undefined,
};

async function main(): Promise<void> {
  const percent = Number(arg('percent', '5'));
  const reps = Number(arg('reps', '1'));
  const splits = arg('splits', SPLITS.join(',')).split(',');
  const dir = dataDir();
  for (let rep = 0; rep < reps; rep++) {
    const peak = { rss: 0, heapTotal: 0, external: 0 };
    const sample = (): void => {
      const m = process.memoryUsage();
      peak.rss = Math.max(peak.rss, m.rss);
      peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
      peak.external = Math.max(peak.external, m.external);
    };
    const timer = setInterval(sample, 20);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let bytes = 0;
    const hashes: string[] = [];
    for (const split of splits) {
      const r = await stageSplit({
        source: splitSource(dir, split),
        target: DROP,
        label: split,
        percent,
        maxInvalidFraction: 0.01,
      });
      bytes += r.bytes;
      hashes.push(`${split}:${r.sha256.slice(0, 12)}`);
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(timer);
    sample();
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const mib = (n: number): number => Math.round((n / MB) * 10) / 10;
    process.stdout.write(
      JSON.stringify({
        percent,
        rep,
        mb: Math.round(bytes / 1e5) / 10,
        wallSeconds: Math.round(wall * 100) / 100,
        cpuSeconds: Math.round(cpuSeconds * 100) / 100,
        cpuMsPerMB: Math.round(((cpuSeconds * 1000) / (bytes / 1e6)) * 100) / 100,
        cpuSecondsPerGiB: Math.round((cpuSeconds / (bytes / 2 ** 30)) * 10) / 10,
        peakRssMiB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
        sampled: { rssMiB: mib(peak.rss), heapTotalMiB: mib(peak.heapTotal), externalMiB: mib(peak.external) },
        hashes: hashes.join(' '),
      }) + '\n',
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[local] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
