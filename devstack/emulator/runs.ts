// The runs behind a pipeline job, as RunHistory, MLflow and the job's log see them: the job's own
// (root) run, and one step run per step of its pipeline component (the `jobs` of the registry
// component version: validation, model import, preprocessing, fine-tune, conversion), each on a
// window of the job's compressed clock. The steps before the fine-tune step share Preparing, the
// fine-tune step is the Running phase (the MLflow child run and its metrics), the steps after it
// share Finalizing. A job that fails its data validation fails in the step that reads the file
// (the first steps share Preparing up to it; the rest never start); an injected failure or a cancel
// stops the step it falls in. Everything is a pure function of the job record and "now".
//
// The root run's log, user_logs/std_log.txt in the job's `default` output (the artifact store's
// ExperimentRun/dcid.<job>/), grows with the clock: status changes, each step's start and end, the
// fine-tune step's Trainer lines (the metrics MLflow serves), the failure.
import { stableGuid } from './auth';
import { jobStatusHistory, naturalEnd, phaseStart, progressCutoff, runningWindow, type JobTimeline } from './clock';
import { isoTime, type EmulatorContext } from './context';
import { parseRegistryAssetId } from './assetIds';
import { asObject, asString } from './json';
import { literalInputs, trainingMetrics, type MetricPoint } from './metrics';
import { jobTimeline } from './records';
import type { JobRecord } from './store';
import { registryComponent } from './arm/pipelineValidation';

export function stepRunId(jobName: string, step: string): string {
  return stableGuid(`run:${jobName}:${step}`);
}

export interface StepRun {
  runId: string;
  /** The job's pipeline node and the step of its component. */
  node: string;
  step: string;
  componentId: string;
  /** The cluster the step runs on (its `compute` binding resolved), if any. */
  compute: string | undefined;
  /** The step's window on the job's clock (start may equal end). */
  start: number;
  end: number;
}

export type StepStatus = 'Running' | 'Completed' | 'Failed' | 'CancelRequested' | 'Canceled';

export interface StepState {
  status: StepStatus;
  start: number;
  /** When the step ended (undefined while it runs). */
  end: number | undefined;
}

/** Where the job stopped making progress, and why (undefined: it runs to completion). */
function stopPoint(t: JobTimeline): { at: number; kind: 'failed' | 'canceled' } | undefined {
  if (t.cancelRequestedAt !== undefined && t.cancelRequestedAt < naturalEnd(t))
    return { at: t.cancelRequestedAt, kind: 'canceled' };
  if (t.failAt) return { at: naturalEnd(t), kind: 'failed' };
  return undefined;
}

/** Splits [from, to) into n equal consecutive windows. */
function split(n: number, from: number, to: number): { start: number; end: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    start: from + Math.round(((to - from) * i) / n),
    end: from + Math.round(((to - from) * (i + 1)) / n),
  }));
}

/** The cluster name in a compute reference (name, azureml:name or an ARM id); serverless has none. */
function clusterName(ref: string | undefined): string | undefined {
  const name =
    ref
      ?.replace(/^azureml:/i, '')
      .split('/')
      .pop() ?? '';
  return name === '' || name.toLowerCase() === 'serverless' ? undefined : name;
}

/** The steps of the job's pipeline component(s), in the component's order, with their windows. */
export function jobSteps(ctx: EmulatorContext, job: JobRecord): StepRun[] {
  const t = jobTimeline(job);
  const steps: Omit<StepRun, 'start' | 'end'>[] = [];
  for (const [node, raw] of Object.entries(asObject(job.properties['jobs']) ?? {})) {
    const nodeObject = asObject(raw) ?? {};
    const ref = parseRegistryAssetId(asString(nodeObject['componentId']) ?? '');
    const component = ref ? registryComponent(ctx, ref) : undefined;
    if (!component) continue;
    const given = literalInputs({ jobs: { [node]: nodeObject } });
    const valueOf = (binding: string | undefined): string | undefined => {
      if (binding === undefined) return undefined;
      const input = /^\$\{\{parent\.inputs\.([^}]+)\}\}$/.exec(binding)?.[1];
      if (input === undefined) return binding;
      const fallback = component.componentSpec.inputs[input]?.default;
      return given[input] ?? (fallback !== undefined ? String(fallback) : undefined);
    };
    for (const spec of Object.values(component.componentSpec.jobs)) {
      steps.push({
        runId: stepRunId(job.name, spec.name),
        node,
        step: spec.name,
        componentId: spec.componentId,
        compute: clusterName(valueOf(spec.computeId)),
      });
    }
  }
  if (steps.length === 0) return [];
  const running = runningWindow(t);
  const finetune = steps.findIndex((s) => /finetune/i.test(s.step));
  if (finetune < 0) return place(steps, split(steps.length, running.start, running.end));
  const preparing = { start: phaseStart(t, 'Preparing'), end: phaseStart(t, 'Running') };
  const finalizingStart = phaseStart(t, 'Finalizing');
  const finalizing = { start: finalizingStart, end: finalizingStart + (t.phases[4] ?? 0) };
  const before = steps.slice(0, finetune);
  const after = steps.slice(finetune + 1);
  // A data failure happens in the step that reads the file, at the end of Preparing: the steps up to
  // it share Preparing, the ones after it would start only then (so never do).
  const failing = job.failure?.step !== undefined && !job.failAt ? job.failure.step : undefined;
  const failingIndex = failing ? before.findIndex((s) => `${s.node}/${s.step}` === failing) : -1;
  const sharing = failingIndex >= 0 ? failingIndex + 1 : before.length;
  return place(steps, [
    ...split(sharing, preparing.start, preparing.end),
    ...before.slice(sharing).map(() => ({ start: preparing.end, end: preparing.end })),
    running,
    ...split(after.length, finalizing.start, finalizing.end),
  ]);
}

/** Pairs each step with its window (the lists have the same length). */
function place(
  steps: readonly Omit<StepRun, 'start' | 'end'>[],
  windows: readonly { start: number; end: number }[],
): StepRun[] {
  return steps.map((s, i) => {
    const w = windows[i] ?? { start: 0, end: 0 };
    return { ...s, start: w.start, end: w.end };
  });
}

/** A step's state at `now`, or undefined when it has not started (yet, or ever). */
export function stepState(job: JobRecord, step: StepRun, now: number): StepState | undefined {
  if (now < step.start) return undefined;
  const stop = stopPoint(jobTimeline(job));
  // Steps that would start when (or after) the job stopped never do.
  if (stop && step.start >= stop.at) return undefined;
  if (!stop || step.end < stop.at) {
    return now < step.end
      ? { status: 'Running', start: step.start, end: undefined }
      : { status: 'Completed', start: step.start, end: step.end };
  }
  // The job stopped during this step.
  if (now < stop.at) return { status: 'Running', start: step.start, end: undefined };
  if (stop.kind === 'failed') return { status: 'Failed', start: step.start, end: stop.at };
  const canceledAt = stop.at + job.cancelMs;
  return now < canceledAt
    ? { status: 'CancelRequested', start: step.start, end: undefined }
    : { status: 'Canceled', start: step.start, end: canceledAt };
}

// ---- the root run's log --------------------------------------------------------------------------

/** Python's repr of a float, as the Trainer's log lines print numbers. */
function pyNumber(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const [mantissa = '', expText = '0'] = v.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

interface LogLine {
  at: number;
  /** Order of lines at the same instant: a step's last words, it ends, the status changes, a step
   *  starts, it logs. */
  rank: number;
  text: string;
}

/** The Trainer's log lines: one dict per logging step, per evaluation and at the end of training. */
function trainerLines(points: readonly MetricPoint[], step: string, state: StepState): LogLine[] {
  const lines: LogLine[] = [];
  let group: MetricPoint[] = [];
  const kind = (key: string): string =>
    key === 'epoch'
      ? ''
      : key.startsWith('eval_')
        ? 'eval'
        : key.startsWith('train_') || key === 'total_flos'
          ? 'end'
          : 'train';
  const flush = (): void => {
    const first = group[0];
    if (first) {
      const dict = group.map((p) => `'${p.key}': ${pyNumber(p.value)}`).join(', ');
      // What the Trainer logs as training ends comes before the step ends.
      const last = state.end !== undefined && first.timestamp >= state.end && first.timestamp > state.start;
      lines.push({ at: first.timestamp, rank: last ? -1 : 3, text: `${step}: {${dict}}` });
    }
    group = [];
  };
  for (const p of points) {
    const head = group[0];
    const groupKind = group.map((g) => kind(g.key)).find((k) => k !== '') ?? '';
    if (
      head &&
      (head.timestamp !== p.timestamp ||
        head.step !== p.step ||
        group.some((g) => g.key === p.key) ||
        (kind(p.key) !== '' && groupKind !== '' && kind(p.key) !== groupKind))
    )
      flush();
    group.push(p);
  }
  flush();
  return lines;
}

/** The job's log (user_logs/std_log.txt of its root run) as of `now`. */
export function jobLogText(ctx: EmulatorContext, job: JobRecord, now: number): string {
  const t = jobTimeline(job);
  const lines: LogLine[] = [
    { at: job.createdAt, rank: 1, text: `Pipeline job ${job.name} submitted to experiment '${job.experimentName}'.` },
  ];
  for (const change of jobStatusHistory(t, now)) {
    lines.push({ at: change.at, rank: 1, text: `Job ${job.name}: status ${change.status}` });
    if (change.status === 'Failed' && job.failure)
      lines.push({ at: change.at, rank: 1, text: `Error: ${job.failure.code}: ${job.failure.message}` });
  }
  const cutoff = progressCutoff(t, now);
  for (const step of jobSteps(ctx, job)) {
    const state = stepState(job, step, now);
    if (!state) continue;
    const label = `${step.node}/${step.step}`;
    lines.push({
      at: state.start,
      rank: 2,
      text: `Step ${label} started: component ${step.componentId}, compute ${step.compute ?? 'serverless'}.`,
    });
    if (/finetune/i.test(step.step)) {
      const visible = trainingMetrics(job.name, job.properties, t, job.data).filter((p) => p.timestamp <= cutoff);
      lines.push(...trainerLines(visible, step.step, state));
    }
    if (state.end !== undefined) {
      const outcome =
        state.status === 'Failed'
          ? `failed${job.failure ? `: ${job.failure.code}` : ''}`
          : state.status === 'Canceled'
            ? 'canceled'
            : 'completed';
      lines.push({ at: state.end, rank: 0, text: `Step ${label} ${outcome}.` });
    }
  }
  lines.sort((a, b) => a.at - b.at || a.rank - b.rank);
  return lines.map((l) => `${isoTime(l.at)} ${l.text}\n`).join('');
}

/** Brings the job's log blob up to date (a no-op without an artifact store). */
export function syncJobLog(ctx: EmulatorContext, job: JobRecord): Promise<void> {
  return ctx.jobLogs.sync(job.name, () => jobLogText(ctx, job, ctx.now()));
}
