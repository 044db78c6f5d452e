// Scale across workers on the production topology: the scale bench's level (N runs at once, jobs long on
// the emulator's clock, everything else quick) run on the self-hosted cluster (PostgreSQL, Temporal's four
// services as separate processes: devstack/cluster) with 1 and then 4 ftflow worker processes on one task
// queue. The workers split the ARM budget (FTFLOW_ARM_BUDGET_SPLIT = the worker count, as compose and
// `make cluster` set it), so together they never exceed what one worker spends. Per worker count: notice
// delay, throughput, wall time, per-worker peak RSS and CPU, ARM reads/s and 429s, endpoints left.
//
//   npm run bench:cluster [-- --runs 1000 --workers 1,4 --job-seconds 240 --timeout-minutes 60]
//   npm run bench:cluster -- --smoke     (3 runs, 1 and 2 workers, fast polling: checks the bench works)
//
// Each worker count gets a fresh cluster (a new PostgreSQL data folder under .data/bench-cluster) on free
// ports, without the UI or the janitor; the emulator's quotas are raised as in bench:scale.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CLUSTER_PORTS, startCluster, type RunningCluster } from '../../devstack/cluster';
import { PROJECT_ROOT } from '../../devstack/stack';
import {
  describeMachine,
  formatTable,
  listArg,
  numberArg,
  parseBenchArgs,
  reportResult,
  round,
  runBench,
  type Cell,
} from '../common';
import { measureLevel, type LevelResult } from '../scale/scale';

const DATA_DIR = path.join(PROJECT_ROOT, '.data', 'bench-cluster');
const SMOKE_TUNING = { FTFLOW_JOB_POLL_SECONDS: '1', FTFLOW_LRO_POLL_MS: '300' };

export interface ClusterBenchOptions {
  runs: number;
  workerCounts: number[];
  jobSeconds: number;
  timeoutMinutes: number;
  smoke: boolean;
  log?: (line: string) => void;
  out?: (text: string) => void;
}

export interface WorkerCountResult {
  workers: number;
  /** Each process's share of ARM reads/s (the default 20/s split N ways). */
  readsPerSecondPerWorker: number;
  clusterStartupSeconds: number;
  /** Completed runs per minute of wall time. */
  runsPerMinute: number | null;
  level: LevelResult;
}

async function clusterFor(workers: number, jobSeconds: number, log: (l: string) => void): Promise<RunningCluster> {
  const dataDir = path.join(DATA_DIR, `${workers}w`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  return startCluster({
    dataDir,
    ports: Object.fromEntries(Object.keys(DEFAULT_CLUSTER_PORTS).map((k) => [k, 0])),
    // The bench starts its own workers on a task queue of its own (measureLevel), to sample their /proc.
    workers: 0,
    ui: false,
    janitorEvery: false,
    emulator: {
      extraArgs: [
        ...['--job-phases', `Running=${jobSeconds * 1000}`],
        ...['--default-vcpu-quota', '1000000', '--regional-vcpu-quota', '1000000', '--max-endpoints', '100000'],
      ],
    },
    handleSignals: true,
    recordFile: false,
    readyTimeoutMs: 180_000,
    log: (line) => log(`cluster: ${line}`),
  });
}

function table(results: WorkerCountResult[]): { headers: string[]; rows: Cell[][] } {
  const figures: [string, (r: WorkerCountResult) => Cell][] = [
    ['runs completed', (r) => r.level.runsCompleted],
    ['runs failed', (r) => r.level.runsFailed],
    ['endpoints left (target 0)', (r) => r.level.endpointsLeft],
    ['jobs created (one per run)', (r) => r.level.jobs],
    ['wall time s', (r) => r.level.wallSeconds],
    ['throughput, runs completed per minute', (r) => r.runsPerMinute],
    ['job submissions spread s', (r) => r.level.jobSubmitSpreadSeconds],
    ['notice delay p50 s', (r) => r.level.noticeDelaySeconds.p50],
    ['notice delay p95 s', (r) => r.level.noticeDelaySeconds.p95],
    ['notice delay max s', (r) => r.level.noticeDelaySeconds.max],
    ['ARM reads/s per worker (budget share)', (r) => r.readsPerSecondPerWorker],
    ['ARM reads/s peak 60 s (all workers; ARM: 25)', (r) => r.level.arm.peakReadsPerSecond60s],
    ['ARM reads/s while >= 90% wait', (r) => r.level.arm.readsPerSecondWhileWaiting],
    ['ARM reads per run', (r) => r.level.arm.readsPerRun],
    ['ARM 429s (target 0)', (r) => r.level.arm.throttled],
    ['activity retries per run', (r) => r.level.activityRetriesPerRun],
    ['peak RSS per worker MiB (each)', (r) => r.level.workers.map((w) => w.peakRssMiB).join(' / ')],
    ['peak RSS, largest worker MiB', (r) => r.level.worker.peakRssMiB],
    [
      '  first worker at its largest memory report: RSS / workflow heap used / main heap used / rest MiB',
      (r) => {
        const m = r.level.memory;
        return m ? `${m.rssMiB} / ${m.workflowHeapUsedMiB ?? 'n/a'} / ${m.mainHeapUsedMiB} / ${m.otherMiB}` : null;
      },
    ],
    [
      'peak RSS, all workers MiB',
      (r) =>
        round(
          r.level.workers.reduce((a, w) => a + w.peakRssMiB, 0),
          0,
        ),
    ],
    ['CPU avg % of a core, all workers', (r) => r.level.worker.avgCpuPercent],
    ['CPU s per run, all workers', (r) => r.level.worker.cpuSecondsPerRun],
    ['history events per run', (r) => r.level.temporal.historyEventsPerRun],
    ['cluster start-up s', (r) => r.clusterStartupSeconds],
  ];
  return {
    headers: ['figure', ...results.map((r) => `${r.workers} worker${r.workers === 1 ? '' : 's'}`)],
    rows: figures.map(([name, get]) => [name, ...results.map(get)]),
  };
}

export async function runClusterBench(opts: ClusterBenchOptions) {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[cluster-bench] ${line}\n`));
  const out = opts.out ?? ((text: string) => process.stdout.write(text));
  const results: WorkerCountResult[] = [];
  for (const workers of opts.workerCounts) {
    log(`${opts.runs} runs on ${workers} worker(s): starting a fresh cluster`);
    const cluster = await clusterFor(workers, opts.jobSeconds, log);
    try {
      const level = await measureLevel(
        {
          temporalAddress: cluster.urls.temporalAddress,
          namespace: cluster.namespace,
          emulatorUrl: cluster.urls.emulator,
          workerEnv: { ...cluster.clientEnv(), NODE_EXTRA_CA_CERTS: cluster.caFile },
          logDir: path.join(DATA_DIR, 'logs'),
        },
        {
          runs: opts.runs,
          workers,
          liveMetrics: true,
          timeoutMs: opts.timeoutMinutes * 60_000,
          log: (l) => log(`${workers} worker(s): ${l}`),
          ...(opts.smoke ? { workerTuning: SMOKE_TUNING } : {}),
        },
      );
      results.push({
        workers,
        readsPerSecondPerWorker: round(20 / workers, 2) ?? 0,
        clusterStartupSeconds: round(cluster.startupMs / 1000, 1) ?? 0,
        runsPerMinute: level.wallSeconds > 0 ? round((level.runsCompleted / level.wallSeconds) * 60, 1) : null,
        level,
      });
      log(
        `${workers} worker(s): ${level.runsCompleted}/${level.runs} completed in ${level.wallSeconds} s; notice p95 ${level.noticeDelaySeconds.p95} s; peak RSS ${level.workers.map((w) => w.peakRssMiB).join('/')} MiB; 429s ${level.arm.throttled}`,
      );
    } finally {
      await cluster.stop();
    }
  }
  const { headers, rows } = table(results);
  out(
    `cluster: ${opts.runs} concurrent runs on the self-hosted cluster (PostgreSQL, four Temporal service processes), ` +
      `by worker processes sharing one ARM budget; job Running phase ${opts.jobSeconds} s` +
      `${opts.smoke ? ' (SMOKE: fast polling, figures not meaningful)' : ''}\n`,
  );
  out(`machine: ${describeMachine()}\n`);
  out(formatTable(headers, rows) + '\n');
  return reportResult(
    'cluster',
    opts.smoke,
    {
      runs: opts.runs,
      jobSeconds: opts.jobSeconds,
      settings: opts.smoke
        ? { ...SMOKE_TUNING, FTFLOW_ARM_BUDGET_SPLIT: 'the worker count' }
        : {
            FTFLOW_JOB_POLL_SECONDS: 'default (40)',
            FTFLOW_ARM_READS_PER_SECOND: 'default (20), split between the workers',
            FTFLOW_ARM_BUDGET_SPLIT: 'the worker count',
          },
      results,
    },
    out,
  );
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['runs', 'workers', 'job-seconds', 'timeout-minutes']);
  await runClusterBench({
    smoke: args.smoke,
    runs: numberArg(args, 'runs', args.smoke ? 3 : 1000),
    workerCounts: listArg(args, 'workers', args.smoke ? [1, 2] : [1, 4]),
    jobSeconds: numberArg(args, 'job-seconds', args.smoke ? 5 : 240),
    timeoutMinutes: numberArg(args, 'timeout-minutes', args.smoke ? 5 : 60),
  });
}

if (require.main === module) runBench('cluster', main);
