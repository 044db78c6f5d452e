// The service's side: one fineTune run through the client, on a bench worker process (node dist/worker.js,
// default settings unless tuned) that was started before the run and keeps running after it, as a
// service's worker does. Its RSS before the run (idle, warm) and its peak and CPU during the run are
// read from /proc; the Temporal server's CPU and RSS too (the service needs one; a notebook does not).
import { Client, Connection } from '@temporalio/client';
import { FineTuneClient } from '../../src/client';
import { activityTimings, eventTimeMs, ProcSampler, readProc, startBenchWorker, type ProcSummary } from '../common';

export interface ServiceRunOptions {
  temporalAddress: string;
  namespace: string;
  workerEnv: NodeJS.ProcessEnv;
  workerLog: string;
  /** The Temporal server's pid, when the bench started it (sampled during the run). */
  temporalPid?: number;
  sampleMs: number;
  /** Called right before the run starts and right after it ended (request counts, Blob log marks). */
  around: { before: () => Promise<void>; after: () => Promise<void> };
  runKey: string;
}

export interface ServiceRun {
  runId: string;
  jobName: string;
  endpointName: string;
  completed: boolean;
  status: string;
  failure?: string;
  /** Workflow started → closed, from its history (epoch ms). */
  startedMs: number;
  closedMs: number;
  /** awaitPipeline's completion (history), to measure how late the job's end was noticed. */
  awaitPipelineClosedMs: number | null;
  steps: { step: string; startMs: number; endMs: number; attempt: number }[];
  worker: {
    pid: number;
    /** VmRSS after start-up, before the run (MiB). */
    baselineRssMiB: number;
    /** The highest VmRSS sampled during the run (MiB). */
    peakRssDuringMiB: number;
    /** VmHWM at the end: the kernel's peak since the worker started, start-up included (MiB). */
    hwmMiB: number;
    cpuSeconds: number;
  };
  temporalServer: ProcSummary | null;
  /** The worker's samples (figures over a window of the run: the job's Running phase). */
  workerSampler: ProcSampler;
}

/** A settled worker: start-up allocations done and collected before the baseline is read. */
const SETTLE_MS = 3000;

export async function runServiceWay(opts: ServiceRunOptions): Promise<ServiceRun> {
  const worker = await startBenchWorker(opts.workerEnv, opts.workerLog);
  const connection = await Connection.connect({ address: opts.temporalAddress });
  try {
    const temporal = new Client({ connection, namespace: opts.namespace });
    const taskQueue = opts.workerEnv['FTFLOW_TASK_QUEUE'];
    const client = await FineTuneClient.connect({ client: temporal, ...(taskQueue ? { taskQueue } : {}) });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const baselineRssMiB = Math.round(readProc(worker.pid)?.rssMiB ?? 0);

    await opts.around.before();
    const workerSampler = new ProcSampler(worker.pid, opts.sampleMs);
    const serverSampler = opts.temporalPid !== undefined ? new ProcSampler(opts.temporalPid, opts.sampleMs) : undefined;
    // The notebook's defaults (5% of ultrachat_200k, its training settings); the endpoint is deleted right
    // after the smoke score, as the notebook's last cell does.
    const run = await client.start({ deployment: { keepAliveMinutes: 0 } }, { idempotencyKey: opts.runKey });
    let status = 'succeeded';
    let failure: string | undefined;
    await client.result(run.runId).catch((err: unknown) => {
      status = 'failed';
      failure = err instanceof Error ? err.message : String(err);
    });
    const hwmMiB = Math.round(readProc(worker.pid)?.hwmMiB ?? 0);
    const during = workerSampler.stop();
    const temporalServer = serverSampler?.stop() ?? null;
    await opts.around.after();

    const events = (await temporal.workflow.getHandle(run.runId).fetchHistory()).events ?? [];
    const close = events[events.length - 1];
    const timings = activityTimings(events);
    const awaitPipeline = timings.find((t) => t.activityType === 'awaitPipeline');
    return {
      runId: run.runId,
      jobName: run.names.jobName,
      endpointName: run.names.endpointName,
      completed: Boolean(close?.workflowExecutionCompletedEventAttributes),
      status,
      ...(failure ? { failure } : {}),
      startedMs: eventTimeMs(events[0]),
      closedMs: eventTimeMs(close),
      awaitPipelineClosedMs: awaitPipeline?.closedMs ?? null,
      steps: timings.map((t) => ({
        step: t.activityType,
        startMs: t.startedMs ?? t.scheduledMs,
        endMs: t.closedMs ?? NaN,
        attempt: t.attempt,
      })),
      worker: {
        pid: worker.pid,
        baselineRssMiB,
        peakRssDuringMiB: Math.round(Math.max(during.lastRssMiB, workerSampler.between(0, Infinity)?.maxRssMiB ?? 0)),
        hwmMiB,
        cpuSeconds: during.cpuSeconds,
      },
      temporalServer,
      workerSampler,
    };
  } finally {
    await connection.close();
    await worker.stop();
  }
}
