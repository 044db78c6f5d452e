// Training metrics of a fine-tune job, as the HF Trainer logs them through the ACFT callback:
// loss/grad_norm/learning_rate/epoch every logging_steps, eval_* per epoch, train_* at the end.
// Derived deterministically from the job: the staged training file's row count (80% trains, 20%
// validates, as the preprocess step splits train when no validation file is given), the epochs,
// batch size, GPUs and nodes, the learning rate and its scheduler. The loss falls with the steps
// towards a floor that is lower for more data; eval_loss falls from epoch to epoch. Timestamps lie
// on the job's compressed Running phase.
import { createHash } from 'node:crypto';
import { runningWindow, type JobTimeline } from './clock';
import { asObject, asString, type JsonObject } from './json';

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  /** ms since epoch, on the emulator clock; the point is visible from then on. */
  timestamp: number;
}

export interface TrainingPlan {
  epochs: number;
  /** Optimizer steps per epoch (real step numbers, as the Trainer counts them). */
  stepsPerEpoch: number;
  /** Steps between two logged points (logging_steps, widened so a run logs at most ~200 points). */
  loggingSteps: number;
  learningRate: number;
  scheduler: string;
  /** Rows of the staged training file, and the split the preprocess step makes of it. */
  fileRows: number;
  trainRows: number;
  evalRows: number;
  /** The loss the run starts from and the floor it falls towards (lower with more data). */
  startLoss: number;
  floorLoss: number;
}

const MAX_LOGGED_POINTS = 200;

/** Seeded PRNG (mulberry32), so every run of the same job logs the same numbers. */
function prng(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Literal inputs of the pipeline node(s): name → string value. */
export function literalInputs(jobProperties: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const node of Object.values(asObject(jobProperties['jobs']) ?? {})) {
    for (const [name, raw] of Object.entries(asObject(asObject(node)?.['inputs']) ?? {})) {
      const o = asObject(raw);
      const type = asString(o?.['job_input_type']) ?? asString(o?.['jobInputType']) ?? 'literal';
      const value = o ? o['value'] : raw;
      if (type === 'literal' && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'))
        out[name] = String(value);
    }
  }
  return out;
}

export function trainingPlan(jobName: string, jobProperties: JsonObject, data?: { trainRows: number }): TrainingPlan {
  const inputs = literalInputs(jobProperties);
  const num = (name: string, fallback: number, min: number): number => {
    const v = Number(inputs[name]);
    return Number.isFinite(v) && v >= min ? v : fallback;
  };
  // Without staged data (no blob store) the row count is a stable stand-in derived from the name.
  const fileRows = Math.max(1, data?.trainRows ?? 2000 + Math.floor(prng(`plan:${jobName}`)() * 1000));
  const trainRows = Math.max(1, Math.round(fileRows * 0.8));
  const evalRows = Math.max(1, fileRows - trainRows);
  const effectiveBatch =
    num('per_device_train_batch_size', 1, 1) *
    num('number_of_gpu_to_use_finetuning', 1, 1) *
    num('num_nodes_finetune', 1, 1) *
    num('gradient_accumulation_steps', 1, 1);
  const epochs = Math.max(1, Math.min(50, Math.floor(num('num_train_epochs', 1, 1))));
  const stepsPerEpoch = Math.max(1, Math.ceil(trainRows / effectiveBatch));
  const totalSteps = epochs * stepsPerEpoch;
  const loggingSteps = Math.max(Math.floor(num('logging_steps', 10, 1)), Math.ceil(totalSteps / MAX_LOGGED_POINTS));
  return {
    epochs,
    stepsPerEpoch,
    loggingSteps,
    learningRate: num('learning_rate', 2e-5, 0),
    scheduler: inputs['lr_scheduler_type'] ?? 'linear',
    fileRows,
    trainRows,
    evalRows,
    startLoss: 1.7,
    floorLoss: 0.6 + 0.6 * Math.exp(-trainRows / 2000),
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function learningRateAt(plan: TrainingPlan, progress: number): number {
  switch (plan.scheduler) {
    case 'constant':
    case 'constant_with_warmup':
      return plan.learningRate;
    case 'cosine':
    case 'cosine_with_restarts':
      return plan.learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
    default:
      return plan.learningRate * (1 - progress);
  }
}

/** The expected loss after `epochsDone` (fractional) epochs: falls fast, then flattens. */
export function lossCurve(plan: TrainingPlan, epochsDone: number): number {
  return plan.floorLoss + (plan.startLoss - plan.floorLoss) * Math.exp(-2.2 * Math.pow(Math.max(0, epochsDone), 0.7));
}

/** Every metric point of the job, in timestamp order. Callers filter by what is visible now. */
export function trainingMetrics(
  jobName: string,
  jobProperties: JsonObject,
  timeline: JobTimeline,
  data?: { trainRows: number },
): MetricPoint[] {
  const plan = trainingPlan(jobName, jobProperties, data);
  const random = prng(`metrics:${jobName}`);
  const noise = (scale: number): number => (random() - 0.5) * 2 * scale;
  const { start, end } = runningWindow(timeline);
  const span = Math.max(1, end - start);
  const totalSteps = plan.epochs * plan.stepsPerEpoch;
  const at = (step: number): number => start + Math.floor((step / totalSteps) * (span - 1));
  const points: MetricPoint[] = [];
  const losses: number[] = [];

  const logged = new Set<number>();
  for (let step = plan.loggingSteps; step <= totalSteps; step += plan.loggingSteps) logged.add(step);
  const epochEnds = Array.from({ length: plan.epochs }, (_, i) => (i + 1) * plan.stepsPerEpoch);
  const steps = [...new Set([...logged, ...epochEnds])].sort((a, b) => a - b);

  for (const step of steps) {
    const progress = step / totalSteps;
    const epochsDone = step / plan.stepsPerEpoch;
    const ts = at(step);
    if (logged.has(step)) {
      const expected = lossCurve(plan, epochsDone);
      const loss = round(expected + noise(0.02 + 0.03 * (expected - plan.floorLoss)), 4);
      losses.push(loss);
      points.push(
        { key: 'loss', value: loss, step, timestamp: ts },
        { key: 'grad_norm', value: round(0.55 + 1.6 * Math.exp(-3 * progress) + noise(0.1), 4), step, timestamp: ts },
        { key: 'learning_rate', value: learningRateAt(plan, progress), step, timestamp: ts },
        { key: 'epoch', value: round(epochsDone, 4), step, timestamp: ts },
      );
    }
    if (epochEnds.includes(step)) {
      const runtime = round(plan.evalRows / (25 + random() * 10), 4);
      points.push(
        // Validation loss sits a little above the training curve and falls every epoch.
        { key: 'eval_loss', value: round(lossCurve(plan, epochsDone) + 0.05, 4), step, timestamp: ts },
        { key: 'eval_runtime', value: runtime, step, timestamp: ts },
        { key: 'eval_samples_per_second', value: round(plan.evalRows / runtime, 3), step, timestamp: ts },
        { key: 'eval_steps_per_second', value: round(plan.evalRows / runtime, 3), step, timestamp: ts },
        { key: 'epoch', value: epochsDone, step, timestamp: ts },
      );
    }
  }

  const trainRuntime = round(totalSteps * (0.8 + random() * 0.4), 4);
  const meanLoss =
    losses.length > 0 ? losses.reduce((a, b) => a + b, 0) / losses.length : lossCurve(plan, plan.epochs / 2);
  points.push(
    { key: 'train_runtime', value: trainRuntime, step: totalSteps, timestamp: end },
    {
      key: 'train_samples_per_second',
      value: round((plan.trainRows * plan.epochs) / trainRuntime, 3),
      step: totalSteps,
      timestamp: end,
    },
    { key: 'train_steps_per_second', value: round(totalSteps / trainRuntime, 3), step: totalSteps, timestamp: end },
    { key: 'total_flos', value: Math.round(plan.trainRows * plan.epochs * 1.3e11), step: totalSteps, timestamp: end },
    { key: 'train_loss', value: round(meanLoss, 4), step: totalSteps, timestamp: end },
    { key: 'epoch', value: plan.epochs, step: totalSteps, timestamp: end },
  );
  return points;
}
