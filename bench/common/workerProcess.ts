// A worker process (node dist/worker.js) started by a bench, so its pid can be sampled in /proc and
// its environment chosen per measurement. Output goes to a log file; WORKER_READY marks it polling.
import { localWorkerProcessEnv, WORKER_ENTRY } from '../../devstack/stack/paths';
import { startLoggedProcess } from './childProcess';

export interface BenchWorker {
  pid: number;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export async function startBenchWorker(
  env: NodeJS.ProcessEnv,
  logFile: string,
  readyTimeoutMs = 90_000,
): Promise<BenchWorker> {
  const worker = await startLoggedProcess({
    name: 'the worker',
    entry: WORKER_ENTRY,
    // As the image and the local stack start workers; `env` may override it.
    env: { ...localWorkerProcessEnv(), ...env },
    logFile,
    readyLine: /\bWORKER_READY\b/,
    readyTimeoutMs,
  });
  return { pid: worker.pid, logFile, stop: (graceMs = 15_000) => worker.stop(graceMs) };
}
