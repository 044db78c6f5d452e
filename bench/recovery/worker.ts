// A worker process (node dist/worker.js) the recovery bench can SIGKILL and start again: resolves once
// it prints WORKER_READY. (Bench code does not import test/: this is the bench's own small copy.)
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT, WORKER_READY_LINE } from '../../devstack/stack';

export const WORKER_ENTRY = join(PROJECT_ROOT, 'dist', 'worker.js');

export interface BenchWorker {
  child: ChildProcess;
  /** Date.now() when the process was spawned, and when it printed WORKER_READY. */
  spawnedAt: number;
  readyAt: number;
  /** Temporal's identity of this worker (`<pid>@<host>`, the SDK default) starts with this. */
  identityPrefix: string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startWorker(env: Record<string, string>, readyTimeoutMs = 60_000): Promise<BenchWorker> {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [WORKER_ENTRY], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<number>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      let carry = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (carry + chunk.toString('utf8')).split('\n');
        carry = lines.pop() ?? '';
        for (const line of lines) {
          tail.push(line);
          if (tail.length > 30) tail.shift();
          if (WORKER_READY_LINE.test(line)) resolve(Date.now());
        }
      });
    }
    void exited.then(() => reject(new Error(`worker exited before it was ready:\n${tail.join('\n')}`)));
    setTimeout(
      () => reject(new Error(`worker not ready after ${readyTimeoutMs} ms:\n${tail.join('\n')}`)),
      readyTimeoutMs,
    ).unref();
  });
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    const readyAt = await ready;
    return { child, spawnedAt, readyAt, identityPrefix: `${child.pid}@`, kill };
  } catch (err) {
    await kill('SIGKILL');
    throw err;
  }
}
