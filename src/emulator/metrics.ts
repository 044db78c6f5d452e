// Training metrics of a fine-tune job, as the HF Trainer logs them through the ACFT callback:
// loss/grad_norm/learning_rate/epoch every logging_steps, eval_* per epoch, train_* at the end.
// Deterministic by job name and inputs; timestamps lie on the job's compressed clock.
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
  stepsPerEpoch: number;
  loggingSteps: number;
  learningRate: number;
  scheduler: string;
  trainRows: number;
  evalRows: number;
}

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
      if (type === 'literal' && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) out[name] = String(value);
    }
  }
  return out;
}

export function trainingPlan(jobName: string, jobProperties: JsonObject): TrainingPlan {
  const inputs = literalInputs(jobProperties);
  const num = (name: string, fallback: number, min: number): number => {
    const v = Number(inputs[name]);
    return Number.isFinite(v) && v >= min ? v : fallback;
  };
  const random = prng(`plan:${jobName}`);
  const trainRows = 2000 + Math.floor(random() * 1000);
  const effectiveBatch = num('per_device_train_batch_size', 1, 1) * num('number_of_gpu_to_use_finetuning', 1, 1) * num('num_nodes_finetune', 1, 1) * num('gradient_accumulation_steps', 1, 1);
  // Kept small: the emulator logs a few dozen points per epoch, not thousands.
  const stepsPerEpoch = Math.max(10, Math.min(300, Math.ceil(trainRows / effectiveBatch / 10)));
  return {
    epochs: Math.min(10, Math.floor(num('num_train_epochs', 1, 1))),
    stepsPerEpoch,
    loggingSteps: Math.max(1, Math.floor(num('logging_steps', 10, 1))),
    learningRate: num('learning_rate', 2e-5, 0),
    scheduler: inputs['lr_scheduler_type'] ?? 'linear',
    trainRows,
    evalRows: Math.floor(trainRows / 4),
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

/** Every metric point of the job, in timestamp order. Callers filter by what is visible now. */
export function trainingMetrics(jobName: string, jobProperties: JsonObject, timeline: JobTimeline): MetricPoint[] {
  const plan = trainingPlan(jobName, jobProperties);
  const random = prng(`metrics:${jobName}`);
  const noise = (scale: number): number => (random() - 0.5) * 2 * scale;
  const { start, end } = runningWindow(timeline);
  const span = Math.max(1, end - start);
  const totalSteps = plan.epochs * plan.stepsPerEpoch;
  const at = (step: number): number => start + Math.floor((step / totalSteps) * (span - 1));
  const lossAt = (progress: number): number => 0.72 + 0.95 * Math.exp(-4 * progress);
  const points: MetricPoint[] = [];
  const losses: number[] = [];

  for (let step = 1; step <= totalSteps; step++) {
    const progress = step / totalSteps;
    if (step % plan.loggingSteps === 0) {
      const loss = round(lossAt(progress) + noise(0.04), 4);
      losses.push(loss);
      const ts = at(step);
      points.push(
        { key: 'loss', value: loss, step, timestamp: ts },
        { key: 'grad_norm', value: round(0.55 + 1.6 * Math.exp(-3 * progress) + noise(0.15), 4), step, timestamp: ts },
        { key: 'learning_rate', value: learningRateAt(plan, progress), step, timestamp: ts },
        { key: 'epoch', value: round(step / plan.stepsPerEpoch, 4), step, timestamp: ts },
      );
    }
    if (step % plan.stepsPerEpoch === 0) {
      const ts = at(step);
      const runtime = round(30 + random() * 15, 4);
      points.push(
        { key: 'eval_loss', value: round(lossAt(progress) + 0.06 + noise(0.02), 4), step, timestamp: ts },
        { key: 'eval_runtime', value: runtime, step, timestamp: ts },
        { key: 'eval_samples_per_second', value: round(plan.evalRows / runtime, 3), step, timestamp: ts },
        { key: 'eval_steps_per_second', value: round(plan.evalRows / runtime, 3), step, timestamp: ts },
        { key: 'epoch', value: step / plan.stepsPerEpoch, step, timestamp: ts },
      );
    }
  }

  const trainRuntime = round(totalSteps * (1.6 + random() * 0.6), 4);
  const meanLoss = losses.length > 0 ? losses.reduce((a, b) => a + b, 0) / losses.length : lossAt(0.5);
  points.push(
    { key: 'train_runtime', value: trainRuntime, step: totalSteps, timestamp: end },
    { key: 'train_samples_per_second', value: round((plan.trainRows * plan.epochs) / trainRuntime, 3), step: totalSteps, timestamp: end },
    { key: 'train_steps_per_second', value: round(totalSteps / trainRuntime, 3), step: totalSteps, timestamp: end },
    { key: 'total_flos', value: Math.round(plan.trainRows * plan.epochs * 1.3e11), step: totalSteps, timestamp: end },
    { key: 'train_loss', value: round(meanLoss, 4), step: totalSteps, timestamp: end },
    { key: 'epoch', value: plan.epochs, step: totalSteps, timestamp: end },
  );
  return points;
}
