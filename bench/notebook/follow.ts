// What following 1,000 jobs would take each way. The notebook's figures are measured on one process
// following one job (jobs.stream, as the notebook's cell waits) and on one process following the same
// job from N threads, then extrapolated LINEARLY to 1,000 (nothing here ran 1,000 Python streams). The
// service's are the measured 1,000-run levels of bench:scale (bench/results/scale*.json), cited as they are.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESULTS_DIR, round } from '../common';

export const JOBS = 1000;
/** ARM's read budget per subscription and principal (the emulator's bucket: 250 burst, 25/s). */
export const ARM_READS_PER_SECOND = 25;
/**
 * azure-ai-ml's jobs.stream waits max(2, 60 / (1 + 100 e^(-t/20))) s between polls (t: seconds since the
 * stream started; azure/ai/ml/operations/_job_ops_helper.py, _wait_before_polling, 60 being
 * AZUREML_RUN_POLLING_INTERVAL_MAX): 2 s at first, 10 s after a minute, 60 s from about 3 minutes on.
 */
export const STREAM_POLL_SECONDS_MAX = 60;

/** Requests one stream (or N threads' streams) made while the job was Running, and what they cost. */
export interface StreamFigures {
  streams: number;
  /** The part of the job's Running phase the stream(s) followed, seconds. */
  windowSeconds: number;
  requests: { arm: number; runHistory: number; blob: number; cloudMetadata: number; other: number };
  /** RunHistory run-details reads: one per poll cycle of each stream. */
  pollCycles: number;
  cpuSeconds: number | null;
  rssBeforeMiB: number | null;
  rssPeakMiB: number | null;
  /**
   * ARM requests per stream over its whole life (null when not measured): at its start it reads the job,
   * the workspace and the artifact datastore and lists the datastore's secrets; the notebook's cell reads
   * the job once more after it.
   */
  armRequestsPerStream: number | null;
}

export interface PerJobRates {
  armReadsPerSecond: number | null;
  runHistoryPerSecond: number | null;
  blobPerSecond: number | null;
  /** Client requests per poll cycle (RunHistory + Blob + ARM; cloud metadata left out). */
  requestsPerPollCycle: number | null;
  cpuCores: number | null;
}

export function perJobRates(f: StreamFigures): PerJobRates {
  const per = (n: number) => (f.windowSeconds > 0 ? n / f.windowSeconds / f.streams : null);
  return {
    armReadsPerSecond: per(f.requests.arm),
    runHistoryPerSecond: per(f.requests.runHistory),
    blobPerSecond: per(f.requests.blob),
    requestsPerPollCycle:
      f.pollCycles > 0 ? (f.requests.arm + f.requests.runHistory + f.requests.blob) / f.pollCycles : null,
    cpuCores: f.cpuSeconds !== null ? per(f.cpuSeconds) : null,
  };
}

export interface NotebookAtScale {
  how: string;
  processes: number;
  threads: number;
  memoryGiB: number | null;
  /** While the jobs run, at the rate measured over the bench's job (the stream polls fast at first). */
  armReadsPerSecond: number | null;
  armBudgetShare: number | null;
  /** ARM requests per job outside the wait: at the stream's start (and the cell's jobs.get after it). */
  armRequestsPerJob: number | null;
  otherReadsPerSecond: number | null;
  /** Once every stream polls at its slowest (60 s), jobs of hours: requests per cycle × 1,000 / 60. */
  steadyReadsPerSecond: number | null;
  cpuCores: number | null;
  /** CPU at the steady rate: the measured CPU per request × steadyReadsPerSecond. */
  steadyCpuCores: number | null;
  basis: string;
  /** What the extrapolation runs into, when it does. */
  limit?: string;
}

const gib = (mib: number | null) => (mib === null ? null : round(mib / 1024, 1));
const times = (x: number | null, n = JOBS) => (x === null ? null : round(x * n, 1));

export function notebookAtScale(
  one: StreamFigures,
  threads: StreamFigures | null,
): { kernelPerJob: NotebookAtScale; threadsInOneProcess: NotebookAtScale | null } {
  const r1 = perJobRates(one);
  const steady = (r: PerJobRates) =>
    r.requestsPerPollCycle === null ? null : round((r.requestsPerPollCycle * JOBS) / STREAM_POLL_SECONDS_MAX, 1);
  const steadyCpu = (r: PerJobRates) => {
    const rate = (r.armReadsPerSecond ?? 0) + (r.runHistoryPerSecond ?? 0) + (r.blobPerSecond ?? 0);
    const s = steady(r);
    return r.cpuCores === null || s === null || rate === 0 ? null : round((r.cpuCores / rate) * s, 2);
  };
  const armShare = (x: number | null) => (x === null ? null : round(x / ARM_READS_PER_SECOND, 3));
  const kernelPerJob: NotebookAtScale = {
    how: 'one kernel (process) per job, each streaming its job',
    processes: JOBS,
    threads: 1,
    memoryGiB: gib(one.rssPeakMiB === null ? null : one.rssPeakMiB * JOBS),
    armReadsPerSecond: times(r1.armReadsPerSecond),
    armBudgetShare: armShare(times(r1.armReadsPerSecond)),
    armRequestsPerJob: one.armRequestsPerStream,
    otherReadsPerSecond: times(
      r1.runHistoryPerSecond === null || r1.blobPerSecond === null ? null : r1.runHistoryPerSecond + r1.blobPerSecond,
    ),
    steadyReadsPerSecond: steady(r1),
    cpuCores: times(r1.cpuCores),
    steadyCpuCores: steadyCpu(r1),
    basis: `1 process measured following 1 job (RSS at its highest while streaming), × ${JOBS}, linear`,
  };
  if (!threads) return { kernelPerJob, threadsInOneProcess: null };
  const rt = perJobRates(threads);
  const perThreadMiB =
    threads.rssPeakMiB !== null && threads.rssBeforeMiB !== null
      ? (threads.rssPeakMiB - threads.rssBeforeMiB) / threads.streams
      : null;
  const threadCores = times(rt.cpuCores);
  return {
    kernelPerJob,
    threadsInOneProcess: {
      ...(threadCores !== null && threadCores > 1
        ? {
            limit:
              `needs ${threadCores} cores of Python while the streams poll fast (their first minutes): one process runs ` +
              `Python code on one core at a time (the GIL), so it would fall behind its polls until they slow down`,
          }
        : {}),
      how: `one process, ${JOBS} threads each streaming a job`,
      processes: 1,
      threads: JOBS,
      memoryGiB:
        perThreadMiB === null || threads.rssBeforeMiB === null
          ? null
          : gib(threads.rssBeforeMiB + Math.max(0, perThreadMiB) * JOBS),
      armReadsPerSecond: times(rt.armReadsPerSecond),
      armBudgetShare: armShare(times(rt.armReadsPerSecond)),
      armRequestsPerJob: threads.armRequestsPerStream,
      otherReadsPerSecond: times(
        rt.runHistoryPerSecond === null || rt.blobPerSecond === null ? null : rt.runHistoryPerSecond + rt.blobPerSecond,
      ),
      steadyReadsPerSecond: steady(rt),
      cpuCores: threadCores,
      steadyCpuCores: steadyCpu(rt),
      basis:
        `1 process measured with ${threads.streams} threads streaming (RSS before them, and at its highest with them): ` +
        `before + ${JOBS} × per-thread growth, linear; CPU and requests per thread × ${JOBS}`,
    },
  };
}

/** The service at 1,000 runs, as bench:scale measured it (a level of a committed result file). */
export interface ServiceAtScale {
  source: string;
  at: string;
  jobSeconds: number;
  processes: string;
  workerPeakRssMiB: number;
  workerCpuAvgPercent: number;
  armReadsPerSecondPeak60s: number | null;
  armReadsPerSecondWhileWaiting: number | null;
  armThrottled: number;
  noticeDelaySeconds: { p50: number | null; p95: number | null; max: number | null };
}

interface ScaleLevel {
  runs: number;
  worker: { peakRssMiB: number; avgCpuPercent: number };
  arm: { peakReadsPerSecond60s: number | null; readsPerSecondWhileWaiting: number | null; throttled: number };
  noticeDelaySeconds: { p50: number | null; p95: number | null; max: number | null };
}

export function serviceAtScale(file: string): ServiceAtScale | null {
  const full = path.join(RESULTS_DIR, file);
  if (!fs.existsSync(full)) return null;
  const doc = JSON.parse(fs.readFileSync(full, 'utf8')) as { at: string; jobSeconds: number; levels: ScaleLevel[] };
  const level = doc.levels.find((l) => l.runs === JOBS);
  if (!level) return null;
  return {
    source: `bench/results/${file}`,
    at: doc.at,
    jobSeconds: doc.jobSeconds,
    processes: '1 worker process (and the Temporal service)',
    workerPeakRssMiB: level.worker.peakRssMiB,
    workerCpuAvgPercent: level.worker.avgCpuPercent,
    armReadsPerSecondPeak60s: level.arm.peakReadsPerSecond60s,
    armReadsPerSecondWhileWaiting: level.arm.readsPerSecondWhileWaiting,
    armThrottled: level.arm.throttled,
    noticeDelaySeconds: level.noticeDelaySeconds,
  };
}
