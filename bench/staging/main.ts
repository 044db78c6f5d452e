// Bench: dataset staging throughput and memory (issue 8, item 2). `npm run bench:staging [-- options]`
//
// Stages 5% and 100% of every split of a generated ultrachat_200k-shaped dataset of the real size
// (about 1.6 GB of parquet, served by the Hub stand-in) into Azurite through the real staging path,
// and uploads the same JSONL bytes raw to the same Azurite in the same run, repetitions interleaved
// (stage, raw, stage, raw, ...) so that both see the same machine load. Reports JSONL MB/s of each,
// their ratio (target >= 0.8), and the stager's peak RSS (target <= 256 MiB at 100%), with the CPU
// used by the stager, Azurite and the Hub stand-in.
//
// Options: --smoke              tiny dataset, 100% only, one repetition; nothing saved
//          --levels 5,100       percents to stage
//          --reps N             repetitions of each mode per level (default 2)
//          --block-mb N         block size (default 4)   --concurrency N   uploads at once (default 3)
//          --baseline FILE      a stager.js compiled from other sources (e.g. main before a change):
//                               staged too in every repetition (stage, baseline, raw), so a change is
//                               measured side by side under the same load
//          --raw-upload sdk|blocks  the raw upload as the SDK's uploadFile does it (default: a file of up
//                               to 256 MiB in one Put Blob) or in blocks of --block-mb whatever its size
// Environment: BENCH_STAGER_NODE_ARGS  node options for the stager processes (e.g. --cpu-prof)
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import {
  describeMachine,
  formatTable,
  listArg,
  median,
  numberArg,
  parseBenchArgs,
  ProcSampler,
  reportResult,
  runBench,
  type ProcSummary,
} from '../common';
import { AZURITE_ACCOUNT } from '../../src/config/local';
import { DEFAULT_BLOCK_BYTES } from '../../src/dataset/blocks';
import { FULL_SIZE_HUB_OPTIONS, SPLITS, type HubEmulatorOptions } from '../../devstack/emulator/hub';
import { localWorkerProcessEnv, PROJECT_ROOT, startStack } from '../../devstack/stack';
import { runJsonChild } from './child';
import type { HubInfo } from './hub';
import type { SplitFigures, SplitPhases, StagerReport } from './stager';

const MB = 1024 * 1024;
const BENCH_DIR = join(PROJECT_ROOT, '.data', 'bench');
const TARGET_RATIO = 0.8;
/** Extra node options for the stager processes, e.g. BENCH_STAGER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them. */
const STAGER_NODE_ARGS = (process.env.BENCH_STAGER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
/** The stager's and the raw uploader's process environment: the worker's. */
const STAGER_ENV = localWorkerProcessEnv();
const TARGET_PEAK_RSS_MIB = 256;
/** The smoke dataset: a few MB, so `make test` stays quick. */
const SMOKE_ROWS = { train_sft: 600, test_sft: 100, train_gen: 600, test_gen: 100 };

/** Rounds to `digits` decimals (0 for a missing figure). */
function fixed(value: number | undefined, digits = 2): number {
  if (value === undefined || !Number.isFinite(value)) return 0;
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

function log(line: string): void {
  process.stderr.write(`[bench:staging] ${line}\n`);
}

type Mode = 'stage' | 'baseline' | 'raw';

interface Rep {
  mode: Mode;
  report: StagerReport;
  mbps: number;
  cpu: { stager: ProcSummary; azurite?: ProcSummary; hub?: ProcSummary };
}

interface LevelResult {
  percent: number;
  jsonlBytes: number;
  rows: number;
  blocks: number;
  stageMbps: number[];
  rawMbps: number[];
  /** median staging MB/s / median raw MB/s */
  ratio: number;
  /** each staging repetition over the raw upload that followed it */
  pairRatios: number[];
  peakRssMiB: number;
  /** Where the stager's memory was: each staging repetition's peak RSS, and the highest of the rest over them. */
  memory: StagerMemory;
  /** With --baseline: the same figures for the baseline stager. */
  baseline?: {
    stageMbps: number[];
    ratio: number;
    pairRatios: number[];
    peakRssMiB: number;
    memory: StagerMemory;
    cpuSecondsPerGiB: number;
  };
  cpuSecondsPerGiB: {
    stage: { stager: number; azurite: number; hub: number };
    raw: { stager: number; azurite: number };
  };
  /**
   * Each split, medians over the repetitions: its seconds staged and uploaded raw, and when staging reached
   * each step of its start (SplitPhases): where a small slice's time goes.
   */
  splits: SplitSummary[];
}

interface SplitSummary extends Partial<SplitPhases> {
  split: string;
  mb: number;
  stageSeconds: number;
  rawSeconds: number;
}

function splitSummaries(stages: Rep[], raws: Rep[]): SplitSummary[] {
  return stages[0].report.splits.map(({ split, bytes }) => {
    const of = (list: Rep[]): SplitFigures[] => list.flatMap((r) => r.report.splits.filter((s) => s.split === split));
    const med = (list: SplitFigures[], pick: (s: SplitFigures) => number | undefined): number | undefined => {
      const values = list.map(pick).filter((v): v is number => v !== undefined);
      return values.length ? median(values) : undefined;
    };
    const staged = of(stages);
    const phase = (key: keyof SplitPhases): Partial<SplitPhases> => {
      const value = med(staged, (s) => s.phases?.[key]);
      return value === undefined ? {} : { [key]: fixed(value, 1) };
    };
    return {
      split,
      mb: fixed(bytes / MB, 1),
      stageSeconds: fixed(med(staged, (s) => s.seconds) ?? 0, 3),
      rawSeconds: fixed(med(of(raws), (s) => s.seconds) ?? 0, 3),
      ...phase('countedMs'),
      ...phase('firstRowsMs'),
      ...phase('firstBlockSentMs'),
      ...phase('firstBlockStagedMs'),
      ...phase('endMs'),
      ...phase('steadyMBps'),
    };
  });
}

/** One split of a repetition, for the log. */
function describeSplit(s: SplitFigures): string {
  const p = s.phases;
  const start = p
    ? ` (counted ${p.countedMs ?? '-'}, rows ${p.firstRowsMs}, block sent ${p.firstBlockSentMs}, staged ${p.firstBlockStagedMs}, end ${p.endMs} ms${p.steadyMBps ? `; steady ${p.steadyMBps} MB/s` : ''})`
    : '';
  return `${s.split} ${(s.bytes / MB).toFixed(0)} MB ${s.seconds.toFixed(2)} s${start}`;
}

interface StagerMemory {
  peakRssMiB: number[];
  /** RSS once the stager's modules are loaded, before the first byte (the process's own, not staging's). */
  baselineRssMiB: number;
  /** Highest V8 heap (committed) and external memory sampled every 50 ms. */
  heapTotalMiB: number;
  externalMiB: number;
}

function stagerMemory(list: Rep[]): StagerMemory {
  const max = (pick: (r: Rep) => number | undefined): number => fixed(Math.max(...list.map((r) => pick(r) ?? 0)), 1);
  return {
    peakRssMiB: list.map((r) => fixed(r.report.peakRssMiB, 1)),
    baselineRssMiB: max((r) => r.report.baselineRssMiB),
    heapTotalMiB: max((r) => r.report.sampled?.heapTotalMiB),
    externalMiB: max((r) => r.report.sampled?.externalMiB),
  };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'levels',
    'reps',
    'block-mb',
    'concurrency',
    'baseline',
    'raw-upload',
  ]);
  const rawUpload = args.values.get('raw-upload') ?? 'sdk';
  if (rawUpload !== 'sdk' && rawUpload !== 'blocks') throw new Error(`--raw-upload sdk|blocks, got ${rawUpload}`);
  const baselineStager = args.values.get('baseline');
  const smoke = args.smoke;
  const levels = listArg(args, 'levels', smoke ? [100] : [5, 100]);
  const reps = numberArg(args, 'reps', smoke ? 1 : 2);
  const blockMb = numberArg(args, 'block-mb', DEFAULT_BLOCK_BYTES / MB);
  const concurrency = numberArg(args, 'concurrency', 3);
  if (!process.env.NODE_EXTRA_CA_CERTS)
    throw new Error('set NODE_EXTRA_CA_CERTS=$PWD/.data/certs/ca.pem (Azurite runs over HTTPS with the project CA)');

  const hubOptions: HubEmulatorOptions = {
    ...(smoke ? { rowsPerSplit: SMOKE_ROWS, contentScale: 1 } : FULL_SIZE_HUB_OPTIONS),
    cacheDir: join(BENCH_DIR, 'hub'),
  };
  log(
    `hub stand-in: ${smoke ? 'smoke dataset' : 'ultrachat_200k row counts (generated once into .data/bench/hub, takes about 1.5 min)'}`,
  );
  // The Hub is a remote server for a real worker: its stand-in runs in a session of its own, like
  // Azurite, so the scheduler does not charge its CPU to the stager's share (bench/README.md, section 2).
  const hub = runJsonChild<HubInfo>(join(__dirname, 'hub.js'), [JSON.stringify(hubOptions)], [], { ownSession: true });
  const runDir = join(BENCH_DIR, `staging-${process.pid}`);
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  try {
    const hubInfo = await hub.result;
    const parquetBytes = hubInfo.files.reduce((s, f) => s + f.size, 0);
    log(
      `hub ready: ${(parquetBytes / MB).toFixed(0)} MB of parquet, ${hubInfo.generated ? 'generated' : 'from the cache'} in ${hubInfo.prepareSeconds.toFixed(1)} s`,
    );

    stack = await startStack({
      dataDir: join(runDir, 'stack'),
      components: ['azurite'],
      ports: { azurite: 0 },
      stackFile: false,
      handleSignals: true,
      log,
    });
    const azuriteUrl = stack.urls.azuriteBlob as string;
    const azuritePid = stack.processes.find((p) => p.name === 'azurite')?.pid;
    const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key);
    let containers = 0;

    const runRep = async (
      mode: Mode,
      percent: number,
      files: string[],
    ): Promise<{ rep: Rep; container: ContainerClient }> => {
      const name = `bench-${++containers}-${mode}`;
      const stagerArgs = [
        '--mode',
        mode === 'raw' ? 'raw' : 'stage',
        '--percent',
        String(percent),
        '--azurite',
        azuriteUrl,
        '--container',
        name,
        '--block-mb',
        String(blockMb),
        '--concurrency',
        String(concurrency),
      ];
      stagerArgs.push(
        ...(mode !== 'raw'
          ? ['--hub', hubInfo.endpoint, '--splits', SPLITS.join(',')]
          : ['--files', files.join(','), '--raw-upload', rawUpload]),
      );
      // The worker's process environment (malloc and V8 settings, jemalloc preloaded: as the image, compose and
      // the stacks start it).
      const stager = runJsonChild<StagerReport>(
        mode === 'baseline' && baselineStager ? baselineStager : join(__dirname, 'stager.js'),
        stagerArgs,
        STAGER_NODE_ARGS,
        { env: STAGER_ENV },
      );
      const samplers = {
        stager: new ProcSampler(stager.pid, 250, 5),
        ...(azuritePid ? { azurite: new ProcSampler(azuritePid, 250, 5) } : {}),
        ...(mode !== 'raw' ? { hub: new ProcSampler(hub.pid, 250, 5) } : {}),
      };
      const report = await stager.result;
      const cpu = {
        stager: samplers.stager.stop(),
        ...(samplers.azurite ? { azurite: samplers.azurite.stop() } : {}),
        ...(samplers.hub ? { hub: samplers.hub.stop() } : {}),
      };
      const mbps = report.bytes / MB / report.seconds;
      log(
        `${mode.padEnd(8)} ${String(percent).padStart(3)}%: ${(report.bytes / MB).toFixed(0)} MB JSONL in ${report.seconds.toFixed(1)} s = ${mbps.toFixed(1)} MB/s, peak RSS ${report.peakRssMiB.toFixed(0)} MiB (sampled: heap ${report.sampled?.heapTotalMiB ?? '?'}, external ${report.sampled?.externalMiB ?? '?'} MiB), CPU stager ${report.cpuSeconds.toFixed(1)} s, azurite ${cpu.azurite?.cpuSeconds ?? '?'} s${cpu.hub ? `, hub ${cpu.hub.cpuSeconds} s` : ''}`,
      );
      log(`         ${report.splits.map(describeSplit).join('; ')}`);
      return { rep: { mode, report, mbps, cpu }, container: new ContainerClient(`${azuriteUrl}/${name}`, credential) };
    };

    const results: LevelResult[] = [];
    for (const percent of levels) {
      const jsonlDir = join(runDir, `jsonl-${percent}`);
      mkdirSync(jsonlDir, { recursive: true });
      const done: Rep[] = [];
      let files: string[] = [];
      for (let r = 0; r < reps; r++) {
        const staged = await runRep('stage', percent, files);
        done.push(staged.rep);
        if (r === 0) {
          // the raw baseline uploads exactly the bytes staging produced
          files = [];
          for (const s of staged.rep.report.splits) {
            const file = join(jsonlDir, `${s.split}.jsonl`);
            const body = (await staged.container.getBlobClient(s.blobPath).download())
              .readableStreamBody as NodeJS.ReadableStream;
            await pipeline(body, createWriteStream(file));
            files.push(file);
          }
        }
        await staged.container.deleteIfExists();
        if (baselineStager) {
          const base = await runRep('baseline', percent, files);
          done.push(base.rep);
          await base.container.deleteIfExists();
          if (base.rep.report.bytes !== staged.rep.report.bytes)
            log(`note: the baseline staged ${base.rep.report.bytes} bytes, this code ${staged.rep.report.bytes}`);
        }
        const rawRep = await runRep('raw', percent, files);
        done.push(rawRep.rep);
        await rawRep.container.deleteIfExists();
        if (rawRep.rep.report.bytes !== staged.rep.report.bytes)
          throw new Error(`raw upload has ${rawRep.rep.report.bytes} bytes, staging ${staged.rep.report.bytes}`);
      }
      rmSync(jsonlDir, { recursive: true, force: true });
      const stages = done.filter((d) => d.mode === 'stage');
      const raws = done.filter((d) => d.mode === 'raw');
      const bases = done.filter((d) => d.mode === 'baseline');
      const medianRaw = median(raws.map((s) => s.mbps)) ?? 1;
      const gib = stages[0].report.bytes / 1024 / MB;
      const perGiB = (list: Rep[], pick: (r: Rep) => number | undefined): number =>
        fixed((median(list.map((r) => pick(r) ?? 0)) ?? 0) / gib, 1);
      results.push({
        percent,
        jsonlBytes: stages[0].report.bytes,
        rows: stages[0].report.splits.reduce((s, x) => s + x.rows, 0),
        blocks: stages[0].report.splits.reduce((s, x) => s + x.blocks, 0),
        stageMbps: stages.map((s) => fixed(s.mbps, 1)),
        rawMbps: raws.map((s) => fixed(s.mbps, 1)),
        ratio: fixed((median(stages.map((s) => s.mbps)) ?? 0) / medianRaw, 3),
        pairRatios: stages.map((s, i) => fixed(s.mbps / raws[i].mbps, 3)),
        peakRssMiB: fixed(Math.max(...stages.map((s) => s.report.peakRssMiB)), 1),
        memory: stagerMemory(stages),
        ...(bases.length
          ? {
              baseline: {
                stageMbps: bases.map((s) => fixed(s.mbps, 1)),
                ratio: fixed((median(bases.map((s) => s.mbps)) ?? 0) / medianRaw, 3),
                pairRatios: bases.map((s, i) => fixed(s.mbps / raws[i].mbps, 3)),
                peakRssMiB: fixed(Math.max(...bases.map((s) => s.report.peakRssMiB)), 1),
                memory: stagerMemory(bases),
                cpuSecondsPerGiB: perGiB(bases, (r) => r.report.cpuSeconds),
              },
            }
          : {}),
        cpuSecondsPerGiB: {
          stage: {
            stager: perGiB(stages, (r) => r.report.cpuSeconds),
            azurite: perGiB(stages, (r) => r.cpu.azurite?.cpuSeconds),
            hub: perGiB(stages, (r) => r.cpu.hub?.cpuSeconds),
          },
          raw: {
            stager: perGiB(raws, (r) => r.report.cpuSeconds),
            azurite: perGiB(raws, (r) => r.cpu.azurite?.cpuSeconds),
          },
        },
        splits: splitSummaries(stages, raws),
      });
    }

    const table = formatTable(
      [
        'level',
        'stager',
        'JSONL MB',
        'rows',
        'stage MB/s',
        'raw MB/s',
        'ratio',
        'pairs',
        'peak RSS MiB',
        'CPU s/GiB stager',
        'CPU s/GiB azurite/hub',
        'CPU s/GiB raw client/azurite',
      ],
      results.flatMap((l) => [
        [
          `${l.percent}%`,
          'this',
          Math.round(l.jsonlBytes / MB),
          l.rows,
          l.stageMbps.join(' '),
          l.rawMbps.join(' '),
          l.ratio.toFixed(2),
          l.pairRatios.map((x) => x.toFixed(2)).join(' '),
          l.peakRssMiB.toFixed(0),
          l.cpuSecondsPerGiB.stage.stager,
          `${l.cpuSecondsPerGiB.stage.azurite}/${l.cpuSecondsPerGiB.stage.hub}`,
          `${l.cpuSecondsPerGiB.raw.stager}/${l.cpuSecondsPerGiB.raw.azurite}`,
        ],
        ...(l.baseline
          ? [
              [
                `${l.percent}%`,
                'baseline',
                '',
                '',
                l.baseline.stageMbps.join(' '),
                '',
                l.baseline.ratio.toFixed(2),
                l.baseline.pairRatios.map((x) => x.toFixed(2)).join(' '),
                l.baseline.peakRssMiB.toFixed(0),
                l.baseline.cpuSecondsPerGiB,
                '',
                '',
              ],
            ]
          : []),
      ]),
    );
    process.stdout.write(`${table}\n`);
    const full = results.find((l) => l.percent === 100);
    process.stdout.write(
      `dataset: ${(parquetBytes / MB).toFixed(0)} MB parquet in ${hubInfo.files.length} shards; block ${blockMb} MiB, concurrency ${concurrency}, ${reps} repetition(s) of each mode, interleaved; ${describeMachine()}\n`,
    );
    reportResult('staging', smoke, {
      dataset: {
        parquetBytes,
        shards: hubInfo.files.length,
        generated: hubInfo.generated,
        prepareSeconds: fixed(hubInfo.prepareSeconds, 1),
      },
      // The baseline is named by its content, not by where it sat on this machine.
      config: {
        blockMb,
        concurrency,
        reps,
        rawUpload,
        stagerEnv: {
          ...STAGER_ENV,
          ...(STAGER_ENV.LD_PRELOAD ? { LD_PRELOAD: relative(PROJECT_ROOT, STAGER_ENV.LD_PRELOAD) } : {}),
        },
        ...(STAGER_NODE_ARGS.length ? { stagerNodeArgs: STAGER_NODE_ARGS } : {}),
        ...(baselineStager ? { baseline: describeFile(baselineStager) } : {}),
      },
      levels: results,
      targets: {
        ratio: TARGET_RATIO,
        peakRssMiB: TARGET_PEAK_RSS_MIB,
        ratioMet: results.every((l) => l.ratio >= TARGET_RATIO),
        peakRssMet: full ? full.peakRssMiB <= TARGET_PEAK_RSS_MIB : null,
      },
    });
  } finally {
    await hub.kill();
    await stack?.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

runBench('staging', main);

/** A file recorded in a result: its path when inside the repository, else its name; and its sha256. */
function describeFile(file: string): { file: string; sha256: string } {
  const inside = relative(PROJECT_ROOT, file);
  return {
    file: inside.startsWith('..') || inside.startsWith('/') ? basename(file) : inside,
    sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
  };
}
