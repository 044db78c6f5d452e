// Scale: 10, 100 and 1,000 concurrent runs on ONE worker process against the emulator, the training
// job long on the emulator's clock (runs spend their time waiting on it, as in reality) and the rest of
// the lifecycle quick. Per level: worker peak RSS and CPU, Temporal actions per run, ARM reads/s at the
// emulator's token bucket and 429s, p50/p95 delay from a job's end to its run noticing, runs completed,
// endpoints left; then how each figure grows from the first level to the last. Not part of `make test`
// (test/bench/smokeScaleOverhead.stack.test.ts runs `--smoke`).
//
//   npm run bench:scale [-- --levels 10,100,1000 --job-seconds 480 --timeout-minutes 60 --live-metrics on,off
//                          --push on,off]
//   npm run bench:scale -- --smoke         (3 runs, short job, fast polling: checks the bench works)
//   --result-file <name>                   write bench/results/<name>.json instead of scale.json
//   --worker shipped,before                each level once per worker variant, side by side: as it ships,
//                                          and with the settings before issue 19 item 3 (OpenTelemetry's
//                                          workflow interceptors in every run, the SDK's heap-derived cache,
//                                          stagings unlimited, glibc's own malloc arena limit, Node's own
//                                          heap limit, glibc's malloc); default-heap: as it ships but Node's
//                                          own heap limit; glibc: as it ships but on glibc's malloc instead of
//                                          set-up's jemalloc; default-semi-space: as it ships but V8's own
//                                          young generation size (no --max-semi-space-size)
//
// `--live-metrics on,off` runs each level twice, side by side: the worker as it ships (live training
// figures on) and with them off (FTFLOW_METRICS_POLL_SECONDS=0), and compares reads per run (ARM and
// MLflow) and history events per run.
//
// `--push on,off` runs each level with push on (an API process receives the emulator's Event Grid job
// events and relays them to the worker, FTFLOW_JOB_PUSH=on) and off (polling only), side by side: notice
// delay, the job reads following costs (Jobs_List pages and Jobs_Get per second), and the deliveries.
//
// Each level gets a fresh stack (Temporal dev server in memory with its metrics endpoint, Azurite in
// memory, the emulator without a state file) and a fresh worker process with the default settings
// (job poll 40 s, ARM budget 20 reads/s) and a prebuilt workflow bundle, as the image runs it; it logs its
// memory breakdown every 10 s (FTFLOW_MEMORY_REPORT_SECONDS) and the table shows the largest. The emulator's vCPU and endpoint quotas are raised so that
// 1,000 deployments fit (as one would ask Azure for): the bench is about the service, not the quota.
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import {
  localWorkerProcessEnv,
  startStack,
  stackEnv,
  pickFreePort,
  PROJECT_ROOT,
  type RunningStack,
} from '../../devstack/stack';
import {
  describeMachine,
  formatTable,
  listArg,
  numberArg,
  wordsArg,
  parseBenchArgs,
  ratio,
  reportResult,
  runBench,
  type Cell,
  type ResultHeader,
} from '../common';
import { measureLevel, type LevelResult, type ScaleTarget } from './scale';
import { pathToFileURL } from 'node:url';
import { DEFAULT_MAX_CACHED_WORKFLOWS, WORKER_PROCESS_ENV } from '../../src/config/workerTuning';

export type LiveMetricsVariant = 'on' | 'off';
export type PushVariant = 'on' | 'off';
/** The worker variants `--worker` takes (variantSettings says what each one is). */
const WORKER_VARIANTS = ['shipped', 'before', 'default-heap', 'glibc', 'default-semi-space'] as const;
export type WorkerVariant = (typeof WORKER_VARIANTS)[number];

/** No settings of its own for any variant: each worker then runs with the bench's common environment. */
function noVariantSettings(): Record<WorkerVariant, Record<string, string>> {
  return Object.fromEntries(WORKER_VARIANTS.map((v) => [v, {}])) as Record<WorkerVariant, Record<string, string>>;
}

/** The shipped worker's NODE_OPTIONS without its young-generation limit (the `default-semi-space` variant). */
const WITHOUT_SEMI_SPACE = WORKER_PROCESS_ENV.NODE_OPTIONS.split(' ')
  .filter((flag) => !flag.startsWith('--max-semi-space-size'))
  .join(' ');

/**
 * The workers' settings per variant. All load a prebuilt bundle, as the image's workers do (bundling at
 * start-up leaves webpack's memory in the worker). `before` is the worker before issue 19 item 3, on the
 * same code: OpenTelemetry's workflow interceptors in every run (tracing stays off, so spans are dropped as
 * they were), and the workflow cache the SDK sizes from the heap limit (its formula for a reused V8
 * context; about 2,300 runs on a 4 GiB heap). `default-heap` is the shipped worker with Node's own heap limit
 * (derived from the machine's memory) instead of WORKER_PROCESS_ENV's `--max-old-space-size`; `glibc` the
 * shipped worker without jemalloc; `default-semi-space` the shipped worker without `--max-semi-space-size`.
 */
async function variantSettings(
  dir: string,
  variants: readonly WorkerVariant[],
): Promise<Record<WorkerVariant, Record<string, string>>> {
  const settings = noVariantSettings();
  // From dist/, as the worker runs the workflows: the bench's own build does not compile src/workflows.
  const { bundleWorkflows } = (await import(
    pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'scripts', 'bundleWorkflows.js')).href
  )) as typeof import('../../src/scripts/bundleWorkflows');
  if (variants.some((v) => v !== 'before')) {
    const bundle = await bundleWorkflows(path.join(dir, 'workflow-bundle.js'));
    settings.shipped = { FTFLOW_WORKFLOW_BUNDLE: bundle.path };
    settings['default-heap'] = { FTFLOW_WORKFLOW_BUNDLE: bundle.path, NODE_OPTIONS: '' };
    // The workers' environment is localWorkerProcessEnv's (jemalloc preloaded when set-up installed it).
    settings.glibc = { FTFLOW_WORKFLOW_BUNDLE: bundle.path, LD_PRELOAD: '' };
    settings['default-semi-space'] = { FTFLOW_WORKFLOW_BUNDLE: bundle.path, NODE_OPTIONS: WITHOUT_SEMI_SPACE };
  }
  if (variants.includes('before')) {
    const bundle = await bundleWorkflows(path.join(dir, 'workflow-bundle-traced.js'), { tracing: true });
    const heapMiB = v8.getHeapStatistics().heap_size_limit / 2 ** 20;
    const sdkDefaultCache = Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10);
    settings.before = {
      FTFLOW_WORKFLOW_BUNDLE: bundle.path,
      FTFLOW_MAX_CACHED_WORKFLOWS: String(sdkDefaultCache),
      // Stagings were not limited, and glibc's malloc kept its own arena limit (8 per core; WORKER_PROCESS_ENV
      // sets 2); no heap limit, no jemalloc.
      FTFLOW_MAX_CONCURRENT_STAGINGS: '1000000',
      MALLOC_ARENA_MAX: String(8 * os.cpus().length),
      NODE_OPTIONS: '',
      LD_PRELOAD: '',
    };
  }
  return settings;
}

export interface ScaleBenchOptions {
  levels: number[];
  /** Each level once per variant, in this order (default: on, the worker's default). */
  liveMetrics?: LiveMetricsVariant[];
  /** Each level once per push variant, in this order (default: off, the worker's default). */
  push?: PushVariant[];
  /** Each level once per worker variant, in this order (default: shipped). */
  workerVariants?: WorkerVariant[];
  /** bench/results/<name>.json (default scale). */
  resultFile?: string;
  /** Running phase of each job on the emulator's clock. */
  jobSeconds: number;
  timeoutMinutes: number;
  smoke: boolean;
  /** Use this stack instead of starting one per level (the smoke test passes the test suite's). */
  target?: Omit<ScaleTarget, 'logDir'>;
  log?: (line: string) => void;
  out?: (text: string) => void;
}

/** Worker settings of a smoke run: poll fast so 3 runs finish in seconds (figures are not meaningful). */
const SMOKE_TUNING = { FTFLOW_JOB_POLL_SECONDS: '1', FTFLOW_LRO_POLL_MS: '300', FTFLOW_MEMORY_REPORT_SECONDS: '1' };

async function levelStack(level: number, jobSeconds: number): Promise<{ stack: RunningStack; target: ScaleTarget }> {
  const metricsPort = await pickFreePort();
  const stack = await startStack({
    dataDir: path.join(PROJECT_ROOT, '.data', 'bench-scale'),
    components: ['temporal', 'azurite', 'emulator'],
    ports: { temporal: 0, temporalUi: 0, azurite: 0, emulator: 0 },
    temporal: { headless: true, inMemory: true, extraArgs: ['--metrics-port', String(metricsPort)] },
    azurite: { inMemory: true },
    emulator: {
      stateFile: false,
      extraArgs: [
        '--job-phases',
        `Running=${jobSeconds * 1000}`,
        '--default-vcpu-quota',
        '1000000',
        '--regional-vcpu-quota',
        '1000000',
        '--max-endpoints',
        '100000',
      ],
    },
    stackFile: false,
    log: (line) => process.stderr.write(`[stack ${level}] ${line}\n`),
  });
  const emulatorUrl = stack.urls.emulator;
  const temporalAddress = stack.urls.temporalAddress;
  if (!emulatorUrl || !temporalAddress) throw new Error('the stack did not report its addresses');
  return {
    stack,
    target: {
      temporalAddress,
      namespace: stack.namespace,
      emulatorUrl,
      workerEnv: stackEnv(stack),
      temporalMetricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      logDir: path.join(stack.dataDir, 'logs'),
    },
  };
}

const columnName = (r: LevelResult, live: boolean, push: boolean): string => {
  const parts = [
    ...(live ? [`live ${r.liveMetrics ? 'on' : 'off'}`] : []),
    ...(push ? [`push ${r.push ? 'on' : 'off'}`] : []),
  ];
  return `${r.runs} runs${parts.length > 0 ? ` (${parts.join(', ')})` : ''}${r.variant ? ` ${r.variant}` : ''}`;
};

const heapPair = (r: LevelResult, which: 'main' | 'workflow'): string | null => {
  const m = r.memory;
  if (!m) return null;
  return which === 'main'
    ? `${m.mainHeapUsedMiB} / ${m.mainHeapTotalMiB}`
    : m.workflowHeapUsedMiB === null
      ? 'n/a'
      : `${m.workflowHeapUsedMiB} / ${m.workflowHeapTotalMiB}`;
};
const numeric = (c: Cell): number | null => (typeof c === 'number' ? c : null);
const cachePair = (r: LevelResult): string | null =>
  r.memory?.cachedWorkflows === undefined ? null : `${r.memory.cachedWorkflows} / ${r.memory.runningActivities}`;

function summaryRows(
  results: LevelResult[],
  variants: { live: boolean; push: boolean },
): { headers: string[]; rows: Cell[][]; grows: boolean } {
  // Growth: the first variant's first level against its last.
  const sameVariant = results.filter(
    (r) =>
      r.liveMetrics === results[0]?.liveMetrics && r.push === results[0]?.push && r.variant === results[0]?.variant,
  );
  const first = sameVariant[0];
  const lastLevel = sameVariant[sameVariant.length - 1];
  const grows = sameVariant.length > 1 && first !== undefined && lastLevel !== undefined;
  const figures: [string, (r: LevelResult) => Cell, boolean][] = [
    ['runs completed', (r) => r.runsCompleted, false],
    ['runs failed', (r) => r.runsFailed, false],
    ['endpoints left (target 0)', (r) => r.endpointsLeft, false],
    ['jobs created', (r) => r.jobs, false],
    ['wall time s', (r) => r.wallSeconds, true],
    ['job submissions spread s', (r) => r.jobSubmitSpreadSeconds, true],
    ['peak runs waiting on a job at once', (r) => r.peakRunsWaitingOnJob, true],
    ['share of run time waiting on the job', (r) => r.waitingShare, false],
    ['worker peak RSS MiB', (r) => r.worker.peakRssMiB, true],
    ['  at the largest memory report: RSS MiB', (r) => r.memory?.rssMiB ?? null, true],
    ['    workflow thread V8 heap used / committed MiB', (r) => heapPair(r, 'workflow'), false],
    ['    main thread V8 heap used / committed MiB', (r) => heapPair(r, 'main'), false],
    ['    external (Buffers) MiB', (r) => r.memory?.externalMiB ?? null, true],
    ['    rest: Rust core, malloc, code MiB', (r) => r.memory?.otherMiB ?? null, true],
    ['    runs cached / activities running', (r) => cachePair(r), false],
    ['worker CPU avg % of a core', (r) => r.worker.avgCpuPercent, true],
    ['worker CPU peak % (10 s window)', (r) => r.worker.peakCpuPercent, true],
    ['worker CPU s per run', (r) => r.worker.cpuSecondsPerRun, true],
    ['history events per run', (r) => r.temporal.historyEventsPerRun, true],
    ['  without workflow-task retries', (r) => r.temporal.historyEventsPerRunWithoutTaskRetries, true],
    ['workflow tasks retried per run', (r) => r.temporal.workflowTaskRetriesPerRun, true],
    ['workflow tasks per run', (r) => r.temporal.workflowTasksPerRun, true],
    ['actions per run (history)', (r) => r.temporal.actionsPerRun.total, true],
    ['actions per run (server metric)', (r) => r.temporal.serverActionsPerRun, true],
    ['  of which heartbeats', (r) => r.temporal.heartbeatActionsPerRun, true],
    ['ARM reads per run', (r) => r.arm.readsPerRun, true],
    ['MLflow reads per run', (r) => r.mlflow.readsPerRun, true],
    ['ARM + MLflow reads per run', (r) => r.readsPerRun, true],
    ['runs with live training figures', (r) => r.liveFigures.runsWithFigures, true],
    ['metrics entries per run', (r) => r.liveFigures.entriesPerRun, true],
    ['ARM reads/s peak 10 s', (r) => r.arm.peakReadsPerSecond10s, true],
    ['ARM reads/s peak 60 s (target <= 25)', (r) => r.arm.peakReadsPerSecond60s, true],
    ['ARM reads/s while >= 90% wait', (r) => r.arm.readsPerSecondWhileWaiting, true],
    ['ARM 429s (target 0)', (r) => r.arm.throttled, false],
    ['job reads per run (list pages + Gets, all)', (r) => r.following.readsPerRun, true],
    ['  of which the job watcher (following)', (r) => r.following.watcherReadsPerRun, true],
    ['following reads/s peak 60 s (target <= 5)', (r) => r.following.watcherPeakReadsPerSecond60s, true],
    ['job reads/s peak 60 s (all)', (r) => r.following.peakReadsPerSecond60s, true],
    ['job reads/s while >= 90% wait', (r) => r.following.readsPerSecondWhileWaiting, true],
    ['events delivered (push)', (r) => r.events?.['delivered'] ?? null, true],
    ['  of which duplicated', (r) => r.events?.['duplicated'] ?? null, false],
    ['  of which late (reordered)', (r) => r.events?.['reordered'] ?? null, false],
    ['  retried', (r) => r.events?.['retried'] ?? null, false],
    ['activity retries per run', (r) => r.activityRetriesPerRun, false],
    ['notice delay p50 s', (r) => r.noticeDelaySeconds.p50, true],
    ['notice delay p95 s (target <= 10 polling, <= 2 push)', (r) => r.noticeDelaySeconds.p95, true],
    ['notice delay max s', (r) => r.noticeDelaySeconds.max, true],
  ];
  const headers = [
    'figure',
    ...results.map((r) => columnName(r, variants.live, variants.push)),
    ...(grows ? [`${lastLevel.runs}/${first.runs}`] : []),
  ];
  const rows = figures.map(([name, get, growing]) => [
    name,
    ...results.map(get),
    ...(grows ? [growing ? ratio(numeric(get(first)), numeric(get(lastLevel))) : ''] : []),
  ]);
  return { headers, rows, grows };
}

/** What the live figures cost at each level run both ways: on − off, per run. */
export interface LiveMetricsCost {
  runs: number;
  /**
   * What the live figures read, per run: the MLflow reads on minus off (all of the poller's reads are
   * MLflow's; collectMetrics makes the same two in both), and that as a share of a run's reads with them off.
   * Exact, where the difference of the totals below also carries the noise of two runs on a shared machine.
   */
  liveReadsPerRun: number | null;
  liveReadsPercent: number | null;
  readsPerRun: { on: number | null; off: number | null; extra: number | null; extraPercent: number | null };
  mlflowReadsPerRun: { on: number | null; off: number | null };
  armReadsPerRun: { on: number | null; off: number | null };
  historyEventsPerRun: { on: number | null; off: number | null };
  historyEventsPerRunWithoutTaskRetries: { on: number | null; off: number | null };
  actionsPerRun: { on: number | null; off: number | null };
  runsWithLiveFigures: { on: number; off: number };
}

function liveMetricsCost(results: LevelResult[]): LiveMetricsCost[] {
  const costs: LiveMetricsCost[] = [];
  for (const on of results.filter((r) => r.liveMetrics)) {
    const off = results.find(
      (r) => !r.liveMetrics && r.runs === on.runs && r.push === on.push && r.variant === on.variant,
    );
    if (!off) continue;
    const extra = on.readsPerRun !== null && off.readsPerRun !== null ? on.readsPerRun - off.readsPerRun : null;
    const live =
      on.mlflow.readsPerRun !== null && off.mlflow.readsPerRun !== null
        ? Math.round((on.mlflow.readsPerRun - off.mlflow.readsPerRun) * 100) / 100
        : null;
    costs.push({
      runs: on.runs,
      liveReadsPerRun: live,
      liveReadsPercent: live !== null && off.readsPerRun ? Math.round((live / off.readsPerRun) * 1000) / 10 : null,
      readsPerRun: {
        on: on.readsPerRun,
        off: off.readsPerRun,
        extra: extra !== null ? Math.round(extra * 100) / 100 : null,
        extraPercent: extra !== null && off.readsPerRun ? Math.round((extra / off.readsPerRun) * 1000) / 10 : null,
      },
      mlflowReadsPerRun: { on: on.mlflow.readsPerRun, off: off.mlflow.readsPerRun },
      armReadsPerRun: { on: on.arm.readsPerRun, off: off.arm.readsPerRun },
      historyEventsPerRun: { on: on.temporal.historyEventsPerRun, off: off.temporal.historyEventsPerRun },
      historyEventsPerRunWithoutTaskRetries: {
        on: on.temporal.historyEventsPerRunWithoutTaskRetries,
        off: off.temporal.historyEventsPerRunWithoutTaskRetries,
      },
      actionsPerRun: { on: on.temporal.actionsPerRun.total, off: off.temporal.actionsPerRun.total },
      runsWithLiveFigures: { on: on.liveFigures.runsWithFigures, off: off.liveFigures.runsWithFigures },
    });
  }
  return costs;
}

function costRows(costs: LiveMetricsCost[]): { headers: string[]; rows: Cell[][] } {
  const headers = ['runs', 'figure', 'live on', 'live off', 'on - off', '(on - off) / off %'];
  const rows: Cell[][] = [];
  for (const c of costs) {
    rows.push([
      c.runs,
      'reads the live figures made per run (MLflow on - off)',
      '',
      '',
      c.liveReadsPerRun,
      c.liveReadsPercent,
    ]);
    rows.push([
      c.runs,
      'ARM + MLflow reads per run',
      c.readsPerRun.on,
      c.readsPerRun.off,
      c.readsPerRun.extra,
      c.readsPerRun.extraPercent,
    ]);
    const diff = (a: number | null, b: number | null) =>
      a !== null && b !== null ? Math.round((a - b) * 100) / 100 : null;
    for (const [name, v] of [
      ['  MLflow reads per run', c.mlflowReadsPerRun],
      ['  ARM reads per run', c.armReadsPerRun],
      ['history events per run', c.historyEventsPerRun],
      ['  without workflow-task retries', c.historyEventsPerRunWithoutTaskRetries],
      ['actions per run (history)', c.actionsPerRun],
    ] as const)
      rows.push([c.runs, name, v.on, v.off, diff(v.on, v.off), '']);
    rows.push([c.runs, 'runs with live figures', c.runsWithLiveFigures.on, c.runsWithLiveFigures.off, '', '']);
  }
  return { headers, rows };
}

/** Push on against off at each level run both ways. */
export interface PushComparison {
  runs: number;
  noticeDelayP50: { on: number | null; off: number | null };
  noticeDelayP95: { on: number | null; off: number | null };
  jobReadsPerRun: { on: number | null; off: number | null };
  followingReadsPerRun: { on: number | null; off: number | null };
  followingReadsPerSecondPeak60s: { on: number | null; off: number | null };
  jobReadsPerSecondPeak60s: { on: number | null; off: number | null };
  armReadsPerSecondPeak60s: { on: number | null; off: number | null };
  throttled: { on: number; off: number };
  endpointsLeft: { on: number; off: number };
}

function pushComparison(results: LevelResult[]): PushComparison[] {
  const out: PushComparison[] = [];
  for (const on of results.filter((r) => r.push)) {
    const off = results.find((r) => !r.push && r.runs === on.runs && r.liveMetrics === on.liveMetrics);
    if (!off) continue;
    const pair = <T>(get: (r: LevelResult) => T) => ({ on: get(on), off: get(off) });
    out.push({
      runs: on.runs,
      noticeDelayP50: pair((r) => r.noticeDelaySeconds.p50),
      noticeDelayP95: pair((r) => r.noticeDelaySeconds.p95),
      jobReadsPerRun: pair((r) => r.following.readsPerRun),
      followingReadsPerRun: pair((r) => r.following.watcherReadsPerRun),
      followingReadsPerSecondPeak60s: pair((r) => r.following.watcherPeakReadsPerSecond60s),
      jobReadsPerSecondPeak60s: pair((r) => r.following.peakReadsPerSecond60s),
      armReadsPerSecondPeak60s: pair((r) => r.arm.peakReadsPerSecond60s),
      throttled: pair((r) => r.arm.throttled),
      endpointsLeft: pair((r) => r.endpointsLeft),
    });
  }
  return out;
}

export type ScaleBenchResult = ResultHeader & {
  /** Push on vs off at each level run both ways (empty otherwise). */
  pushComparison: PushComparison[];
  jobSeconds: number;
  /** Live metrics on vs off at each level run both ways (empty otherwise). */
  liveMetricsCost: LiveMetricsCost[];
  settings: Record<string, string>;
  levels: LevelResult[];
  /** Last level / first level, per figure of the table (null for counts that should not grow). */
  growth: Record<string, Cell> | null;
};

export async function runScaleBench(opts: ScaleBenchOptions): Promise<ScaleBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[scale] ${line}\n`));
  const out = opts.out ?? ((text: string) => process.stdout.write(text));
  const results: LevelResult[] = [];
  const variants = opts.liveMetrics ?? ['on'];
  const pushVariants = opts.push ?? ['off'];
  const workerVariants = opts.workerVariants ?? ['shipped'];
  const compared = workerVariants.length > 1 || workerVariants[0] !== 'shipped';
  // The smoke run keeps bundling at start-up: building bundles would not fit its time.
  const perVariant = opts.smoke
    ? noVariantSettings()
    : await variantSettings(path.join(PROJECT_ROOT, '.data', 'bench-scale'), workerVariants);
  const before = perVariant.before;
  for (const runs of opts.levels)
    for (const variant of variants)
      for (const pushVariant of pushVariants)
        for (const workerVariant of workerVariants) {
          log(
            `level ${runs}, live metrics ${variant}, push ${pushVariant}${compared ? `, worker ${workerVariant}` : ''}: starting (job Running phase ${opts.jobSeconds} s on the emulator's clock)`,
          );
          const own = opts.target ? undefined : await levelStack(runs, opts.jobSeconds);
          const target: ScaleTarget = own?.target ?? {
            ...(opts.target as Omit<ScaleTarget, 'logDir'>),
            logDir: path.join(PROJECT_ROOT, '.data', 'bench-scale', 'logs'),
          };
          try {
            const r = await measureLevel(target, {
              runs,
              liveMetrics: variant === 'on',
              push: pushVariant === 'on',
              timeoutMs: opts.timeoutMinutes * 60_000,
              log: (l) => log(`level ${runs}: ${l}`),
              workerTuning: { ...(opts.smoke ? SMOKE_TUNING : {}), ...perVariant[workerVariant] },
              ...(compared ? { variant: workerVariant } : {}),
            });
            results.push(r);
            log(
              `level ${runs}: ${r.runsCompleted}/${r.runs} completed in ${r.wallSeconds} s; delay p50/p95 ${r.noticeDelaySeconds.p50}/${r.noticeDelaySeconds.p95} s; reads/s peak 60 s ${r.arm.peakReadsPerSecond60s} (jobs ${r.following.peakReadsPerSecond60s}); 429s ${r.arm.throttled}`,
            );
          } finally {
            await own?.stack.stop();
          }
        }
  const { headers, rows, grows } = summaryRows(results, { live: variants.length > 1, push: pushVariants.length > 1 });
  const costs = liveMetricsCost(results);
  const pushed = pushComparison(results);
  out(
    `scale: concurrent runs on one worker process; job Running phase ${opts.jobSeconds} s${opts.smoke ? ' (SMOKE: fast polling, figures not meaningful)' : ''}\n`,
  );
  out(`machine: ${describeMachine()}\n`);
  out(formatTable(headers, rows) + '\n');
  if (costs.length > 0) {
    const cost = costRows(costs);
    out(`\nlive training figures: on (the default) vs off (FTFLOW_METRICS_POLL_SECONDS=0), per run\n`);
    out(formatTable(cost.headers, cost.rows) + '\n');
  }
  if (pushed.length > 0) {
    out(`\npush (Event Grid events relayed to the worker) on vs off (polling only)\n`);
    const rows: Cell[][] = [];
    for (const c of pushed)
      for (const [name, v] of [
        ['notice delay p50 s', c.noticeDelayP50],
        ['notice delay p95 s', c.noticeDelayP95],
        ['job reads per run (all)', c.jobReadsPerRun],
        ['following reads per run (job watcher)', c.followingReadsPerRun],
        ['following reads/s peak 60 s', c.followingReadsPerSecondPeak60s],
        ['job reads/s peak 60 s', c.jobReadsPerSecondPeak60s],
        ['ARM reads/s peak 60 s', c.armReadsPerSecondPeak60s],
        ['ARM 429s', c.throttled],
        ['endpoints left', c.endpointsLeft],
      ] as const)
        rows.push([c.runs, name, v.on, v.off]);
    out(formatTable(['runs', 'figure', 'push on', 'push off'], rows) + '\n');
  }
  const preload = localWorkerProcessEnv().LD_PRELOAD;
  const settings: Record<string, string> = opts.smoke
    ? SMOKE_TUNING
    : {
        FTFLOW_JOB_POLL_SECONDS: 'default (1: the floor; the read allowance stretches it)',
        FTFLOW_JOB_WATCH_READ_SHARE: 'default (0.25 of 20 reads/s: 5 reads/s)',
        FTFLOW_JOB_PUSH: pushVariants.includes('on') ? 'on (push on) / off' : 'default (off)',
        FTFLOW_JOB_PUSH_POLL_SECONDS: 'default (60)',
        emulator_events:
          'Event Grid defaults: 2% duplicated, 2% late by 1-3 s (reordered), seed 1, Azure retry schedule',
        FTFLOW_ARM_READS_PER_SECOND: 'default (20)',
        FTFLOW_METRICS_POLL_SECONDS: variants.includes('off') ? 'default (120) when on; 0 when off' : 'default (120)',
        FTFLOW_METRICS_READ_SHARE: 'default (0.1)',
        FTFLOW_MAX_CACHED_WORKFLOWS: `default (${DEFAULT_MAX_CACHED_WORKFLOWS})`,
        FTFLOW_MEMORY_REPORT_SECONDS: '10 (the memory rows)',
        FTFLOW_MAX_CONCURRENT_STAGINGS: 'default (8)',
        MALLOC_ARENA_MAX: '2 (WORKER_PROCESS_ENV, as the image; glibc only)',
        NODE_OPTIONS: `${WORKER_PROCESS_ENV.NODE_OPTIONS} (WORKER_PROCESS_ENV, as the image)${workerVariants.includes('default-heap') ? "; worker default-heap: unset (Node's own limit)" : ''}${workerVariants.includes('default-semi-space') ? `; worker default-semi-space: ${WITHOUT_SEMI_SPACE}` : ''}`,
        LD_PRELOAD: `${preload ? path.relative(PROJECT_ROOT, preload) : "unset: set-up's jemalloc is missing"} (as the image preloads its own)${workerVariants.includes('glibc') ? '; worker glibc: unset' : ''}`,
        MALLOC_CONF: `${WORKER_PROCESS_ENV.MALLOC_CONF} (WORKER_PROCESS_ENV, as the image)`,
        FTFLOW_WORKFLOW_BUNDLE: 'a prebuilt bundle (npm run bundle), as the image',
        ...(before.FTFLOW_MAX_CACHED_WORKFLOWS
          ? {
              'worker before': `FTFLOW_MAX_CACHED_WORKFLOWS=${before.FTFLOW_MAX_CACHED_WORKFLOWS}, stagings unlimited, MALLOC_ARENA_MAX=${before.MALLOC_ARENA_MAX} (glibc's own), a bundle with workflow tracing in every run`,
            }
          : {}),
      };
  const growth = grows
    ? Object.fromEntries(
        rows.map((r): [string, Cell] => [String(r[0]), r[r.length - 1] === '' ? null : r[r.length - 1]]),
      )
    : null;
  return reportResult(
    'scale',
    opts.smoke,
    { jobSeconds: opts.jobSeconds, liveMetricsCost: costs, pushComparison: pushed, settings, levels: results, growth },
    out,
    opts.resultFile,
  );
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'levels',
    'job-seconds',
    'timeout-minutes',
    'live-metrics',
    'push',
    'result-file',
    'worker',
  ]);
  await runScaleBench({
    smoke: args.smoke,
    liveMetrics: wordsArg(args, 'live-metrics', ['on', 'off'] as const, ['on']),
    push: wordsArg(args, 'push', ['on', 'off'] as const, ['off']),
    workerVariants: wordsArg(args, 'worker', WORKER_VARIANTS, ['shipped']),
    resultFile: args.values.get('result-file'),
    levels: listArg(args, 'levels', args.smoke ? [3] : [10, 100, 1000]),
    jobSeconds: numberArg(args, 'job-seconds', args.smoke ? 5 : 480),
    timeoutMinutes: numberArg(args, 'timeout-minutes', args.smoke ? 2 : 60),
  });
}

if (require.main === module) runBench('scale', main);
