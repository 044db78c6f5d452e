// A node child of a bench whose first stdout line is its JSON result (stderr passes through).
import { spawn } from 'node:child_process';

export interface JsonChild<T> {
  pid: number;
  result: Promise<T>;
  /** SIGTERM, then waits for the exit. */
  kill(): Promise<void>;
}

/**
 * `env`: variables added to this process's environment for the child.
 * `ownSession`: the child gets a session of its own (as the local stack's Azurite does), so that with
 * the kernel's autogroup scheduling its CPU is not taken from the share of the bench's other children.
 */
export function runJsonChild<T>(
  script: string,
  args: string[],
  nodeArgs: string[] = [],
  opts: { ownSession?: boolean; env?: Readonly<Record<string, string>> } = {},
): JsonChild<T> {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: opts.ownSession === true,
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  if (opts.ownSession) {
    // outside the bench's process group, so a signal to the bench does not reach it: stop it on exit
    const stop = (): void => void (child.exitCode === null && child.signalCode === null && child.kill('SIGTERM'));
    process.once('exit', stop);
    child.once('exit', () => process.off('exit', stop));
  }
  const result = new Promise<T>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)) as T);
    });
    child.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before reporting`)));
  });
  result.catch(() => undefined);
  return {
    pid: child.pid as number,
    result,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
