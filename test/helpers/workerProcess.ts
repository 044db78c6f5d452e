// A real worker process (node dist/worker.js) on the test stack, with its output captured line by line.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { FAST_TUNING } from './localStack';

export const WORKER_ENTRY = path.join(__dirname, '..', '..', 'dist', 'worker.js');

export interface WorkerProcess {
  child: ChildProcess;
  /** Every line the worker wrote, stdout and stderr, in arrival order. */
  lines: { stream: 'stdout' | 'stderr'; text: string }[];
  /** stdout lines parsed as JSON (lines that are not JSON are skipped here; tests check them separately). */
  json(): Record<string, unknown>[];
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts a worker with the test stack's environment plus `env`; resolves once it logged WORKER_READY. */
export async function startWorkerProcess(env: Record<string, string>, readyTimeoutMs = 60_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER_ENTRY], {
    env: { ...process.env, ...FAST_TUNING, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: WorkerProcess['lines'] = [];
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  for (const stream of ['stdout', 'stderr'] as const) {
    let carry = '';
    child[stream]?.on('data', (chunk: Buffer) => {
      const parts = (carry + chunk.toString('utf8')).split('\n');
      carry = parts.pop() ?? '';
      for (const text of parts) {
        lines.push({ stream, text });
        if (/\bWORKER_READY\b/.test(text)) resolveReady();
      }
    });
    child[stream]?.on('end', () => {
      if (carry !== '') lines.push({ stream, text: carry });
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const worker: WorkerProcess = {
    child,
    lines,
    json: () =>
      lines.flatMap((l) => {
        if (l.stream !== 'stdout') return [];
        try {
          return [JSON.parse(l.text) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      exited.then((code) => {
        throw new Error(`worker exited (${code}) before it was ready:\n${lines.map((l) => l.text).join('\n')}`);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`worker not ready after ${readyTimeoutMs} ms:\n${lines.map((l) => l.text).join('\n')}`)),
          readyTimeoutMs,
        );
      }),
    ]);
  } catch (err) {
    await worker.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return worker;
}
