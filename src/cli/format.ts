// Text for people: one run as lines, lists as aligned tables, durations as 1m05s.
import type { RunRecord, RunSummary } from '../control/records';
import type { DatasetSplitRecord, RunResult } from '../control/runResult';
import type { RunEvent } from '../control/events';
import type { StepState } from '../workflows/definitions';
import { costLines } from './plan';
import { metricsLine as entryLine, shortDuration, type LiveTraining } from '../azure/liveTraining';
import { sparkline } from './chart';

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

function num(v: number): string {
  return Math.abs(v) < 0.001 && v !== 0 ? v.toExponential(2) : Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/** "step 120/900  epoch 0.13/1  train_loss 1.4200  eval_loss 1.5100  lr 4.90e-6  ETA 12m 30s  GPU 4m 10s" */
export function trainingLine(t: LiveTraining): string | undefined {
  const parts: string[] = [];
  if (t.step !== undefined) parts.push(`step ${t.step}${t.totalSteps !== undefined ? `/${t.totalSteps}` : ''}`);
  if (t.epoch !== undefined)
    parts.push(
      `epoch ${String(Math.round(t.epoch * 100) / 100)}${t.totalEpochs !== undefined ? `/${t.totalEpochs}` : ''}`,
    );
  if (t.trainLoss !== undefined) parts.push(`train_loss ${num(t.trainLoss)}`);
  if (t.evalLoss !== undefined) parts.push(`eval_loss ${num(t.evalLoss)}`);
  if (t.learningRate !== undefined) parts.push(`lr ${num(t.learningRate)}`);
  if (t.etaSeconds !== undefined) parts.push(`ETA ${shortDuration(t.etaSeconds)}`);
  if (t.gpuSeconds !== undefined) parts.push(`GPU time ${shortDuration(t.gpuSeconds)}`);
  return parts.length > 0 ? `training ${parts.join('  ')}` : undefined;
}

/** The Azure job's lines: status (and since when), the studio link, the live training figures. */
export function jobLines(run: RunRecord, now = Date.now()): string[] {
  const lines: string[] = [];
  if (run.jobStatus) {
    const since =
      run.jobStatusSince && run.status === 'running' ? ` for ${duration(now - Date.parse(run.jobStatusSince))}` : '';
    lines.push(`job ${run.jobName ?? ''} ${run.jobStatus}${since}`.replace(/\s+/g, ' '));
  }
  if (run.studioUrl) lines.push(`studio ${run.studioUrl}`);
  const training = run.training ? trainingLine(run.training) : undefined;
  if (training) lines.push(training);
  const losses = (run.metricsLog ?? []).map((e) => e.trainLoss).filter((v): v is number => v !== undefined);
  if (losses.length > 1) lines.push(`loss ${sparkline(losses, 40)}  (${losses.length} points)`);
  return lines;
}

/** The bounded `metrics` entries as lines: "step 120/900: train_loss 1.42". */
export { entryLine };

/** The whole record, as `status` prints it and the live display draws it. */
export function recordLines(run: RunRecord, now = Date.now()): string[] {
  const lines = [headline(run, now)];
  for (const step of run.steps) lines.push(stepLine(step, now));
  if (!run.progressAvailable) lines.push('  (no worker answered: step details unavailable)');
  lines.push(...jobLines(run, now));
  const metrics = metricsLine(run.metrics);
  if (metrics) lines.push(metrics);
  lines.push(...costLines(run.cost));
  for (const w of run.warnings) lines.push(`warning ${w}`);
  if (run.error) lines.push(`error ${run.error}`);
  return lines;
}

function gateCheck(c: RunResult['qualityGate']['checks'][number]): string {
  const bounds = [
    c.bound.min !== undefined ? `>= ${c.bound.min}` : '',
    c.bound.max !== undefined ? `<= ${c.bound.max}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return c.reason ?? `${c.metric} ${c.value ?? 'n/a'} ${bounds}`.trim();
}

function splitLine(s: DatasetSplitRecord): string {
  const invalid = s.invalidRows > 0 ? `, ${s.invalidRows} invalid skipped` : '';
  return `  ${s.split.padEnd(8)} ${s.uri}  ${s.rows} rows${invalid}  sha256 ${s.sha256}`;
}

/** A succeeded run's record as `ftflow result` prints it (--json prints the record itself). */
export function resultLines(r: RunResult): string[] {
  const metrics = metricsLine(r.metrics);
  const gate = r.qualityGate.checks.length
    ? `quality gate ${r.qualityGate.passed ? 'passed' : 'failed'}: ${r.qualityGate.checks.map(gateCheck).join(', ')}`
    : undefined;
  return [
    `${r.id}  ${r.status}${r.finishedAt ? `  finished ${r.finishedAt}` : ''}`,
    `registered model ${r.registeredModel.name} version ${r.registeredModel.version}`,
    `  id ${r.registeredModel.id}`,
    `base model ${r.baseModel.registry}/${r.baseModel.name} v${r.baseModel.version}`,
    `dataset ${r.dataset.source ?? ''} revision ${r.dataset.revision}`.replace(/\s+/g, ' '),
    splitLine(r.dataset.train),
    splitLine(r.dataset.test),
    splitLine(r.dataset.scoring),
    `compute ${r.compute.name} ${r.compute.vmSize} × ${r.compute.gpusPerNode} GPU`,
    `job ${r.job.name} ${r.job.status}  ${r.job.displayName}`,
    ...(r.job.studioUrl ? [`studio ${r.job.studioUrl}`] : []),
    ...(metrics ? [metrics] : []),
    ...(gate ? [gate] : []),
    `endpoint ${r.endpoint.name}${r.endpoint.instanceType ? ` on ${r.endpoint.instanceType}` : ''}  served ${duration(r.endpoint.servedSeconds * 1000)}  ${r.endpoint.deleted ? 'deleted' : 'NOT deleted'}`,
    ...(r.endpoint.scoringUri ? [`scoring URI ${r.endpoint.scoringUri}`] : []),
    `smoke reply ${JSON.stringify(r.smokeScore.reply)} (${r.smokeScore.replyChars} chars in ${r.smokeScore.latencyMs} ms)`,
    ...costLines(r.cost),
    ...r.warnings.map((w) => `warning ${w}`),
    ...r.notes.map((n) => `note ${n}`),
  ];
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
