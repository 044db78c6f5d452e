// Benchmark: stage 100% of a large generated split (>= 1 GB of parquet) from the Hub stand-in into
// Azurite through the staging code path (stageSplit: parquet row groups over HTTP ranges, validation,
// JSONL, staged blocks, commit), and report peak memory and throughput, next to a raw upload of the
// same JSONL bytes. Not part of `make test`.
//
// Three processes, so that the memory figure is the staging code's own: the Hub stand-in (this file
// with the argument "hub": generates the dataset once into .data/bench/hub, then serves it), Azurite
// (the project's stack launcher), and stager.ts, which loads only src/dataset and the Blob SDK and
// whose peak RSS (getrusage maxrss) is the number reported.
//
//   npx tsc -p bench/staging/tsconfig.json      (compiles to .data/bench/dist)
//   NODE_EXTRA_CA_CERTS=$PWD/.data/certs/ca.pem node .data/bench/dist/bench/staging/stage.js [options]
//
// Options: --rows N        rows of the staged split (default 350000: about 1.05 GB of parquet)
//          --content-scale X  text length per row (default 3.8, ultrachat-like rows)
//          --full          the real ultrachat_200k sizes instead (all four splits, about 1.6 GB in all)
//          --split NAME    the split to stage (default train_sft)
//          --block-mb N    block size (default 4)  --concurrency N  uploads at once (default 3)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fastify from 'fastify';
import { DEFAULT_BLOCK_BYTES } from '../../src/dataset/blocks';
import { FULL_SIZE_HUB_OPTIONS, hubRoutes, prepareHubRepo, type HubEmulatorOptions } from '../../src/emulator/hub';
import { PROJECT_ROOT, startStack } from '../../src/stack';
import type { StageReport } from './stager';

const MB = 1024 * 1024;
const BENCH_DIR = join(PROJECT_ROOT, '.data', 'bench');

interface Args {
  rows: number;
  contentScale: number;
  full: boolean;
  blockMb: number;
  concurrency: number;
  split: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { rows: 350_000, contentScale: 3.8, full: false, blockMb: DEFAULT_BLOCK_BYTES / MB, concurrency: 3, split: 'train_sft' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--rows') args.rows = Number(value());
    else if (flag === '--content-scale') args.contentScale = Number(value());
    else if (flag === '--full') args.full = true;
    else if (flag === '--block-mb') args.blockMb = Number(value());
    else if (flag === '--concurrency') args.concurrency = Number(value());
    else if (flag === '--split') args.split = value();
    else throw new Error(`unknown option ${flag}`);
  }
  return args;
}

function hubOptions(args: Args): HubEmulatorOptions {
  const base: HubEmulatorOptions = args.full
    ? { ...FULL_SIZE_HUB_OPTIONS }
    : { rowsPerSplit: { train_sft: 10, test_sft: 10, train_gen: 10, test_gen: 10, [args.split]: args.rows }, contentScale: args.contentScale };
  return { ...base, cacheDir: join(BENCH_DIR, 'hub') };
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

// ---- child: the Hub stand-in ----

async function hubChild(args: Args): Promise<void> {
  const opts = hubOptions(args);
  const t0 = Date.now();
  const repo = await prepareHubRepo(opts);
  const seconds = (Date.now() - t0) / 1000;
  const app = fastify({});
  await app.register(hubRoutes, { prefix: '/hf', ...opts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const files = repo.files.filter((f) => f.path.startsWith(`data/${args.split}-`));
  process.stdout.write(JSON.stringify({ endpoint: `http://127.0.0.1:${port}/hf`, prepareSeconds: seconds, splitBytes: files.reduce((s, f) => s + f.size, 0), totalBytes: repo.files.reduce((s, f) => s + f.size, 0) }) + '\n');
}

// ---- main ----

function runChild(script: string, argv: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; firstLine: Promise<string> } {
  const role = script === __filename ? argv[0] : 'stager';
  const child = spawn(process.execPath, [script, ...argv], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const firstLine = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(out.slice(0, nl));
    });
    child.on('exit', (code) => reject(new Error(`${role} process exited with code ${code} before reporting`)));
  });
  return { child, firstLine };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const role = argv[0];
  if (role === 'hub') {
    await hubChild(parseArgs(argv.slice(1)));
    return;
  }
  const args = parseArgs(argv);
  if (!process.env.NODE_EXTRA_CA_CERTS) throw new Error('set NODE_EXTRA_CA_CERTS=$PWD/.data/certs/ca.pem (Azurite runs over HTTPS with the project CA)');
  mkdirSync(BENCH_DIR, { recursive: true });

  log(`hub stand-in: ${args.full ? 'full size (real row counts)' : `${args.split} with ${args.rows} rows, content scale ${args.contentScale}`} (cache ${join(BENCH_DIR, 'hub')})`);
  const hub = runChild(__filename, ['hub', ...argv], process.env);
  const hubInfo = JSON.parse(await hub.firstLine) as { endpoint: string; prepareSeconds: number; splitBytes: number; totalBytes: number };
  log(`hub ready in ${hubInfo.prepareSeconds.toFixed(1)} s: ${args.split} is ${(hubInfo.splitBytes / MB).toFixed(0)} MB of parquet (repository ${(hubInfo.totalBytes / MB).toFixed(0)} MB)`);

  const stackDir = join(BENCH_DIR, 'stack');
  rmSync(stackDir, { recursive: true, force: true });
  const stack = await startStack({ dataDir: stackDir, components: ['azurite'], ports: { azurite: 0 }, stackFile: false, log });
  try {
    const stagerArgs = ['--split', args.split, '--block-mb', String(args.blockMb), '--concurrency', String(args.concurrency)];
    const stage = runChild(join(__dirname, 'stager.js'), stagerArgs, { ...process.env, BENCH_HUB_ENDPOINT: hubInfo.endpoint, BENCH_AZURITE_URL: stack.urls.azuriteBlob ?? '', BENCH_DIR });
    const report = JSON.parse(await stage.firstLine) as StageReport;
    const mbps = (bytes: number, s: number): string => `${(bytes / MB / s).toFixed(1)} MB/s`;
    const lines = [
      `split            ${args.split}: ${(hubInfo.splitBytes / MB).toFixed(0)} MB parquet, ${report.sourceRows} rows (${report.invalid} invalid)`,
      `staged           ${report.rows} rows, ${(report.jsonlBytes / MB).toFixed(0)} MB JSONL in ${report.blocks} blocks of ${args.blockMb} MiB (concurrency ${args.concurrency})`,
      `staging time     ${report.seconds.toFixed(1)} s: ${mbps(hubInfo.splitBytes, report.seconds)} parquet in, ${mbps(report.jsonlBytes, report.seconds)} JSONL out, ${Math.round(report.sourceRows / report.seconds)} rows/s`,
      `raw upload       ${report.rawUploadSeconds.toFixed(1)} s for the same ${(report.jsonlBytes / MB).toFixed(0)} MB: ${mbps(report.jsonlBytes, report.rawUploadSeconds)} (uploadFile, same block size and concurrency)`,
      `peak memory      ${report.peakRssMb.toFixed(0)} MB RSS (getrusage maxrss of the staging process; ${report.baselineRssMb.toFixed(0)} MB before the first row)`,
      `  sampled        peak RSS ${report.sampledPeakRssMb.toFixed(0)} MB (first third of the rows ${report.firstThirdPeakRssMb.toFixed(0)} MB, last third ${report.lastThirdPeakRssMb.toFixed(0)} MB), heap ${report.sampledPeakHeapMb.toFixed(0)} MB, external ${report.sampledPeakExternalMb.toFixed(0)} MB`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    const resultFile = join(BENCH_DIR, 'staging-result.json');
    writeFileSync(resultFile, JSON.stringify({ args, hub: hubInfo, report, at: new Date().toISOString() }, null, 2));
    log(`figures saved to ${resultFile}`);
  } finally {
    hub.child.kill('SIGTERM');
    await new Promise((resolve) => (hub.child.exitCode !== null ? resolve(undefined) : hub.child.once('exit', resolve)));
    await stack.stop();
    rmSync(stackDir, { recursive: true, force: true });
  }
}

main().then(
  // the hub role keeps serving until it is killed; the orchestrator exits once everything is stopped
  () => (process.argv[2] === 'hub' ? undefined : process.exit(0)),
  (err: unknown) => {
    process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
