// The notebook's side: bench/notebook/notebook_bench.py run by the conformance venv's Python (azure-ai-ml
// as pinned in devstack/conformance/requirements.txt), one process per run as one kernel per notebook,
// sampled in /proc while it runs.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';
import { ProcSampler, type ProcSummary } from '../common';

export const VENV_PYTHON = path.join(PROJECT_ROOT, '.tools', 'conformance-venv', 'bin', 'python');
const DRIVER = path.join(PROJECT_ROOT, 'bench', 'notebook', 'notebook_bench.py');
const NOTEBOOK_FLOW_DIR = path.join(PROJECT_ROOT, 'devstack', 'conformance');

/** The azure-ai-ml version the conformance venv pins (devstack/conformance/requirements.txt). */
export function pinnedAzureAiMl(): string {
  const pins = fs.readFileSync(path.join(NOTEBOOK_FLOW_DIR, 'requirements.txt'), 'utf8');
  return /^azure-ai-ml==(\S+)$/m.exec(pins)?.[1] ?? 'unknown';
}

export interface MemoryFigures {
  rssMiB: number;
  hwmMiB: number;
}

export type DriverLine =
  | ({ event: 'started'; atMs: number; startedMs: number } & MemoryFigures)
  | ({ event: 'imported'; atMs: number; seconds: number; cpuSeconds: number } & MemoryFigures)
  | ({
      event: 'step';
      atMs: number;
      step: string;
      ok: boolean;
      startMs: number;
      endMs: number;
      detail?: string;
      error?: string;
      trace?: string;
    } & MemoryFigures)
  | {
      event: 'streams';
      atMs: number;
      threads: number;
      jobName: string;
      startMs: number;
      endMs: number;
      before: MemoryFigures & { cpuSeconds: number };
      after: MemoryFigures & { cpuSeconds: number };
      errors: string[];
    }
  | ({ event: 'done'; atMs: number; jobName: string; endpointName?: string; cpuSeconds: number } & MemoryFigures);

export interface PythonRun {
  pid: number;
  exitCode: number | null;
  spawnedAtMs: number;
  exitedAtMs: number;
  lines: DriverLine[];
  proc: ProcSummary;
  /** The sampler, still holding its samples (for figures over a window of the run). */
  sampler: ProcSampler;
  stderrFile: string;
}

export interface PythonRunOptions {
  /** ['flow'] or ['streams', N]. */
  args: string[];
  env: NodeJS.ProcessEnv;
  workdir: string;
  stderrFile: string;
  sampleMs: number;
  timeoutMs: number;
}

export async function runNotebookPython(opts: PythonRunOptions): Promise<PythonRun> {
  if (!fs.existsSync(VENV_PYTHON))
    throw new Error(`${VENV_PYTHON} is missing: \`make setup\` creates it (devstack/conformance/requirements.txt)`);
  fs.mkdirSync(opts.workdir, { recursive: true });
  fs.mkdirSync(path.dirname(opts.stderrFile), { recursive: true });
  const err = fs.openSync(opts.stderrFile, 'w');
  const spawnedAtMs = Date.now();
  const child = spawn(VENV_PYTHON, [DRIVER, ...opts.args], {
    cwd: opts.workdir,
    env: {
      ...opts.env,
      FTFLOW_NOTEBOOK_FLOW_DIR: NOTEBOOK_FLOW_DIR,
      FTFLOW_CONFORMANCE_WORKDIR: opts.workdir,
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
    },
    stdio: ['ignore', 'pipe', err],
  });
  fs.closeSync(err);
  const pid = child.pid;
  const stdout = child.stdout;
  if (pid === undefined || !stdout) throw new Error(`${VENV_PYTHON} did not start`);
  const sampler = new ProcSampler(pid, opts.sampleMs);
  const lines: DriverLine[] = [];
  let buffered = '';
  stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('{"event"')) lines.push(JSON.parse(line) as DriverLine);
    }
  });
  // The last sample is taken before the process is reaped (exit, not close: /proc/<pid> is gone once reaped).
  let proc: ProcSummary | undefined;
  const exitCode = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    stdout.once('end', () => (proc ??= sampler.stop()));
  });
  proc ??= sampler.stop();
  return { pid, exitCode, spawnedAtMs, exitedAtMs: Date.now(), lines, proc, sampler, stderrFile: opts.stderrFile };
}

export function stepLines(run: PythonRun): Extract<DriverLine, { event: 'step' }>[] {
  return run.lines.filter((l): l is Extract<DriverLine, { event: 'step' }> => l.event === 'step');
}

export function lineOf<E extends DriverLine['event']>(
  run: PythonRun,
  event: E,
): Extract<DriverLine, { event: E }> | undefined {
  return run.lines.find((l): l is Extract<DriverLine, { event: E }> => l.event === event);
}
