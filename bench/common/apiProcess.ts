// An API process (node dist/api/main.js) started by a bench: the Event Grid receiver of the push mode.
// Output goes to a log file; API_READY <url> marks it listening.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';

export const API_ENTRY = path.join(PROJECT_ROOT, 'dist', 'api', 'main.js');

export interface BenchApi {
  pid: number;
  url: string;
  logFile: string;
  stop(graceMs?: number): Promise<void>;
}

export async function startBenchApi(
  env: NodeJS.ProcessEnv,
  logFile: string,
  readyTimeoutMs = 60_000,
): Promise<BenchApi> {
  if (!fs.existsSync(API_ENTRY)) throw new Error(`${API_ENTRY} is missing: run \`npm run build\` first`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(process.execPath, [API_ENTRY], { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error('the API did not start');
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.removeListener('exit', killOnExit);
      resolve();
    }),
  );
  const deadline = Date.now() + readyTimeoutMs;
  let url: string | undefined;
  while (!url) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the API exited before it was ready; see ${logFile}`);
    url = /\bAPI_READY (\S+)/.exec(fs.readFileSync(logFile, 'utf8'))?.[1];
    if (url) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the API was not ready after ${readyTimeoutMs} ms; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    pid,
    url,
    logFile,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
