// A worker process (node dist/worker.js) started by a bench, so its pid can be sampled in /proc and
// its environment chosen per measurement. Output goes to a log file; WORKER_READY marks it polling.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WORKER_ENTRY } from '../../devstack/stack/paths';
import { WORKER_PROCESS_ENV } from '../../src/config/workerTuning';

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
  if (!fs.existsSync(WORKER_ENTRY)) throw new Error(`${WORKER_ENTRY} is missing: run \`npm run build\` first`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'w');
  // As the image and the local stack start workers; `env` may override it.
  const child: ChildProcess = spawn(process.execPath, [WORKER_ENTRY], {
    env: { ...WORKER_PROCESS_ENV, ...env },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error('the worker did not start');
  // A worker must not outlive the bench: if the bench exits without stopping it (an error, Ctrl-C handled
  // by a stack's signal handler, jest's forceExit), it is killed on the way out.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.removeListener('exit', killOnExit);
      resolve();
    }),
  );
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the worker exited before it was ready; see ${logFile}`);
    if (/\bWORKER_READY\b/.test(fs.readFileSync(logFile, 'utf8'))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the worker was not ready after ${readyTimeoutMs} ms; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    pid,
    logFile,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
