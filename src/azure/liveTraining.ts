// What a training job looks like while it runs, from what MLflow says about its runs: the step and
// epoch of the total, the latest losses and learning rate, the step rate and the ETA it gives, and the
// time the training has held its GPUs. Pure: the follower (awaitPipeline) reads the runs and publishes
// the result in its heartbeat; the client and the CLI only read it.

/** A metric as MLflow's runs/search and metrics/get-history answer it. */
export interface MlflowMetric {
  key: string;
  value: number;
  timestamp?: number;
  step?: number;
}

export interface MlflowRun {
  info: { run_id: string; status?: string; start_time?: number; end_time?: number };
  data?: {
    metrics?: MlflowMetric[];
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
  };
}

/** The job's training as last read: every field is optional because MLflow knows nothing before Running. */
export interface LiveTraining {
  /** The optimizer step the latest logged point is at, and the run's total (from epochs × steps per epoch). */
  step?: number;
  totalSteps?: number;
  /** Fractional epoch of the latest point, and the epochs the run was given. */
  epoch?: number;
  totalEpochs?: number;
  /** The latest training loss (the Trainer's `loss`, else `train_loss`), eval loss and learning rate. */
  trainLoss?: number;
  evalLoss?: number;
  learningRate?: number;
  /** When the training run started (ISO) and how long it has run (or ran), in seconds. */
  trainingStartedAt?: string;
  elapsedSeconds?: number;
  /** elapsedSeconds × GPUs per node × nodes, when the run's parameters say how many. */
  gpuSeconds?: number;
  /** Steps per second over the training so far, and the seconds left at that rate. */
  stepsPerSecond?: number;
  etaSeconds?: number;
  /** When these figures were read (ISO). */
  readAt: string;
}

/** One bounded `metrics` event: "step 120/900: train_loss 1.42". */
export interface MetricsEntry {
  at: string;
  step: number;
  totalSteps?: number;
  trainLoss?: number;
  evalLoss?: number;
}

/** The training loss keys in the order they are preferred: the Trainer logs `loss` per step, `train_loss` once. */
const TRAIN_LOSS_KEYS = ['loss', 'train_loss'];

function metricOf(run: MlflowRun, key: string): MlflowMetric | undefined {
  const m = run.data?.metrics?.find((x) => x.key === key);
  return m && Number.isFinite(m.value) ? m : undefined;
}

function paramOf(run: MlflowRun, key: string): number | undefined {
  const raw = run.data?.params?.find((p) => p.key === key)?.value;
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The run that trains: the one logging `epoch` (the fine-tune step's run), else the root run. */
export function trainingRun(runs: MlflowRun[], jobName: string): MlflowRun | undefined {
  return (
    runs.find((r) => metricOf(r, 'epoch') !== undefined) ??
    runs.find((r) => r.info.run_id !== jobName && r.data?.params?.some((p) => p.key === 'num_train_epochs')) ??
    runs.find((r) => r.info.run_id === jobName)
  );
}

/** The live figures from the job's runs as MLflow answers them now. */
export function liveFromRuns(runs: MlflowRun[], jobName: string, now: number): LiveTraining {
  const readAt = new Date(now).toISOString();
  const run = trainingRun(runs, jobName);
  if (!run) return { readAt };
  const loss = TRAIN_LOSS_KEYS.map((k) => metricOf(run, k)).find((m) => m !== undefined);
  const epochMetric = metricOf(run, 'epoch');
  const evalLoss = metricOf(run, 'eval_loss') ?? runs.map((r) => metricOf(r, 'eval_loss')).find(Boolean);
  const lr = metricOf(run, 'learning_rate');
  const stepOf = [loss, epochMetric, lr].map((m) => m?.step).filter((s): s is number => typeof s === 'number');
  const step = stepOf.length > 0 ? Math.max(...stepOf) : undefined;
  const totalEpochs = paramOf(run, 'num_train_epochs');
  const epoch = epochMetric?.value;
  const totalSteps =
    step !== undefined && epoch !== undefined && epoch > 0 && totalEpochs !== undefined
      ? Math.max(step, Math.round((step / epoch) * totalEpochs))
      : undefined;
  const start = run.info.start_time;
  const end = run.info.end_time;
  const elapsedSeconds = start !== undefined ? Math.max(0, ((end ?? now) - start) / 1000) : undefined;
  const gpus = (paramOf(run, 'number_of_gpu_to_use_finetuning') ?? 1) * (paramOf(run, 'num_nodes_finetune') ?? 1);
  // The rate is measured up to the moment the latest step was logged, not up to now: a read just before
  // the next logged step would otherwise see the rate sag.
  const loggedAt = [loss, epochMetric, lr].find((m) => m?.step === step)?.timestamp;
  const eta =
    start !== undefined && step !== undefined ? etaOf({ start, step, loggedAt: loggedAt ?? now, totalSteps, now }) : {};
  return {
    readAt,
    ...(step !== undefined ? { step } : {}),
    ...(totalSteps !== undefined ? { totalSteps } : {}),
    ...(epoch !== undefined ? { epoch } : {}),
    ...(totalEpochs !== undefined ? { totalEpochs } : {}),
    ...(loss ? { trainLoss: loss.value } : {}),
    ...(evalLoss ? { evalLoss: evalLoss.value } : {}),
    ...(lr ? { learningRate: lr.value } : {}),
    ...(start !== undefined ? { trainingStartedAt: new Date(start).toISOString() } : {}),
    ...(elapsedSeconds !== undefined ? { elapsedSeconds: round(elapsedSeconds, 1) } : {}),
    ...(elapsedSeconds !== undefined ? { gpuSeconds: round(elapsedSeconds * gpus, 1) } : {}),
    ...eta,
  };
}

/**
 * The step rate from the training's start to the latest logged step, and the time left at that rate
 * (counted from `now`: the time since the step was logged is already spent). Nothing when the rate is
 * unknown (no step yet, no time passed, no total).
 */
export function etaOf(input: { start: number; step: number; loggedAt: number; totalSteps?: number; now: number }): {
  stepsPerSecond?: number;
  etaSeconds?: number;
} {
  const seconds = (input.loggedAt - input.start) / 1000;
  if (!(seconds > 0) || !(input.step > 0)) return {};
  const rate = input.step / seconds;
  if (input.totalSteps === undefined) return { stepsPerSecond: round(rate, 4) };
  const finishAt = input.loggedAt + ((input.totalSteps - input.step) / rate) * 1000;
  return { stepsPerSecond: round(rate, 4), etaSeconds: round(Math.max(0, (finishAt - input.now) / 1000), 0) };
}

/** "step 120/900: train_loss 1.42, eval_loss 1.51" */
export function metricsLine(e: Pick<MetricsEntry, 'step' | 'totalSteps' | 'trainLoss' | 'evalLoss'>): string {
  const parts = [
    e.trainLoss !== undefined ? `train_loss ${fmt(e.trainLoss)}` : undefined,
    e.evalLoss !== undefined ? `eval_loss ${fmt(e.evalLoss)}` : undefined,
  ].filter(Boolean);
  return `step ${e.step}${e.totalSteps !== undefined ? `/${e.totalSteps}` : ''}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4).replace(/0+$/, '').replace(/\.$/, '.0');
}

/** At most this many `metrics` entries per run, whatever its length. */
export const MAX_METRICS_ENTRIES = 40;

/**
 * Adds the latest figures to the run's `metrics` entries when the step moved on. Bounded: when the list
 * is full every other entry is dropped (the first and the newest stay), so a long run keeps entries
 * spread over its whole length, never more than `max`.
 */
export function appendEntry(entries: MetricsEntry[], live: LiveTraining, max = MAX_METRICS_ENTRIES): MetricsEntry[] {
  if (live.step === undefined || (live.trainLoss === undefined && live.evalLoss === undefined)) return entries;
  const last = entries[entries.length - 1];
  if (last && last.step >= live.step) return entries;
  const entry: MetricsEntry = {
    at: live.readAt,
    step: live.step,
    ...(live.totalSteps !== undefined ? { totalSteps: live.totalSteps } : {}),
    ...(live.trainLoss !== undefined ? { trainLoss: live.trainLoss } : {}),
    ...(live.evalLoss !== undefined ? { evalLoss: live.evalLoss } : {}),
  };
  let next = [...entries, entry];
  if (next.length > max) next = next.filter((_, i) => i === 0 || i === next.length - 1 || i % 2 === 0);
  return next;
}

/** "1h 05m", "4m 10s", "12s" */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
