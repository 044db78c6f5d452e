// Orchestration overhead: one run at a time against an emulator with zero latency (every job phase,
// provisioning, deletion and Retry-After at 0), so the run's wall time is Temporal's share plus the
// service's own work. Per run, three clocks are compared:
//   wall time         WorkflowExecutionStarted → WorkflowExecutionCompleted (history)
//   activity work     each step's own duration, measured inside the activity (the worker's `step
//                     completed` log line, durationSeconds), summed
//   Azure time        the emulator's handling time of every request in the run (its request log,
//                     durationMs), summed: ARM, registry, MLflow, token, scoring and Hub stand-in
//                     calls (not Blob Storage, which is Azurite's)
// and, per activity, from the history: scheduled→started (dispatch), started→closed minus its own work
// (reporting the result), and the gap from the previous activity's close to this one's scheduling
// (a workflow task round trip). Figures are medians over the repeats. Not part of `make test`
// (test/bench/smokeScaleOverhead.stack.test.ts runs `--smoke`).
//
//   npm run bench:overhead [-- --runs 5]
//   npm run bench:overhead -- --smoke      (1 run)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { FineTuneClient } from '../../src/client';
import { startStack, stackEnv, PROJECT_ROOT, type RunningStack } from '../../devstack/stack';
import {
  activityTimings,
  describeMachine,
  emulatorAdmin,
  eventTimeMs,
  formatTable,
  median,
  numberArg,
  parseBenchArgs,
  reportResult,
  round,
  runBench,
  startBenchWorker,
  type ResultHeader,
} from '../common';

export interface OverheadTarget {
  temporalAddress: string;
  namespace: string;
  emulatorUrl: string;
  workerEnv: NodeJS.ProcessEnv;
  logDir: string;
}

export interface ActivityOverhead {
  activityType: string;
  /** Gap from the previous activity's close (or the workflow's start) to this one being scheduled. */
  scheduleGapMs: number;
  /** Scheduled → started: dispatch to the worker. */
  dispatchMs: number;
  /** Started → closed, as Temporal recorded it. */
  startedToClosedMs: number;
  /** The activity's own work (inside the worker). */
  workMs: number | null;
  /** Started → closed minus own work: handing the result back. */
  reportMs: number | null;
  /** Emulator handling time of the requests made while it ran. */
  azureMs: number;
  azureCalls: number;
}

export interface RunOverhead {
  runId: string;
  wallMs: number;
  activityWorkMs: number;
  azureMs: number;
  azureCalls: number;
  /** wall - activity work: what orchestration adds (dispatch, reporting, workflow tasks). */
  orchestrationMs: number;
  activities: ActivityOverhead[];
}

export type OverheadBenchResult = ResultHeader & {
  runs: number;
  runsCompleted: number;
  endpointsLeft: number;
  median: {
    wallMs: number | null;
    activityWorkMs: number | null;
    azureMs: number | null;
    orchestrationMs: number | null;
    orchestrationShare: number | null;
    azureShare: number | null;
  };
  perActivityMedian: Record<string, Omit<ActivityOverhead, 'activityType'>>;
  perRun: RunOverhead[];
};

/** Zero-latency clock of the emulator (also what the smoke run sets on the test stack's emulator). */
export const ZERO_CLOCK = { jobPhaseMs: 0, jobPhases: {}, provisionMs: 0, deleteMs: 0, cancelMs: 0 };
/** The worker's own pollers as short as they go: no configured sleep hides in the figures. */
const WORKER_TUNING = { FTFLOW_JOB_POLL_SECONDS: '0.05', FTFLOW_LRO_POLL_MS: '1' };

interface StepLine {
  message?: string;
  workflowId?: string;
  activityType?: string;
  activityId?: string;
  durationSeconds?: number;
}

/** The worker's `step completed` lines for one run, in order: own work of each activity attempt. */
function stepDurations(logFile: string, runId: string): { activityType: string; ms: number }[] {
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .flatMap((l) => {
      if (!l.includes('"step completed"')) return [];
      try {
        const j = JSON.parse(l) as StepLine;
        return j.workflowId === runId && typeof j.durationSeconds === 'number'
          ? [{ activityType: j.activityType ?? '?', ms: j.durationSeconds * 1000 }]
          : [];
      } catch {
        return [];
      }
    });
}

async function measureRun(
  client: FineTuneClient,
  temporal: Client,
  target: OverheadTarget,
  logFile: string,
  key: string,
): Promise<RunOverhead & { completed: boolean; endpointName: string }> {
  const run = await client.start({ dataset: { percent: 1 } }, { idempotencyKey: key });
  await client.result(run.runId).catch(() => undefined);
  const events = (await temporal.workflow.getHandle(run.runId).fetchHistory()).events ?? [];
  const startMs = eventTimeMs(events[0]);
  const closeEvent = events[events.length - 1];
  const endMs = eventTimeMs(closeEvent);
  const { requests } = await emulatorAdmin.requests(target.emulatorUrl);
  // One run at a time: every request answered between the run's start and end is the run's.
  const inRun = requests
    .map((r) => ({ end: Date.parse(r.time), ms: r.durationMs ?? 0 }))
    .filter((r) => r.end >= startMs && r.end <= endMs);
  // The step lines are written as each step ends; give the log a moment to reach the file.
  await new Promise((r) => setTimeout(r, 300));
  const steps = stepDurations(logFile, run.runId);
  const timings = activityTimings(events);
  let previousClose = startMs;
  const activities: ActivityOverhead[] = timings.map((t) => {
    const started = t.startedMs ?? t.scheduledMs;
    const closed = t.closedMs ?? started;
    const stepIndex = steps.findIndex((s) => s.activityType === t.activityType);
    const work = stepIndex >= 0 ? steps.splice(stepIndex, 1)[0].ms : null;
    const calls = inRun.filter((r) => r.end >= started && r.end <= closed);
    const a: ActivityOverhead = {
      activityType: t.activityType,
      scheduleGapMs: t.scheduledMs - previousClose,
      dispatchMs: started - t.scheduledMs,
      startedToClosedMs: closed - started,
      workMs: work === null ? null : round(work, 1),
      reportMs: work === null ? null : round(closed - started - work, 1),
      azureMs:
        round(
          calls.reduce((s, r) => s + r.ms, 0),
          1,
        ) ?? 0,
      azureCalls: calls.length,
    };
    previousClose = closed;
    return a;
  });
  const activityWorkMs = activities.reduce((s, a) => s + (a.workMs ?? 0), 0);
  return {
    runId: run.runId,
    endpointName: run.names.endpointName,
    completed: Boolean(closeEvent?.workflowExecutionCompletedEventAttributes),
    wallMs: endMs - startMs,
    activityWorkMs: round(activityWorkMs, 1) ?? 0,
    azureMs:
      round(
        inRun.reduce((s, r) => s + r.ms, 0),
        1,
      ) ?? 0,
    azureCalls: inRun.length,
    orchestrationMs: round(endMs - startMs - activityWorkMs, 1) ?? 0,
    activities,
  };
}

export interface OverheadBenchOptions {
  runs: number;
  smoke: boolean;
  /** Use this stack (the smoke test passes the test suite's; its emulator clock is set to zero meanwhile). */
  target?: Omit<OverheadTarget, 'logDir'>;
  log?: (line: string) => void;
  out?: (text: string) => void;
}

export async function runOverheadBench(opts: OverheadBenchOptions): Promise<OverheadBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[overhead] ${line}\n`));
  const out = opts.out ?? ((text: string) => process.stdout.write(text));
  let stack: RunningStack | undefined;
  let target: OverheadTarget;
  let restoreClock: Record<string, unknown> | undefined;
  if (opts.target) {
    target = { ...opts.target, logDir: path.join(PROJECT_ROOT, '.data', 'bench-overhead', 'logs') };
    restoreClock = await emulatorAdmin.clock(target.emulatorUrl);
    await emulatorAdmin.setClock(target.emulatorUrl, ZERO_CLOCK);
  } else {
    stack = await startStack({
      dataDir: path.join(PROJECT_ROOT, '.data', 'bench-overhead'),
      components: ['temporal', 'azurite', 'emulator'],
      ports: { temporal: 0, temporalUi: 0, azurite: 0, emulator: 0 },
      temporal: { headless: true, inMemory: true },
      azurite: { inMemory: true },
      emulator: {
        stateFile: false,
        extraArgs: [
          '--job-phase-ms',
          '0',
          '--provision-ms',
          '0',
          '--delete-ms',
          '0',
          '--cancel-ms',
          '0',
          '--retry-after',
          '0',
        ],
      },
      stackFile: false,
      log: (line) => process.stderr.write(`[stack] ${line}\n`),
    });
    if (!stack.urls.temporalAddress || !stack.urls.emulator) throw new Error('the stack did not report its addresses');
    target = {
      temporalAddress: stack.urls.temporalAddress,
      namespace: stack.namespace,
      emulatorUrl: stack.urls.emulator,
      workerEnv: stackEnv(stack),
      logDir: path.join(stack.dataDir, 'logs'),
    };
  }
  const taskQueue = `bench-overhead-${Date.now().toString(36)}`;
  const logFile = path.join(target.logDir, 'worker-overhead.log');
  const worker = await startBenchWorker(
    {
      ...process.env,
      ...target.workerEnv,
      FTFLOW_TASK_QUEUE: taskQueue,
      FTFLOW_LOG_LEVEL: 'INFO',
      FTFLOW_LOG_FORMAT: 'json',
      ...WORKER_TUNING,
    },
    logFile,
  );
  const connection = await Connection.connect({ address: target.temporalAddress });
  const temporal = new Client({ connection, namespace: target.namespace });
  const client = await FineTuneClient.connect({ client: temporal, taskQueue });
  const perRun: (RunOverhead & { completed: boolean; endpointName: string })[] = [];
  try {
    // A warm-up run first (module loading, token cache, first compute and blob): not counted.
    const warmup = opts.smoke ? 0 : 1;
    for (let i = -warmup; i < opts.runs; i++) {
      const r = await measureRun(client, temporal, target, logFile, `${taskQueue}-${i + warmup}`);
      log(
        `${i < 0 ? 'warm-up' : `run ${i + 1}/${opts.runs}`}: wall ${r.wallMs} ms, activity work ${r.activityWorkMs} ms, Azure ${r.azureMs} ms (${r.azureCalls} calls)`,
      );
      if (i >= 0) perRun.push(r);
    }
  } finally {
    await worker.stop();
    await connection.close();
    if (restoreClock) await emulatorAdmin.setClock(target.emulatorUrl, restoreClock);
  }
  const resources = await emulatorAdmin.resources(target.emulatorUrl);
  await stack?.stop();
  const names = new Set(perRun.map((r) => r.endpointName));
  const endpointsLeft = resources.endpoints.filter((e) => names.has(e.name) && e.state !== 'Gone').length;

  const med = (f: (r: RunOverhead) => number) => round(median(perRun.map(f)), 1);
  const types = [...new Set(perRun.flatMap((r) => r.activities.map((a) => a.activityType)))];
  const perActivityMedian: OverheadBenchResult['perActivityMedian'] = {};
  for (const type of types) {
    const all = perRun.flatMap((r) => r.activities.filter((a) => a.activityType === type));
    const m = (f: (a: ActivityOverhead) => number | null) =>
      round(median(all.map(f).filter((v): v is number => v !== null)), 1) ?? 0;
    perActivityMedian[type] = {
      scheduleGapMs: m((a) => a.scheduleGapMs),
      dispatchMs: m((a) => a.dispatchMs),
      startedToClosedMs: m((a) => a.startedToClosedMs),
      workMs: m((a) => a.workMs),
      reportMs: m((a) => a.reportMs),
      azureMs: m((a) => a.azureMs),
      azureCalls: m((a) => a.azureCalls),
    };
  }
  const wall = med((r) => r.wallMs);
  const orchestration = med((r) => r.orchestrationMs);
  const azure = med((r) => r.azureMs);
  const summary = {
    wallMs: wall,
    activityWorkMs: med((r) => r.activityWorkMs),
    azureMs: azure,
    orchestrationMs: orchestration,
    orchestrationShare: wall && orchestration !== null ? round(orchestration / wall, 3) : null,
    azureShare: wall && azure !== null ? round(azure / wall, 3) : null,
  };

  out(
    `overhead: one run at a time, zero emulator latency, median of ${perRun.length} run(s)${opts.smoke ? ' (SMOKE)' : ''}\n`,
  );
  out(`machine: ${describeMachine()}\n`);
  out(
    formatTable(
      ['per run', 'ms (median)'],
      [
        ['workflow wall time', summary.wallMs],
        ["activities' own work (sum)", summary.activityWorkMs],
        ['Azure calls, emulator-side (sum)', summary.azureMs],
        ['orchestration = wall - own work', summary.orchestrationMs],
        ['orchestration share of wall', summary.orchestrationShare],
        ['Azure share of wall', summary.azureShare],
      ],
    ) + '\n\n',
  );
  out(
    formatTable(
      [
        'activity',
        'gap before ms',
        'sched→start ms',
        'start→close ms',
        'own work ms',
        'report ms',
        'Azure ms',
        'Azure calls',
      ],
      types.map((t) => {
        const a = perActivityMedian[t];
        return [t, a.scheduleGapMs, a.dispatchMs, a.startedToClosedMs, a.workMs, a.reportMs, a.azureMs, a.azureCalls];
      }),
    ) + '\n',
  );
  return reportResult(
    'overhead',
    opts.smoke,
    {
      runs: perRun.length,
      runsCompleted: perRun.filter((r) => r.completed).length,
      endpointsLeft,
      median: summary,
      perActivityMedian,
      perRun: perRun.map(({ completed: _c, endpointName: _e, ...r }) => r),
    },
    out,
  );
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['runs']);
  await runOverheadBench({ smoke: args.smoke, runs: args.smoke ? 1 : numberArg(args, 'runs', 5) });
}

if (require.main === module) runBench('overhead', main);
