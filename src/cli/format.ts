// Text for people: one run as lines, lists as aligned tables, durations as 1m05s.
import type { RunRecord, RunSummary } from '../control/records';
import type { RunEvent } from '../control/events';
import type { StepState } from '../workflows/definitions';
import { costLines } from './plan';

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function elapsedOf(run: Pick<RunSummary, 'createdAt' | 'finishedAt'>, now = Date.now()): string {
  return duration((run.finishedAt ? Date.parse(run.finishedAt) : now) - Date.parse(run.createdAt));
}

const MARK: Record<StepState['status'], string> = {
  pending: '·',
  running: '▶',
  completed: '✓',
  failed: '✗',
  cancelled: '✗',
  skipped: '-',
};

export function stepLine(step: StepState, now = Date.now()): string {
  const took = step.startedAt
    ? duration((step.endedAt ? Date.parse(step.endedAt) : now) - Date.parse(step.startedAt))
    : '';
  return `  ${MARK[step.status]} ${step.name.padEnd(16)} ${took.padStart(6)}  ${step.detail ?? (step.status === 'running' ? 'running' : '')}`.trimEnd();
}

export function metricsLine(metrics: Record<string, number> | undefined): string | undefined {
  const entries = Object.entries(metrics ?? {});
  if (entries.length === 0) return undefined;
  return `metrics ${entries.map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`).join(' ')}`;
}

export function headline(run: RunRecord, now = Date.now()): string {
  const outcome = run.outcome && run.outcome !== run.status ? ` (${run.outcome})` : '';
  const job = run.jobName ? `  job ${run.jobName}${run.jobStatus ? ` ${run.jobStatus}` : ''}` : '';
  return `${run.id}  ${run.status}${outcome}  ${elapsedOf(run, now)}${run.currentStep && run.status === 'running' ? `  at ${run.currentStep}` : ''}${job}`;
}

/** The whole record, as `status` prints it and the live display draws it. */
export function recordLines(run: RunRecord, now = Date.now()): string[] {
  const lines = [headline(run, now)];
  for (const step of run.steps) lines.push(stepLine(step, now));
  if (!run.progressAvailable) lines.push('  (no worker answered: step details unavailable)');
  const metrics = metricsLine(run.metrics);
  if (metrics) lines.push(metrics);
  lines.push(...costLines(run.cost));
  for (const w of run.warnings) lines.push(`warning ${w}`);
  if (run.error) lines.push(`error ${run.error}`);
  return lines;
}

export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export function runRows(runs: RunSummary[]): string[] {
  return table(
    ['ID', 'STATUS', 'STAGE', 'MODEL', 'DATASET', 'CREATED', 'ELAPSED'],
    runs.map((r) => [
      r.id,
      r.outcome && r.outcome !== r.status ? `${r.status}:${r.outcome}` : r.status,
      r.stage ?? '',
      r.model ?? '',
      r.dataset ?? '',
      r.createdAt,
      elapsedOf(r),
    ]),
  );
}

export function eventLine(e: RunEvent): string {
  return `${e.createdAt}  ${e.level.padEnd(5)}  ${e.message}  [${e.id}]`;
}
