// One level of the scale benchmark: N runs started at once on ONE worker process, jobs long on the
// emulator's clock, everything else (staging a 1% slice, deployment, scoring, deletion) quick. While the
// runs go, the worker's /proc entry and the emulator's ARM token-bucket counters are sampled each second;
// when every run has closed, each run's history and the emulator's records give the rest.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { FineTuneClient, type RunHandle } from '../../src/client';
import {
  activityResult,
  activityTimings,
  countActions,
  diffTotals,
  emulatorAdmin,
  median,
  percentile,
  ProcSampler,
  round,
  scrapeCounter,
  startBenchApi,
  startBenchWorker,
  workflowTaskRetries,
  workflowTasks,
} from '../common';
import type { ActionCounts, EmulatorResources, MetricTotals, ProcSummary } from '../common';
import type { MemoryBreakdown } from '../../src/observability/memory';

/** Where a level runs: a stack started by the bench (main.ts) or the test suite's (smoke test). */
export interface ScaleTarget {
  temporalAddress: string;
  namespace: string;
  emulatorUrl: string;
  /** Environment of the worker process (stackEnv of the stack + NODE_EXTRA_CA_CERTS). */
  workerEnv: NodeJS.ProcessEnv;
  /** The Temporal server's Prometheus endpoint, when it has one (for its `action` counter). */
  temporalMetricsUrl?: string;
  /** Folder for the worker's log. */
  logDir: string;
}

export interface LevelOptions {
  runs: number;
  /** Worker processes on the level's task queue (default 1); they split the ARM budget (FTFLOW_ARM_BUDGET_SPLIT). */
  workers?: number;
  /** The worker follows the training's MLflow figures (its default), or not (FTFLOW_METRICS_POLL_SECONDS=0). */
  liveMetrics: boolean;
  /**
   * Push: an API process receives the emulator's Event Grid deliveries (RunStatusChanged) and relays them to
   * the worker (FTFLOW_JOB_PUSH=on); off: the worker polls only.
   */
  push?: boolean;
  /** Extra environment of the worker (poll intervals for the smoke run). */
  /** Extra environment of the worker (poll intervals for the smoke run, a variant's settings). */
  workerTuning?: Record<string, string>;
  /** Names the worker variant in tables and the result (bench:scale --worker). */
  variant?: string;
  /** Give up waiting after this long (the runs still open are reported as not completed). */
  timeoutMs: number;
  log: (line: string) => void;
}

export interface LevelResult {
  runs: number;
  liveMetrics: boolean;
  push: boolean;
  /** The worker variant (bench:scale --worker), when the level was run with one. */
  variant?: string;
  runsCompleted: number;
  runsFailed: number;
  wallSeconds: number;
  /** Seconds between the first and the last job submission the emulator saw. */
  jobSubmitSpreadSeconds: number | null;
  /** The most runs following their job (awaitPipeline open) at the same moment. */
  peakRunsWaitingOnJob: number;
  /** Share of the runs' wall time spent in awaitPipeline. */
  waitingShare: number | null;
  /** All worker processes together: peak RSS of the largest, CPU summed (one process: that process). */
  worker: ProcSummary & { cpuSecondsPerRun: number | null };
  /** Each worker process (the level's `workers`). */
  workers: ProcSummary[];
  /**
   * What the first worker's memory was made of at its largest report (FTFLOW_MEMORY_REPORT_SECONDS, every
   * 10 s here): V8 heaps of the main and the workflow thread, external memory, the rest; null without reports.
   */
  memory: MemoryBreakdown | null;
  temporal: {
    historyEventsPerRun: number | null;
    /** The same without the events of workflow tasks that timed out or failed and were retried (3 each). */
    historyEventsPerRunWithoutTaskRetries: number | null;
    workflowTaskRetriesPerRun: number | null;
    workflowTasksPerRun: number | null;
    /** Mean per run of the history-derived billable actions (definition in bench/common/history.ts). */
    actionsPerRun: ActionCounts;
    /** The server's own `action` counter for the namespace during the level, by action type (null without metrics). */
    serverActions: Record<string, number> | null;
    serverActionsPerRun: number | null;
    heartbeatActionsPerRun: number | null;
  };
  arm: {
    reads: number;
    writes: number;
    deletes: number;
    readsPerRun: number | null;
    /** 429s the emulator's token buckets answered. */
    throttled: number;
    /** Highest reads/s over any 10 s window, and over any 60 s window (sustained). */
    peakReadsPerSecond10s: number | null;
    peakReadsPerSecond60s: number | null;
    /** Mean reads/s while at least 90% of the runs were waiting on their jobs (null when never). */
    readsPerSecondWhileWaiting: number | null;
  };
  /**
   * What following the jobs cost: the ARM reads of jobs (Jobs_List pages and Jobs_Get, the submit's
   * read-before-create and each follower's first read included), over the level and per second.
   */
  following: {
    listPages: number;
    gets: number;
    readsPerRun: number | null;
    /** The job watcher's reads alone (polling cycles and wakes): the cost of following. */
    watcherReads: number;
    watcherReadsPerRun: number | null;
    /** Highest watcher reads/s over any 60 s window (target <= 5). */
    watcherPeakReadsPerSecond60s: number | null;
    /** Highest job reads/s over any 60 s window. */
    peakReadsPerSecond60s: number | null;
    /** Mean job reads/s while at least 90% of the runs waited on their jobs. */
    readsPerSecondWhileWaiting: number | null;
  };
  /** Push on: the emulator's Event Grid delivery counts (published, delivered, duplicated, reordered, ...). */
  events: Record<string, number> | null;
  /** MLflow tracking requests (all reads: the flow writes nothing to MLflow), from the emulator's counts. */
  mlflow: { reads: number; readsPerRun: number | null };
  /** ARM reads and MLflow reads per run together: what following a run costs in reads. */
  readsPerRun: number | null;
  /** Runs whose awaitPipeline result carries live figures, and its `metrics` entries per run. */
  liveFigures: { runsWithFigures: number; entriesPerRun: number | null };
  /** Activity attempts beyond the first, per run (timeouts and retried failures), and which steps they hit. */
  activityRetriesPerRun: number | null;
  retriesByStep: Record<string, number>;
  /** From the job's end (emulator) to awaitPipeline's completion (history), seconds. */
  noticeDelaySeconds: { p50: number | null; p95: number | null; max: number | null; samples: number };
  jobs: number;
  endpointsLeft: number;
}

interface ThrottleTick {
  atMs: number;
  reads: number;
  /** Job reads (list pages + Gets) so far. */
  jobReads: number;
  /** Of those, the job watcher's (what following costs). */
  watcherReads: number;
  writes: number;
  deletes: number;
  throttled: number;
}

/** Highest mean rate over any window of `seconds` in a cumulative series. */
function peakRate(
  series: readonly ThrottleTick[],
  seconds: number,
  value: (t: ThrottleTick) => number = (t) => t.reads,
): number | null {
  let best: number | null = null;
  let j = 0;
  for (let i = 0; i < series.length; i++) {
    while (j < i && series[i].atMs - series[j + 1].atMs >= seconds * 1000) j++;
    const span = (series[i].atMs - series[j].atMs) / 1000;
    if (span >= seconds * 0.9) best = Math.max(best ?? 0, (value(series[i]) - value(series[j])) / span);
  }
  return best === null ? null : round(best, 1);
}

/** Mean reads/s between two times of a cumulative series. */
function meanRate(
  series: readonly ThrottleTick[],
  fromMs: number,
  toMs: number,
  value: (t: ThrottleTick) => number = (t) => t.reads,
): number | null {
  const inside = series.filter((t) => t.atMs >= fromMs && t.atMs <= toMs);
  if (inside.length < 2) return null;
  const a = inside[0];
  const b = inside[inside.length - 1];
  return round((value(b) - value(a)) / ((b.atMs - a.atMs) / 1000), 1);
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Several worker processes as one: the largest peak and last RSS (what one process needs), CPU seconds and
 * % of a core summed (what the level cost), the peak CPU window of the busiest. One process: itself.
 */
export function combineWorkers(each: readonly ProcSummary[]): ProcSummary {
  if (each.length === 1) return each[0];
  const sum = (get: (s: ProcSummary) => number) => each.reduce((a, s) => a + get(s), 0);
  const max = (get: (s: ProcSummary) => number) => Math.max(...each.map(get));
  return {
    pid: each[0].pid,
    samples: max((s) => s.samples),
    wallSeconds: max((s) => s.wallSeconds),
    peakRssMiB: max((s) => s.peakRssMiB),
    lastRssMiB: max((s) => s.lastRssMiB),
    cpuSeconds:
      round(
        sum((s) => s.cpuSeconds),
        1,
      ) ?? 0,
    avgCpuPercent:
      round(
        sum((s) => s.avgCpuPercent),
        1,
      ) ?? 0,
    peakCpuPercent: max((s) => s.peakCpuPercent),
    windowSeconds: each[0].windowSeconds,
  };
}

/** Seconds between the workers' "worker memory" log lines during a level. */
const MEMORY_REPORT_SECONDS = '10';

/** The largest "worker memory" report (by RSS) in a worker's JSON log, or null when it has none. */
export function peakMemoryReport(logText: string): MemoryBreakdown | null {
  let peak: MemoryBreakdown | null = null;
  for (const line of logText.split('\n')) {
    if (!line.includes('"worker memory"')) continue;
    try {
      const entry = JSON.parse(line) as { message?: string; memory?: MemoryBreakdown };
      if (entry.message === 'worker memory' && entry.memory && (!peak || entry.memory.rssMiB > peak.rssMiB))
        peak = entry.memory;
    } catch {
      // A line cut short by the worker's exit.
    }
  }
  return peak;
}

/** Requests the emulator's MLflow surface answered (every one a read). */
function mlflowReads(counts: Record<string, Record<string, number>>): number {
  return Object.values(counts['mlflow'] ?? {}).reduce((a, b) => a + b, 0);
}

export async function measureLevel(target: ScaleTarget, opts: LevelOptions): Promise<LevelResult> {
  const { runs, log } = opts;
  const workerCount = opts.workers ?? 1;
  const stamp = Date.now().toString(36);
  const push = opts.push ?? false;
  const variant = `live-${opts.liveMetrics ? 'on' : 'off'}${push ? '-push' : ''}${opts.variant ? `-${opts.variant}` : ''}`;
  const taskQueue = `bench-scale-${runs}-${variant}-${stamp}`;
  // Push: the API receives the emulator's Event Grid deliveries and relays them to the worker.
  const api = push
    ? await (async () => {
        const secret = randomBytes(32).toString('hex');
        const started = await startBenchApi(
          {
            ...process.env,
            ...target.workerEnv,
            FTFLOW_TASK_QUEUE: taskQueue,
            FTFLOW_API_KEYS: '{"keys": []}',
            FTFLOW_API_HOST: '127.0.0.1',
            FTFLOW_API_PORT: '0',
            FTFLOW_EVENT_GRID_SECRET: secret,
          },
          `${target.logDir}/api-${runs}-${variant}.log`,
        );
        try {
          await emulatorAdmin.createEventSubscription(
            target.emulatorUrl,
            `ftflow-${stamp}`,
            `${started.url}/v1/azure/events?secret=${secret}`,
          );
        } catch (err) {
          await started.stop();
          throw err;
        }
        return started;
      })()
    : undefined;
  const workers = await Promise.all(
    Array.from({ length: workerCount }, (_, i) =>
      startBenchWorker(
        {
          ...process.env,
          ...target.workerEnv,
          FTFLOW_TASK_QUEUE: taskQueue,
          FTFLOW_LOG_LEVEL: 'INFO',
          // JSON lines: the memory reports are read back from the log (peakMemoryReport).
          FTFLOW_LOG_FORMAT: 'json',
          FTFLOW_ARM_BUDGET_SPLIT: String(workerCount),
          FTFLOW_MEMORY_REPORT_SECONDS: MEMORY_REPORT_SECONDS,
          ...(opts.liveMetrics ? {} : { FTFLOW_METRICS_POLL_SECONDS: '0' }),
          ...(push ? { FTFLOW_JOB_PUSH: 'on' } : {}),
          ...(opts.workerTuning ?? {}),
        },
        `${target.logDir}/worker-${runs}-${variant}${workerCount > 1 ? `-${workerCount}w-${i + 1}` : ''}.log`,
      ),
    ),
  );
  const connected = await (async () => {
    const connection = await Connection.connect({ address: target.temporalAddress });
    const temporal = new Client({ connection, namespace: target.namespace });
    return {
      connection,
      temporal,
      client: await FineTuneClient.connect({ client: temporal, taskQueue }),
      actionsBefore: target.temporalMetricsUrl
        ? await scrapeCounter(target.temporalMetricsUrl, 'action', 'action_type')
        : undefined,
      throttleBase: await emulatorAdmin.throttle(target.emulatorUrl),
      jobReadsBase: await emulatorAdmin.jobReads(target.emulatorUrl),
      mlflowBase: mlflowReads(await emulatorAdmin.requestCounts(target.emulatorUrl)),
    };
  })().catch(async (err: unknown) => {
    await Promise.all(workers.map((w) => w.stop()));
    await api?.stop();
    throw err;
  });
  const { connection, temporal, client, throttleBase, mlflowBase, jobReadsBase } = connected;
  const actionsBefore: MetricTotals | undefined = connected.actionsBefore;
  const t0 = Date.now();
  const ticks: ThrottleTick[] = [];
  let sampling = true;
  const throttleLoop = (async () => {
    while (sampling) {
      const s = await emulatorAdmin.throttle(target.emulatorUrl).catch(() => undefined);
      const jr = await emulatorAdmin.jobReads(target.emulatorUrl).catch(() => undefined);
      if (s && jr) {
        ticks.push({
          atMs: Date.now(),
          reads: s.granted.reads - throttleBase.granted.reads,
          jobReads: jr.list + jr.get - jobReadsBase.list - jobReadsBase.get,
          watcherReads: jr.watcher - jobReadsBase.watcher,
          writes: s.granted.writes - throttleBase.granted.writes,
          deletes: s.granted.deletes - throttleBase.granted.deletes,
          throttled: s.throttled - throttleBase.throttled,
        });
      }
      await sleep(1000);
    }
  })();
  const samplers = workers.map((w) => new ProcSampler(w.pid, 1000, 10));
  let handles: RunHandle[] = [];
  try {
    // Start every run at once (50 start calls in flight), as a batch of retraining requests would.
    handles = await mapLimit(
      Array.from({ length: runs }, (_, i) => i),
      50,
      (i) => client.start({ dataset: { percent: 1 } }, { idempotencyKey: `scale-${runs}-${stamp}-${i}` }),
    );
    log(`${runs} runs started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const deadline = t0 + opts.timeoutMs;
    let lastLog = 0;
    for (;;) {
      const open = Number(
        (await temporal.workflow.count(`TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`)).count,
      );
      if (open === 0) break;
      if (Date.now() > deadline) {
        log(`timed out with ${open} runs still open`);
        break;
      }
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        const last = ticks[ticks.length - 1];
        const back = ticks.find((t) => last && last.atMs - t.atMs <= 30_000);
        const rate =
          last && back && last.atMs > back.atMs
            ? ((last.reads - back.reads) / ((last.atMs - back.atMs) / 1000)).toFixed(1)
            : '?';
        const rss = samplers.map((s) => s.summary().lastRssMiB).join(' + ');
        log(
          `${Math.round((Date.now() - t0) / 1000)} s: ${open}/${runs} runs open; ARM reads ${rate}/s (last 30 s), 429s ${last?.throttled ?? 0}; worker RSS ${rss} MiB`,
        );
      }
      await sleep(runs >= 100 ? 5000 : 1000);
    }
  } finally {
    sampling = false;
    await throttleLoop;
  }
  const perWorker = samplers.map((s) => s.stop());
  const workerSummary = combineWorkers(perWorker);
  const wallEnd = Date.now();
  await Promise.all(workers.map((w) => w.stop()));
  await api?.stop();
  const memory = peakMemoryReport(fs.readFileSync(workers[0].logFile, 'utf8'));

  // What Temporal recorded, run by run.
  const histories = await mapLimit(
    handles,
    20,
    async (h) => (await temporal.workflow.getHandle(h.runId).fetchHistory()).events ?? [],
  );
  const resources: EmulatorResources = await emulatorAdmin.resources(target.emulatorUrl);
  const mlflowTotal = mlflowReads(await emulatorAdmin.requestCounts(target.emulatorUrl)) - mlflowBase;
  const jobReadsEnd = await emulatorAdmin.jobReads(target.emulatorUrl);
  const eventCounts = push
    ? ((await emulatorAdmin.eventSubscriptions(target.emulatorUrl)).find((sub) => sub.name === `ftflow-${stamp}`)
        ?.counts ?? null)
    : null;
  const actionsAfter = target.temporalMetricsUrl
    ? await scrapeCounter(target.temporalMetricsUrl, 'action', 'action_type')
    : undefined;
  await connection.close();

  const jobsByName = new Map(resources.jobs.map((j) => [j.name, j]));
  const mine = new Set(handles.map((h) => h.names.jobName));
  const myJobs = resources.jobs.filter((j) => mine.has(j.name));
  const myEndpoints = new Set(handles.map((h) => h.names.endpointName));
  const endpointsLeft = resources.endpoints.filter((e) => myEndpoints.has(e.name) && e.state !== 'Gone').length;

  let completed = 0;
  let failed = 0;
  const delays: number[] = [];
  const waits: { from: number; to: number }[] = [];
  let waitedMs = 0;
  let runMs = 0;
  let events = 0;
  let tasks = 0;
  let taskRetries = 0;
  let retries = 0;
  let withFigures = 0;
  let entries = 0;
  const retriesByStep: Record<string, number> = {};
  const actionSums: ActionCounts = {
    workflowStarted: 0,
    activityAttempts: 0,
    timers: 0,
    searchAttributeUpserts: 0,
    signals: 0,
    updates: 0,
    markers: 0,
    total: 0,
  };
  handles.forEach((h, i) => {
    const ev = histories[i];
    const last = ev[ev.length - 1];
    if (last?.workflowExecutionCompletedEventAttributes) completed++;
    else if (
      ev.some(
        (e) =>
          e.workflowExecutionFailedEventAttributes ||
          e.workflowExecutionTimedOutEventAttributes ||
          e.workflowExecutionCanceledEventAttributes ||
          e.workflowExecutionTerminatedEventAttributes,
      )
    )
      failed++;
    events += ev.length;
    tasks += workflowTasks(ev);
    taskRetries += workflowTaskRetries(ev);
    const a = countActions(ev);
    for (const k of Object.keys(actionSums) as (keyof ActionCounts)[]) actionSums[k] += a[k];
    const timings = activityTimings(ev);
    for (const t of timings) {
      if (t.attempt <= 1) continue;
      retries += t.attempt - 1;
      retriesByStep[t.activityType] = (retriesByStep[t.activityType] ?? 0) + t.attempt - 1;
    }
    const first = timings[0];
    const lastActivity = timings[timings.length - 1];
    if (first && lastActivity?.closedMs !== undefined) runMs += lastActivity.closedMs - first.scheduledMs;
    const outcome = activityResult(ev, 'awaitPipeline') as { training?: unknown; metricsLog?: unknown[] } | undefined;
    if (outcome?.training) withFigures++;
    entries += outcome?.metricsLog?.length ?? 0;
    const follow = timings.filter((t) => t.activityType === 'awaitPipeline');
    const done = follow.find((t) => t.outcome === 'completed');
    for (const t of follow) {
      if (t.closedMs !== undefined) {
        waits.push({ from: t.scheduledMs, to: t.closedMs });
        waitedMs += t.closedMs - t.scheduledMs;
      }
    }
    const job = jobsByName.get(h.names.jobName);
    if (done?.closedMs !== undefined && job?.endedAt) delays.push((done.closedMs - Date.parse(job.endedAt)) / 1000);
  });
  // Most runs following their job at once: sweep over the awaitPipeline intervals.
  const edges = waits
    .flatMap((w) => [
      { at: w.from, d: 1 },
      { at: w.to, d: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let peakWaiting = 0;
  let waitingFrom: number | undefined;
  let waitingTo: number | undefined;
  for (const e of edges) {
    open += e.d;
    peakWaiting = Math.max(peakWaiting, open);
    if (open >= Math.ceil(runs * 0.9)) waitingFrom ??= e.at;
    else if (waitingFrom !== undefined && waitingTo === undefined) waitingTo = e.at;
  }
  const created = myJobs.map((j) => Date.parse(j.createdAt));
  const last = ticks[ticks.length - 1] ?? {
    reads: 0,
    jobReads: 0,
    watcherReads: 0,
    writes: 0,
    deletes: 0,
    throttled: 0,
    atMs: 0,
  };
  const jobReads = (t: ThrottleTick) => t.jobReads;
  const watcherReads = (t: ThrottleTick) => t.watcherReads;
  const listPages = jobReadsEnd.list - jobReadsBase.list;
  const gets = jobReadsEnd.get - jobReadsBase.get;
  const n = handles.length || 1;
  const serverActions = actionsBefore && actionsAfter ? diffTotals(actionsBefore, actionsAfter) : null;
  const serverTotal = serverActions ? Object.values(serverActions).reduce((a, b) => a + b, 0) : null;
  const heartbeats = serverActions
    ? Object.entries(serverActions)
        .filter(([k]) => /heartbeat/i.test(k) && /activity/i.test(k))
        .reduce((a, [, v]) => a + v, 0)
    : null;
  return {
    runs,
    liveMetrics: opts.liveMetrics,
    push,
    ...(opts.variant ? { variant: opts.variant } : {}),
    runsCompleted: completed,
    runsFailed: failed,
    wallSeconds: round((wallEnd - t0) / 1000, 1) ?? 0,
    jobSubmitSpreadSeconds: created.length ? round((Math.max(...created) - Math.min(...created)) / 1000, 1) : null,
    peakRunsWaitingOnJob: peakWaiting,
    waitingShare: runMs > 0 ? round(waitedMs / runMs, 3) : null,
    worker: { ...workerSummary, cpuSecondsPerRun: round(workerSummary.cpuSeconds / n, 3) },
    workers: perWorker,
    memory,
    temporal: {
      historyEventsPerRun: round(events / n, 1),
      historyEventsPerRunWithoutTaskRetries: round((events - 3 * taskRetries) / n, 1),
      workflowTaskRetriesPerRun: round(taskRetries / n, 2),
      workflowTasksPerRun: round(tasks / n, 1),
      actionsPerRun: Object.fromEntries(
        Object.entries(actionSums).map(([k, v]) => [k, round(v / n, 2) ?? 0]),
      ) as unknown as ActionCounts,
      serverActions,
      serverActionsPerRun: serverTotal !== null ? round(serverTotal / n, 1) : null,
      heartbeatActionsPerRun: heartbeats !== null ? round(heartbeats / n, 1) : null,
    },
    arm: {
      reads: last.reads,
      writes: last.writes,
      deletes: last.deletes,
      readsPerRun: round(last.reads / n, 2),
      throttled: last.throttled,
      peakReadsPerSecond10s: peakRate(ticks, 10),
      peakReadsPerSecond60s: peakRate(ticks, 60),
      readsPerSecondWhileWaiting: waitingFrom !== undefined ? meanRate(ticks, waitingFrom, waitingTo ?? wallEnd) : null,
    },
    following: {
      listPages,
      gets,
      readsPerRun: round((listPages + gets) / n, 2),
      watcherReads: jobReadsEnd.watcher - jobReadsBase.watcher,
      watcherReadsPerRun: round((jobReadsEnd.watcher - jobReadsBase.watcher) / n, 2),
      watcherPeakReadsPerSecond60s: peakRate(ticks, 60, watcherReads),
      peakReadsPerSecond60s: peakRate(ticks, 60, jobReads),
      readsPerSecondWhileWaiting:
        waitingFrom !== undefined ? meanRate(ticks, waitingFrom, waitingTo ?? wallEnd, jobReads) : null,
    },
    events: eventCounts,
    mlflow: { reads: mlflowTotal, readsPerRun: round(mlflowTotal / n, 2) },
    readsPerRun: round((last.reads + mlflowTotal) / n, 2),
    liveFigures: { runsWithFigures: withFigures, entriesPerRun: round(entries / n, 1) },
    activityRetriesPerRun: round(retries / n, 2),
    retriesByStep,
    noticeDelaySeconds: {
      p50: round(median(delays), 1),
      p95: round(percentile(delays, 95), 1),
      max: round(delays.length ? Math.max(...delays) : undefined, 1),
      samples: delays.length,
    },
    jobs: myJobs.length,
    endpointsLeft,
  };
}
