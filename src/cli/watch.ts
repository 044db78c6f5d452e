// Follows a run until it ends. On a terminal the record is redrawn in place (current step, job status,
// elapsed time, Azure's job status, step of total, loss, ETA, metrics as they arrive); otherwise each change is printed once, as a timestamped line.
import type { FineTuneClient } from '../client';
import type { RunRecord } from '../control/records';
import type { CliIO } from './io';
import { entryLine, headline, metricsLine, recordLines, stepLine } from './format';

export interface WatchOptions {
  intervalMs?: number;
  /** Give up after this long (the run goes on). */
  timeoutMs?: number;
}

export async function watchRun(
  client: FineTuneClient,
  runId: string,
  io: CliIO,
  opts: WatchOptions = {},
): Promise<RunRecord> {
  const interval = opts.intervalMs ?? 1000;
  const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : undefined;
  const live = io.isTTY && !io.json;
  const seen = new Map<string, string>();
  let drawn = 0;
  for (;;) {
    const run = await client.get(runId);
    if (io.json) {
      // Scripts get the final record only.
    } else if (live) {
      // Long lines are wrapped here, not by the terminal, so the row count to move up by is exact.
      const width = Math.max(20, (io.columns ?? 120) - 1);
      const lines = recordLines(run).flatMap((l) => wrap(l, width));
      io.write((drawn > 0 ? `\x1b[${drawn}A\r\x1b[J` : '') + lines.join('\n') + '\n');
      drawn = lines.length;
    } else {
      for (const line of changes(run, seen)) io.out(`${new Date().toISOString().slice(11, 19)} ${line}`);
    }
    if (run.status !== 'running') return run;
    if (deadline !== undefined && Date.now() >= deadline) return run;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

function wrap(line: string, width: number): string[] {
  const chars = [...line];
  if (chars.length <= width) return [line];
  const rows: string[] = [];
  for (let i = 0; i < chars.length; i += width) rows.push(chars.slice(i, i + width).join(''));
  return rows;
}

/** What is new since the last look: step transitions, job status, metrics, warnings, the end. */
function changes(run: RunRecord, seen: Map<string, string>): string[] {
  const out: string[] = [];
  const once = (key: string, value: string, line: string) => {
    if (seen.get(key) === value) return;
    seen.set(key, value);
    out.push(line);
  };
  once('run', run.id, `${run.id} ${run.status === 'running' ? 'running' : run.status}`);
  for (const step of run.steps) {
    if (step.status === 'pending' || step.status === 'skipped') continue;
    once(`step:${step.name}`, step.status, stepLine(step).trim());
  }
  if (run.jobStatus) once('job', run.jobStatus, `job ${run.jobName ?? ''} ${run.jobStatus}`);
  if (run.studioUrl) once('studio', run.studioUrl, `studio ${run.studioUrl}`);
  // The bounded entries the follower keeps: each printed once, as it arrives.
  for (const entry of run.metricsLog ?? []) once(`entry:${entry.step}`, 'seen', entryLine(entry));
  const metrics = metricsLine(run.metrics);
  if (metrics) once('metrics', metrics, metrics);
  run.warnings.forEach((w, i) => once(`warning:${i}`, w, `warning ${w}`));
  if (run.status !== 'running') {
    once('end', run.status, `${headline(run)}${run.error ? `: ${run.error}` : ''}`);
  }
  return out;
}
