// A product process (the worker, the API) started by a bench from dist/: its output goes to a log file, a
// line of the log says when it is ready, and it never outlives the bench.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LoggedProcess {
  pid: number;
  logFile: string;
  /** The ready line's match (its groups carry what the process announced, e.g. its URL). */
  ready: RegExpExecArray;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs: number): Promise<void>;
}

export interface LoggedProcessOptions {
  /** What it is, for errors ("the worker"). */
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Matched against the whole log until it matches. */
  readyLine: RegExp;
  readyTimeoutMs: number;
}

export async function startLoggedProcess(opts: LoggedProcessOptions): Promise<LoggedProcess> {
  const { name, entry, logFile, readyTimeoutMs } = opts;
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(process.execPath, [entry], { env: opts.env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  // If the bench exits without stopping it (an error, Ctrl-C handled by a stack's signal handler, jest's
  // forceExit), it is killed on the way out.
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
      throw new Error(`${name} exited before it was ready; see ${logFile}`);
    const ready = opts.readyLine.exec(fs.readFileSync(logFile, 'utf8'));
    if (ready) {
      return {
        pid,
        logFile,
        ready,
        async stop(graceMs) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        },
      };
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready after ${readyTimeoutMs} ms; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
