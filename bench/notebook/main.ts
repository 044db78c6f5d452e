// Side by side with the notebook: the seed notebook's flow made with Microsoft's azure-ai-ml (every cell,
// waiting on the job with ml_client.jobs.stream as the notebook does; devstack/conformance/notebook_flow.py)
// and one finetune-flow run (the client, a worker process), one after the other on one fresh stack, the
// job's phases the same on the emulator's clock. Per run and way: ARM reads, writes and deletes and the
// other requests (emulator counts before/after, Blob from Azurite's debug log by client), wall time and
// wall time outside Azure's own waits (the job and the long-running operations, on the emulator's record),
// peak RSS and CPU seconds (/proc). Then what following 1,000 jobs would take each way: the notebook's
// from one streaming process and one process streaming from N threads, extrapolated linearly; the
// service's from bench:scale's measured 1,000-run results. Not part of `make test`
// (test/bench/smokeNotebook.stack.test.ts runs `--smoke`).
//
//   npm run bench:notebook [-- --runs 1 --job-seconds 90 --stream-threads 20]
//   npm run bench:notebook -- --smoke      (5 s job, 2 streaming threads, fast worker polling)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startStack, stackEnv, PROJECT_ROOT, type RunningStack } from '../../devstack/stack';
import {
  describeMachine,
  emulatorAdmin,
  fmt,
  formatTable,
  median,
  numberArg,
  parseBenchArgs,
  ratio,
  reportResult,
  round,
  runBench,
  type Cell,
  type EmulatorRequest,
  type EmulatorResources,
  type RequestCounts,
  type ResultHeader,
} from '../common';
import { azureWaitIntervals, azureWaits, type AzureWaits } from './azureWaits';
import {
  ARM_READS_PER_SECOND,
  JOBS,
  notebookAtScale,
  perJobRates,
  serviceAtScale,
  STREAM_POLL_SECONDS_MAX,
  type NotebookAtScale,
  type PerJobRates,
  type ServiceAtScale,
  type StreamFigures,
} from './follow';
import { lineOf, pinnedAzureAiMl, runNotebookPython, stepLines, type PythonRun } from './python';
import {
  diffCounts,
  isAzureOwnBlobRequest,
  isPythonRequest,
  readBlobRequests,
  tallyRequests,
  type BlobRequest,
  type RequestTally,
} from './requests';
import { runServiceWay } from './service';

export interface NotebookBenchOptions {
  smoke: boolean;
  runs: number;
  /** The job's Running phase on the emulator's clock (its other phases: the emulator's default 1.5 s each). */
  jobSeconds: number;
  /** Threads of the one-process probe, each streaming the same job. */
  streamThreads: number;
  log?: (line: string) => void;
  out?: (text: string) => void;
}

/** What both ways report per run. */
interface WayCommon {
  completed: boolean;
  failure?: string;
  jobName: string;
  endpointName: string;
  /** The emulator reports the endpoint gone. */
  endpointDeleted: boolean;
  requests: RequestTally;
  wallSeconds: number;
  azureWaitSeconds: number;
  azureWaitsByKind: AzureWaits['byKind'];
  outsideAzureSeconds: number;
  /** outsideAzureSeconds less noticeDelaySeconds: the client's own time, its polling's lateness left out. */
  outsideAzureLessNoticeSeconds: number | null;
  /** From the job's end (emulator) to the way moving on (the stream returned; awaitPipeline completed). */
  noticeDelaySeconds: number | null;
  cpuSeconds: number;
  /** The requests this way made while its job was Running, and their rates. */
  whileJobRuns: StreamFigures & { rates: PerJobRates };
  steps: { step: string; seconds: number }[];
}

export interface NotebookWay extends WayCommon {
  process: {
    /** Process start to the end of `import azure.ai.ml` and the rest (the notebook's first cells). */
    importSeconds: number | null;
    rssAfterImportMiB: number | null;
    /** The highest VmRSS sampled while jobs.stream followed the job. */
    rssDuringStreamMiB: number | null;
    /** VmHWM: the process's peak over the whole flow. */
    peakRssMiB: number;
  };
  /** ARM requests of the stream_job cell (the stream's own reads at its start, and the cell's jobs.get). */
  streamCellArmRequests: number;
}

export interface ServiceWay extends WayCommon {
  runId: string;
  worker: { baselineRssMiB: number; peakRssDuringMiB: number; hwmMiB: number; cpuSeconds: number };
  temporalServer: { cpuSeconds: number; peakRssMiB: number } | null;
}

export type NotebookBenchResult = ResultHeader & {
  settings: Record<string, unknown>;
  runs: { notebook: NotebookWay; service: ServiceWay }[];
  streamsProbe: (StreamFigures & { rates: PerJobRates; errors: string[] }) | null;
  follow1000: {
    notebook: { kernelPerJob: NotebookAtScale; threadsInOneProcess: NotebookAtScale | null };
    service: {
      scale: ServiceAtScale | null;
      scaleWithJobWatcher: ServiceAtScale | null;
      /** Live training figures (one MLflow runs/search per run per FTFLOW_METRICS_POLL_SECONDS, 120 s): not in those files' runs. */
      mlflowReadsPerSecond: number;
    };
  };
};

/** Worker settings of a smoke run: poll fast so the short job is noticed in seconds. */
const SMOKE_TUNING = { FTFLOW_JOB_POLL_SECONDS: '1', FTFLOW_LRO_POLL_MS: '300' };
/** How long Azurite's debug log and the emulator's counters are given to settle after a way ends. */
const SETTLE_MS = 1000;
const METRICS_POLL_SECONDS_DEFAULT = 120;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secondsBetween = (a: number, b: number) => round((b - a) / 1000, 1) ?? 0;

/** The stack, the emulator's clock and what each way needs to reach it. */
interface Bench {
  stack: RunningStack;
  emulatorUrl: string;
  temporalAddress: string;
  blobLog: string;
  provisionMs: number;
  pythonEnv: NodeJS.ProcessEnv;
  workDir: string;
  logDir: string;
  log: (line: string) => void;
}

async function startBench(opts: NotebookBenchOptions, log: (line: string) => void): Promise<Bench> {
  const dataDir = path.join(PROJECT_ROOT, '.data', 'bench-notebook');
  const blobLog = path.join(dataDir, 'azurite-debug.log');
  fs.rmSync(blobLog, { force: true });
  const stack = await startStack({
    dataDir,
    components: ['temporal', 'azurite', 'emulator'],
    ports: { temporal: 0, temporalUi: 0, azurite: 0, emulator: 0 },
    temporal: { headless: true, inMemory: true },
    azurite: { inMemory: true, debugLog: blobLog },
    emulator: { stateFile: false, extraArgs: ['--job-phases', `Running=${opts.jobSeconds * 1000}`] },
    stackFile: false,
    log: (line) => log(`[stack] ${line}`),
  });
  const emulatorUrl = stack.urls.emulator;
  const temporalAddress = stack.urls.temporalAddress;
  if (!emulatorUrl || !temporalAddress) throw new Error('the stack did not report its addresses');
  const clock = await emulatorAdmin.clock(emulatorUrl);
  const provisionMs = Number(clock['provisionMs']) / Number(clock['speed'] ?? 1);
  return {
    stack,
    emulatorUrl,
    temporalAddress,
    blobLog,
    provisionMs,
    pythonEnv: {
      ...process.env,
      ...stackEnv(stack),
      FTFLOW_CONFORMANCE_CLOUD_URL: emulatorUrl,
      REQUESTS_CA_BUNDLE: stack.caFile,
    },
    workDir: path.join(dataDir, 'notebook-work'),
    logDir: path.join(dataDir, 'logs'),
    log,
  };
}

/** What the emulator and Azurite saw between two marks. */
async function requestsBetween(
  b: Bench,
  before: RequestCounts,
  fromMs: number,
  toMs: number,
  mine: (userAgent: string) => boolean,
): Promise<{ tally: RequestTally; log: EmulatorRequest[]; blob: BlobRequest[]; resources: EmulatorResources }> {
  await sleep(SETTLE_MS);
  const after = await emulatorAdmin.requestCounts(b.emulatorUrl);
  const blob = readBlobRequests(b.blobLog).filter((r) => r.atMs >= fromMs && r.atMs <= toMs + SETTLE_MS);
  const client = blob.filter((r) => !isAzureOwnBlobRequest(r) && mine(r.userAgent));
  const own = blob.filter(isAzureOwnBlobRequest).length;
  return {
    tally: tallyRequests(diffCounts(before, after), client, own),
    log: (await emulatorAdmin.requests(b.emulatorUrl)).requests,
    blob: client,
    resources: await emulatorAdmin.resources(b.emulatorUrl),
  };
}

/** The job's Running phase (emulator record), as epoch ms. */
function runningPhase(resources: EmulatorResources, jobName: string): { startMs: number; endMs: number } | undefined {
  const history = resources.jobs.find((j) => j.name === jobName)?.statusHistory ?? [];
  const i = history.findIndex((s) => s.status === 'Running');
  if (i < 0 || i + 1 >= history.length) return undefined;
  return { startMs: Date.parse(history[i].at), endMs: Date.parse(history[i + 1].at) };
}

/** The requests of one client in a window: emulator surfaces from its log, Blob from Azurite's. */
function windowRequests(
  log: readonly EmulatorRequest[],
  blob: readonly BlobRequest[],
  fromMs: number,
  toMs: number,
  mine: (userAgent: string) => boolean,
): StreamFigures['requests'] & { pollCycles: number } {
  const inside = log.filter((r) => {
    const t = Date.parse(r.time);
    return t >= fromMs && t <= toMs && mine(r.userAgent ?? '');
  });
  const count = (surface: string) => inside.filter((r) => r.surface === surface).length;
  const known = count('arm') + count('history') + count('public');
  return {
    arm: count('arm'),
    runHistory: count('history'),
    blob: blob.filter((r) => r.atMs >= fromMs && r.atMs <= toMs).length,
    cloudMetadata: count('public'),
    other: inside.length - known,
    pollCycles: inside.filter((r) => r.surface === 'history' && /\/runs\/[^/]+\/details$/.test(r.path)).length,
  };
}

function waitsOf(b: Bench, resources: EmulatorResources, log: EmulatorRequest[], fromMs: number, toMs: number) {
  return azureWaits(azureWaitIntervals(resources, log, b.provisionMs, fromMs, toMs));
}

/**
 * What both ways report alike from the emulator's record of one run: its endpoint deleted, its requests, its
 * wall time from `fromMs` to `toMs` and how much of it was Azure's own waits, and the notice delay.
 */
function timeFigures(
  b: Bench,
  seen: Awaited<ReturnType<typeof requestsBetween>>,
  endpointName: string,
  fromMs: number,
  toMs: number,
  notice: number | null,
) {
  const waits = waitsOf(b, seen.resources, seen.log, fromMs, toMs);
  const wallSeconds = secondsBetween(fromMs, toMs);
  return {
    endpointDeleted: seen.resources.endpoints.some((e) => e.name === endpointName && e.state === 'Gone'),
    requests: seen.tally,
    wallSeconds,
    azureWaitSeconds: round(waits.totalSeconds, 1) ?? 0,
    azureWaitsByKind: waits.byKind,
    outsideAzureSeconds: round(wallSeconds - waits.totalSeconds, 1) ?? 0,
    outsideAzureLessNoticeSeconds: notice === null ? null : round(wallSeconds - waits.totalSeconds - notice, 1),
    noticeDelaySeconds: notice,
  };
}

const notMine = (userAgent: string) => !isPythonRequest(userAgent);

async function measureNotebook(b: Bench, index: number, opts: NotebookBenchOptions): Promise<NotebookWay> {
  const before = await emulatorAdmin.requestCounts(b.emulatorUrl);
  const run = await runNotebookPython({
    args: ['flow'],
    env: b.pythonEnv,
    workdir: path.join(b.workDir, `flow-${index}`),
    stderrFile: path.join(b.logDir, `notebook-flow-${index}.log`),
    sampleMs: 500,
    timeoutMs: (opts.jobSeconds + 900) * 1000,
  });
  const seen = await requestsBetween(b, before, run.spawnedAtMs, run.exitedAtMs, isPythonRequest);
  const steps = stepLines(run);
  const failed = steps.find((s) => !s.ok);
  const done = lineOf(run, 'done');
  const imported = lineOf(run, 'imported');
  const stream = steps.find((s) => s.step === 'stream_job');
  const submitted = steps.find((s) => s.step === 'submit_pipeline');
  const jobName = done?.jobName ?? /job (\S+):/.exec(submitted?.detail ?? '')?.[1] ?? '';
  const endpointName = done?.endpointName ?? '';
  const job = seen.resources.jobs.find((j) => j.name === jobName);
  const whileJobRuns = figuresWhileRunning(seen, jobName, isPythonRequest, run);
  const streamWindow = stream ? run.sampler.between(stream.startMs, stream.endMs) : undefined;
  const cpuSeconds = Math.max(done?.cpuSeconds ?? 0, run.proc.cpuSeconds);
  const notice = stream && job?.endedAt ? secondsBetween(Date.parse(job.endedAt), stream.endMs) : null;
  const streamCellArmRequests = stream
    ? windowRequests(seen.log, [], stream.startMs, stream.endMs, isPythonRequest).arm
    : 0;
  return {
    completed: run.exitCode === 0 && steps.length > 0 && !failed && done !== undefined,
    ...(failed || run.exitCode !== 0
      ? { failure: failed ? `${failed.step}: ${failed.error ?? ''}` : `exit ${run.exitCode}; see ${run.stderrFile}` }
      : {}),
    jobName,
    endpointName,
    ...timeFigures(b, seen, endpointName, run.spawnedAtMs, run.exitedAtMs, notice),
    cpuSeconds: round(cpuSeconds, 1) ?? 0,
    whileJobRuns: { ...whileJobRuns, armRequestsPerStream: streamCellArmRequests },
    steps: steps.map((s) => ({ step: s.step, seconds: secondsBetween(s.startMs, s.endMs) })),
    process: {
      importSeconds: imported?.seconds ?? null,
      rssAfterImportMiB: imported?.rssMiB ?? null,
      rssDuringStreamMiB: streamWindow ? Math.round(streamWindow.maxRssMiB) : null,
      peakRssMiB: Math.round(Math.max(done?.hwmMiB ?? 0, run.proc.peakRssMiB)),
    },
    streamCellArmRequests,
  };
}

/** Requests of one way while its job was Running, with its process's CPU over the same window. */
function figuresWhileRunning(
  seen: { log: EmulatorRequest[]; blob: BlobRequest[]; resources: EmulatorResources },
  jobName: string,
  mine: (userAgent: string) => boolean,
  run: Pick<PythonRun, 'sampler'>,
): StreamFigures & { rates: PerJobRates } {
  const phase = runningPhase(seen.resources, jobName);
  const window = phase ?? { startMs: 0, endMs: 0 };
  const { pollCycles, ...requests } = windowRequests(seen.log, seen.blob, window.startMs, window.endMs, mine);
  const cpu = phase ? run.sampler.between(phase.startMs, phase.endMs) : undefined;
  const figures: StreamFigures = {
    streams: 1,
    windowSeconds: secondsBetween(window.startMs, window.endMs),
    requests,
    pollCycles,
    cpuSeconds: cpu ? round(cpu.cpuSeconds, 2) : null,
    rssBeforeMiB: null,
    rssPeakMiB: cpu ? Math.round(cpu.maxRssMiB) : null,
    armRequestsPerStream: null,
  };
  return { ...figures, rates: roundRates(perJobRates(figures)) };
}

function roundRates(r: PerJobRates): PerJobRates {
  return {
    armReadsPerSecond: round(r.armReadsPerSecond ?? undefined, 3),
    runHistoryPerSecond: round(r.runHistoryPerSecond ?? undefined, 3),
    blobPerSecond: round(r.blobPerSecond ?? undefined, 3),
    requestsPerPollCycle: round(r.requestsPerPollCycle ?? undefined, 2),
    cpuCores: round(r.cpuCores ?? undefined, 4),
  };
}

async function measureService(b: Bench, index: number, opts: NotebookBenchOptions): Promise<ServiceWay> {
  const taskQueue = `bench-notebook-${Date.now().toString(36)}`;
  const temporal = b.stack.processes.find((p) => p.name === 'temporal');
  let before: RequestCounts = {};
  let fromMs = 0;
  let toMs = 0;
  const run = await runServiceWay({
    temporalAddress: b.temporalAddress,
    namespace: b.stack.namespace,
    workerEnv: {
      ...process.env,
      ...stackEnv(b.stack),
      FTFLOW_TASK_QUEUE: taskQueue,
      ...(opts.smoke ? SMOKE_TUNING : {}),
    },
    workerLog: path.join(b.logDir, `worker-${index}.log`),
    ...(temporal ? { temporalPid: temporal.pid } : {}),
    sampleMs: 500,
    runKey: `${taskQueue}-${index}`,
    around: {
      before: async () => {
        before = await emulatorAdmin.requestCounts(b.emulatorUrl);
        fromMs = Date.now();
      },
      after: () => {
        toMs = Date.now();
        return Promise.resolve();
      },
    },
  });
  const seen = await requestsBetween(b, before, fromMs, toMs, notMine);
  const job = seen.resources.jobs.find((j) => j.name === run.jobName);
  const notice =
    run.awaitPipelineClosedMs !== null && job?.endedAt
      ? secondsBetween(Date.parse(job.endedAt), run.awaitPipelineClosedMs)
      : null;
  return {
    runId: run.runId,
    completed: run.completed,
    ...(run.failure ? { failure: run.failure } : {}),
    jobName: run.jobName,
    endpointName: run.endpointName,
    ...timeFigures(b, seen, run.endpointName, run.startedMs, run.closedMs, notice),
    cpuSeconds: run.worker.cpuSeconds,
    whileJobRuns: figuresWhileRunning(seen, run.jobName, notMine, { sampler: run.workerSampler }),
    steps: run.steps.map((s) => ({ step: s.step, seconds: secondsBetween(s.startMs, s.endMs) })),
    worker: {
      baselineRssMiB: run.worker.baselineRssMiB,
      peakRssDuringMiB: run.worker.peakRssDuringMiB,
      hwmMiB: run.worker.hwmMiB,
      cpuSeconds: run.worker.cpuSeconds,
    },
    temporalServer: run.temporalServer
      ? { cpuSeconds: run.temporalServer.cpuSeconds, peakRssMiB: run.temporalServer.peakRssMiB }
      : null,
  };
}

/** One process, N threads each streaming the same (running) job: what one more stream costs. */
async function measureStreams(
  b: Bench,
  opts: NotebookBenchOptions,
): Promise<(StreamFigures & { rates: PerJobRates; errors: string[] }) | null> {
  const before = await emulatorAdmin.requestCounts(b.emulatorUrl);
  const run = await runNotebookPython({
    args: ['streams', String(opts.streamThreads)],
    env: b.pythonEnv,
    workdir: path.join(b.workDir, 'streams'),
    stderrFile: path.join(b.logDir, 'notebook-streams.log'),
    sampleMs: 500,
    timeoutMs: (opts.jobSeconds + 900) * 1000,
  });
  const streams = lineOf(run, 'streams');
  if (!streams) {
    b.log(`streams probe: no result (exit ${run.exitCode}; see ${run.stderrFile})`);
    return null;
  }
  const seen = await requestsBetween(b, before, run.spawnedAtMs, run.exitedAtMs, isPythonRequest);
  const phase = runningPhase(seen.resources, streams.jobName);
  const from = Math.max(phase?.startMs ?? streams.startMs, streams.startMs);
  const to = Math.min(phase?.endMs ?? streams.endMs, streams.endMs);
  const { pollCycles, ...requests } = windowRequests(seen.log, seen.blob, from, to, isPythonRequest);
  const cpu = run.sampler.between(from, to);
  const during = run.sampler.between(streams.startMs, streams.endMs);
  const streamsArm = windowRequests(seen.log, [], streams.startMs, streams.endMs, isPythonRequest).arm;
  const figures: StreamFigures = {
    streams: streams.threads,
    windowSeconds: secondsBetween(from, to),
    requests,
    pollCycles,
    cpuSeconds: cpu ? round(cpu.cpuSeconds, 2) : null,
    rssBeforeMiB: streams.before.rssMiB,
    rssPeakMiB: during ? Math.round(during.maxRssMiB) : null,
    armRequestsPerStream: round(streamsArm / streams.threads, 1),
  };
  return { ...figures, rates: roundRates(perJobRates(figures)), errors: streams.errors };
}

const yesNo = (b: boolean) => (b ? 'yes' : 'NO');

function wayRows(runs: NotebookBenchResult['runs']): { headers: string[]; rows: Cell[][] } {
  type Get = (w: NotebookWay | ServiceWay, way: 'notebook' | 'service') => Cell;
  const figures: [string, Get, boolean][] = [
    ['completed', (w) => yesNo(w.completed), false],
    ['endpoint deleted', (w) => yesNo(w.endpointDeleted), false],
    ['ARM reads', (w) => w.requests.arm.reads, true],
    ['ARM writes', (w) => w.requests.arm.writes, true],
    ['ARM deletes', (w) => w.requests.arm.deletes, true],
    ['other requests', (w) => w.requests.other.total, true],
    ['  registry', (w) => w.requests.other.registry, true],
    ['  MLflow', (w) => w.requests.other.mlflow, true],
    ['  RunHistory', (w) => w.requests.other.runHistory, true],
    ['  token (Entra)', (w) => w.requests.other.token, true],
    ['  Blob (client)', (w) => w.requests.other.blob, true],
    ['  scoring', (w) => w.requests.other.scoring, true],
    ['  Hub (dataset download)', (w) => w.requests.other.hub, true],
    ['public GETs: cloud metadata (local cloud only), workspace discovery', (w) => w.requests.cloudMetadata, false],
    ["Azure's own Blob requests (emulator)", (w) => w.requests.azureOwnBlob, false],
    ['wall time s', (w) => w.wallSeconds, true],
    ["Azure's waits s (union)", (w) => w.azureWaitSeconds, true],
    ['  job created → ended s', (w) => round(w.azureWaitsByKind.job, 1), true],
    ['  provisioning s', (w) => round(w.azureWaitsByKind.provisioning, 1), true],
    ['  deletion s', (w) => round(w.azureWaitsByKind.deletion, 1), true],
    ["wall outside Azure's waits s", (w) => w.outsideAzureSeconds, true],
    ['  less the notice delay s', (w) => w.outsideAzureLessNoticeSeconds, true],
    ['job end → noticed s', (w) => w.noticeDelaySeconds, true],
    [
      'process start → SDK imported s',
      (w, way) => (way === 'notebook' ? (w as NotebookWay).process.importSeconds : 'n/a (worker up)'),
      false,
    ],
    [
      'RSS before the run MiB',
      (w, way) =>
        way === 'notebook'
          ? `${fmt((w as NotebookWay).process.rssAfterImportMiB, 0)} after import`
          : `${(w as ServiceWay).worker.baselineRssMiB} worker idle`,
      false,
    ],
    [
      'RSS while following the job MiB',
      (w, way) =>
        way === 'notebook' ? (w as NotebookWay).process.rssDuringStreamMiB : (w as ServiceWay).whileJobRuns.rssPeakMiB,
      true,
    ],
    [
      'peak RSS MiB',
      (w, way) =>
        way === 'notebook' ? (w as NotebookWay).process.peakRssMiB : (w as ServiceWay).worker.peakRssDuringMiB,
      true,
    ],
    ['CPU s (python process / worker during the run)', (w) => w.cpuSeconds, true],
    [
      'Temporal server CPU s during the run',
      (w, way) => (way === 'notebook' ? 'n/a' : ((w as ServiceWay).temporalServer?.cpuSeconds ?? null)),
      false,
    ],
    ['requests while the job runs (ARM)', (w) => w.whileJobRuns.requests.arm, true],
    [
      'requests while the job runs (RunHistory+Blob+other)',
      (w) => w.whileJobRuns.requests.runHistory + w.whileJobRuns.requests.blob + w.whileJobRuns.requests.other,
      true,
    ],
  ];
  const multi = runs.length > 1;
  const headers = [
    'per run',
    ...runs.flatMap((_, i) => (multi ? [`notebook #${i + 1}`, `service #${i + 1}`] : ['notebook', 'service'])),
    'service / notebook',
  ];
  const rows = figures.map(([name, get, comparable]) => {
    const cells = runs.flatMap((r) => [get(r.notebook, 'notebook'), get(r.service, 'service')]);
    const med = (way: 'notebook' | 'service') =>
      median(runs.map((r) => get(r[way], way)).filter((c): c is number => typeof c === 'number'));
    return [name, ...cells, comparable ? ratio(med('notebook'), med('service')) : ''];
  });
  return { headers, rows };
}

function followRows(f: NotebookBenchResult['follow1000']): { headers: string[]; rows: Cell[][] } {
  const k = f.notebook.kernelPerJob;
  const t = f.notebook.threadsInOneProcess;
  const s = f.service.scale;
  const w = f.service.scaleWithJobWatcher;
  const svc = (x: ServiceAtScale | null, get: (x: ServiceAtScale) => Cell): Cell => (x ? get(x) : 'n/a');
  const rows: Cell[][] = [
    [
      'processes',
      k.processes,
      t ? `1 (${t.threads} threads)` : 'n/a',
      svc(s, () => '1 worker + Temporal'),
      svc(w, () => '1 worker + Temporal'),
    ],
    [
      'memory GiB',
      k.memoryGiB,
      t?.memoryGiB ?? 'n/a',
      svc(s, (x) => round(x.workerPeakRssMiB / 1024, 1)),
      svc(w, (x) => round(x.workerPeakRssMiB / 1024, 1)),
    ],
    [
      `ARM reads/s while jobs run (budget ${ARM_READS_PER_SECOND})`,
      k.armReadsPerSecond,
      t?.armReadsPerSecond ?? 'n/a',
      svc(s, (x) => `${fmt(x.armReadsPerSecondPeak60s)} (peak 60 s)`),
      svc(
        w,
        (x) => `${fmt(x.armReadsPerSecondWhileWaiting)} (>= 90% wait), ${fmt(x.armReadsPerSecondPeak60s)} peak 60 s`,
      ),
    ],
    ['ARM requests per job at its stream start and end', k.armRequestsPerJob, t?.armRequestsPerJob ?? 'n/a', '', ''],
    [
      'RunHistory+Blob reads/s while jobs run (bench job)',
      k.otherReadsPerSecond,
      t?.otherReadsPerSecond ?? 'n/a',
      `MLflow ${f.service.mlflowReadsPerSecond} (live metrics)`,
      `MLflow ${f.service.mlflowReadsPerSecond} (live metrics)`,
    ],
    [
      `reads/s once streams poll every ${STREAM_POLL_SECONDS_MAX} s`,
      k.steadyReadsPerSecond,
      t?.steadyReadsPerSecond ?? 'n/a',
      '',
      '',
    ],
    [
      `CPU cores once streams poll every ${STREAM_POLL_SECONDS_MAX} s`,
      k.steadyCpuCores,
      t?.steadyCpuCores ?? 'n/a',
      '',
      '',
    ],
    [
      'CPU cores (bench job; service: its level average)',
      k.cpuCores,
      t?.cpuCores ?? 'n/a',
      svc(s, (x) => round(x.workerCpuAvgPercent / 100, 2)),
      svc(w, (x) => round(x.workerCpuAvgPercent / 100, 2)),
    ],
    [
      'notice delay s (p50 / p95)',
      `<= ${STREAM_POLL_SECONDS_MAX} (poll interval)`,
      `<= ${STREAM_POLL_SECONDS_MAX} (poll interval)`,
      svc(s, (x) => `${fmt(x.noticeDelaySeconds.p50)} / ${fmt(x.noticeDelaySeconds.p95)}`),
      svc(w, (x) => `${fmt(x.noticeDelaySeconds.p50)} / ${fmt(x.noticeDelaySeconds.p95)}`),
    ],
  ];
  return {
    headers: [
      `following ${JOBS} jobs`,
      'notebook: kernel per job',
      'notebook: 1 process, threads',
      `service (${s?.source ?? 'scale.json'})`,
      `service, job watcher (${w?.source ?? 'n/a'})`,
    ],
    rows,
  };
}

export async function runNotebookBench(opts: NotebookBenchOptions): Promise<NotebookBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[notebook] ${line}\n`));
  const out = opts.out ?? ((text: string) => process.stdout.write(text));
  const b = await startBench(opts, log);
  const runs: NotebookBenchResult['runs'] = [];
  let probe: NotebookBenchResult['streamsProbe'] = null;
  try {
    for (let i = 0; i < opts.runs; i++) {
      log(`run ${i + 1}/${opts.runs}: the notebook (azure-ai-ml, jobs.stream), job Running ${opts.jobSeconds} s`);
      const notebook = await measureNotebook(b, i, opts);
      log(
        `run ${i + 1}: notebook ${notebook.completed ? 'completed' : `FAILED (${notebook.failure ?? ''})`} in ${notebook.wallSeconds} s, ` +
          `${notebook.requests.arm.total} ARM requests, ${notebook.requests.other.total} others`,
      );
      log(`run ${i + 1}/${opts.runs}: the service (one fineTune run on a worker process)`);
      const service = await measureService(b, i, opts);
      log(
        `run ${i + 1}: service ${service.completed ? 'completed' : `FAILED (${service.failure ?? ''})`} in ${service.wallSeconds} s, ` +
          `${service.requests.arm.total} ARM requests, ${service.requests.other.total} others`,
      );
      runs.push({ notebook, service });
    }
    log(`streams probe: one Python process, ${opts.streamThreads} threads each streaming the same job`);
    probe = await measureStreams(b, opts);
  } finally {
    await b.stack.stop();
  }

  const first = runs[0];
  const follow1000: NotebookBenchResult['follow1000'] = {
    notebook: notebookAtScale(
      { ...first.notebook.whileJobRuns, rssPeakMiB: first.notebook.process.rssDuringStreamMiB },
      probe,
    ),
    service: {
      scale: serviceAtScale('scale.json'),
      scaleWithJobWatcher: serviceAtScale('scale-1000-job-watcher.json'),
      mlflowReadsPerSecond: round(JOBS / METRICS_POLL_SECONDS_DEFAULT, 1) ?? 0,
    },
  };

  out(
    `notebook: the seed notebook's flow (azure-ai-ml ${pinnedAzureAiMl()}, jobs.stream) and one finetune-flow run, one after the other on one fresh stack; ` +
      `job Running ${opts.jobSeconds} s on the emulator's clock${opts.smoke ? ' (SMOKE: short job, fast worker polling; figures not meaningful)' : ''}\n`,
  );
  out(`machine: ${describeMachine()}\n`);
  const table = wayRows(runs);
  out(formatTable(table.headers, table.rows) + '\n\n');
  if (probe)
    out(
      `streams probe: 1 process, ${probe.streams} threads streaming one job for ${probe.windowSeconds} s of its Running phase: ` +
        `RSS ${fmt(probe.rssBeforeMiB, 0)} → ${fmt(probe.rssPeakMiB, 0)} MiB, ${probe.requests.runHistory} RunHistory + ${probe.requests.blob} Blob + ${probe.requests.arm} ARM requests, ` +
        `CPU ${fmt(probe.cpuSeconds, 2)} s${probe.errors.length ? `; errors: ${probe.errors.join('; ')}` : ''}\n\n`,
    );
  const follow = followRows(follow1000);
  out(formatTable(follow.headers, follow.rows) + '\n');
  for (const x of [follow1000.notebook.kernelPerJob, follow1000.notebook.threadsInOneProcess])
    if (x?.limit) out(`${x.how}: ${x.limit}\n`);
  out(
    `notebook columns: measured on 1 process (and 1 process with ${opts.streamThreads} threads), extrapolated linearly to ${JOBS}; ` +
      `service columns: measured at ${JOBS} runs by bench:scale (files cited).\n`,
  );
  return reportResult(
    'notebook',
    opts.smoke,
    {
      settings: {
        jobRunningSeconds: opts.jobSeconds,
        otherJobPhaseSeconds: 1.5,
        provisionSeconds: b.provisionMs / 1000,
        runs: opts.runs,
        streamThreads: opts.streamThreads,
        order: 'per run: the notebook, then the service',
        notebook: `devstack/conformance/notebook_flow.py (azure-ai-ml ${pinnedAzureAiMl()}, devstack/conformance/requirements.txt)`,
        serviceSpec: { deployment: { keepAliveMinutes: 0 } },
        worker: opts.smoke
          ? SMOKE_TUNING
          : {
              FTFLOW_JOB_POLL_SECONDS: 'default (40)',
              FTFLOW_METRICS_POLL_SECONDS: `default (${METRICS_POLL_SECONDS_DEFAULT})`,
              FTFLOW_ARM_READS_PER_SECOND: 'default (20)',
            },
      },
      runs,
      streamsProbe: probe,
      follow1000,
    },
    out,
  );
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['runs', 'job-seconds', 'stream-threads']);
  await runNotebookBench({
    smoke: args.smoke,
    runs: args.smoke ? 1 : numberArg(args, 'runs', 1),
    jobSeconds: numberArg(args, 'job-seconds', args.smoke ? 5 : 90),
    streamThreads: numberArg(args, 'stream-threads', args.smoke ? 2 : 20),
  });
}

if (require.main === module) runBench('notebook', main);
