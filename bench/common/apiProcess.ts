// An API process (node dist/api/main.js) started by a bench: the Event Grid receiver of the push mode.
// Output goes to a log file; API_READY <url> marks it listening.
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';
import { startLoggedProcess } from './childProcess';

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
  const api = await startLoggedProcess({
    name: 'the API',
    entry: API_ENTRY,
    env,
    logFile,
    readyLine: /\bAPI_READY (\S+)/,
    readyTimeoutMs,
  });
  return { pid: api.pid, url: api.ready[1] ?? '', logFile, stop: (graceMs = 10_000) => api.stop(graceMs) };
}
