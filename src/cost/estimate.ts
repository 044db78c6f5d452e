// The estimate before a run: GPU node-hours from the slice's size, the epochs and a throughput assumed for
// the GPU and the model, plus the pipeline's fixed steps; endpoint hours from provisioning, the smoke test
// and the keep-alive; each priced at the table's list price. Every assumption is a named constant here, is
// listed in the estimate itself and in docs/operations.md ("What a run costs"). Pure: no I/O, no clock.
import { priceOf, sizeOf, type PriceTable } from './priceTable';
import type { CostEstimate, EndpointEstimate, PriceBasis, TrainingEstimate } from './types';

/** JSONL bytes per token: about 4 characters of English text per token, with the JSON around them counted as text. */
export const BYTES_PER_TOKEN = 4;
/** Training FLOPs per token and model parameter (forward, backward, recomputed activations; LoRA or not). */
export const TRAIN_FLOPS_PER_TOKEN_PARAM = 6;
/** Evaluation FLOPs per token and parameter (a forward pass). */
export const EVAL_FLOPS_PER_TOKEN_PARAM = 2;
/** Share of a GPU's peak the fine-tuning step sustains (batch size 1, DeepSpeed, LoRA): a low, safe guess. */
export const MODEL_FLOPS_UTILIZATION = 0.15;
/** Node time of the pipeline's steps around the fine-tuning itself: image and node start, model import, preprocessing, conversion. */
export const PIPELINE_OVERHEAD_MINUTES = 20;
/** A managed online deployment's start before its liveness delay: image pull and model download. */
export const DEPLOY_PROVISION_MINUTES = 5;
/** The smoke test: one scoring request, with the deployment reported ready. */
export const SMOKE_SCORE_MINUTES = 1;
/** Deleting the endpoint; its instances bill until the deletion completes. */
export const DELETE_MINUTES = 2;
/** Assumed when a model's size cannot be read from its name. */
export const DEFAULT_MODEL_BILLIONS = 4;

/** Dense FP16/BF16 tensor peak of one GPU, TFLOP/s (approximate datasheet figures, by generation). */
export const GPU_PEAK_TFLOPS: readonly { match: RegExp; generation: string; tflops: number }[] = [
  { match: /H100/i, generation: 'H100', tflops: 835 },
  { match: /A100/i, generation: 'A100', tflops: 312 },
  { match: /V100/i, generation: 'V100', tflops: 125 },
  { match: /T4\b/i, generation: 'T4', tflops: 65 },
];

/** Parameters (billions) of the registry's fine-tunable families, where the name does not say. */
const MODEL_BILLIONS: readonly { match: RegExp; billions: number }[] = [
  { match: /phi-3(\.5)?-mini|phi-4-mini/i, billions: 3.8 },
  { match: /phi-3(\.5)?-small/i, billions: 7 },
  { match: /phi-3(\.5)?-medium|^phi-4$/i, billions: 14 },
  // A mixture of experts: 6.6 billion parameters work on each token.
  { match: /phi-3\.5-moe/i, billions: 6.6 },
];

export interface EstimateInput {
  /** The workspace's region, where the prices are read. */
  region: string;
  model: { name: string };
  training: {
    vmSize: string;
    nodes: number;
    gpusPerNode: number;
    epochs: number;
    /** training.max_steps when > 0 (it overrides the epochs), with the rows each step takes on all GPUs. */
    maxSteps?: { steps: number; rowsPerStepPerGpu: number };
    /** The train and test slices: rows and JSONL bytes (staged, or counted by a dry run). */
    train: { rows: number; bytes: number };
    test: { rows: number; bytes: number };
  };
  endpoint: {
    instanceType: string;
    instances: number;
    livenessInitialDelaySeconds: number;
    keepAliveMinutes: number;
  };
}

/** The model's size in billions of parameters, and whether it was only assumed. */
export function modelBillions(name: string): { billions: number; assumed: boolean } {
  const known = MODEL_BILLIONS.find((m) => m.match.test(name));
  if (known) return { billions: known.billions, assumed: false };
  const inName = /(?:^|[-_])(\d+(?:\.\d+)?)b(?:$|[-_])/i.exec(name);
  if (inName?.[1]) return { billions: Number(inName[1]), assumed: false };
  return { billions: DEFAULT_MODEL_BILLIONS, assumed: true };
}

/** A GPU's assumed peak from the size's GPU type; A100's when the table does not know the size. */
function gpuPeak(table: PriceTable, vmSize: string): { generation: string; tflops: number; assumed: boolean } {
  const gpuType = sizeOf(table, vmSize)?.gpuType ?? '';
  const found = GPU_PEAK_TFLOPS.find((g) => g.match.test(gpuType));
  if (found) return { generation: found.generation, tflops: found.tflops, assumed: false };
  const a100 = GPU_PEAK_TFLOPS.find((g) => g.generation === 'A100') ?? { generation: 'A100', tflops: 312 };
  return { generation: a100.generation, tflops: a100.tflops, assumed: true };
}

const round = (x: number, digits = 6): number => Number(x.toFixed(digits));

function priced(
  table: PriceTable,
  vmSize: string,
  region: string,
  count: number,
  hours: number,
  warnings: string[],
  what: string,
) {
  const price = priceOf(table, vmSize, region);
  if (!price)
    warnings.push(
      `no list price for ${vmSize} in ${region} in the price table (${table.snapshot}): the ${what} is not priced; FTFLOW_PRICES_FILE can add it`,
    );
  const usdPerHour = price?.usdPerHour ?? null;
  return {
    vmSize,
    count,
    hours: round(hours),
    usdPerHour,
    usd: usdPerHour === null ? null : round(count * hours * usdPerHour),
  };
}

export function estimateRunCost(input: EstimateInput, table: PriceTable): CostEstimate {
  const warnings: string[] = [];
  const { training: t, endpoint: e } = input;
  const model = modelBillions(input.model.name);
  if (model.assumed)
    warnings.push(`the size of ${input.model.name} is not known: ${DEFAULT_MODEL_BILLIONS} billion parameters assumed`);
  const gpu = gpuPeak(table, t.vmSize);
  if (gpu.assumed) warnings.push(`the GPU of ${t.vmSize} is not known: an A100's throughput assumed`);

  const gpus = Math.max(1, t.gpusPerNode) * Math.max(1, t.nodes);
  const tokensPerRow = t.train.rows > 0 ? t.train.bytes / BYTES_PER_TOKEN / t.train.rows : 0;
  const trainTokens = Math.round(t.train.bytes / BYTES_PER_TOKEN);
  const evalTokens = Math.round(t.test.bytes / BYTES_PER_TOKEN);
  const trainedTokens = t.maxSteps
    ? t.maxSteps.steps * t.maxSteps.rowsPerStepPerGpu * gpus * tokensPerRow
    : trainTokens * t.epochs;
  const params = model.billions * 1e9;
  const flopsPerSecond = MODEL_FLOPS_UTILIZATION * gpu.tflops * 1e12;
  const tokensPerSecondPerGpu = flopsPerSecond / (TRAIN_FLOPS_PER_TOKEN_PARAM * params);
  const computeSeconds =
    (TRAIN_FLOPS_PER_TOKEN_PARAM * params * trainedTokens +
      EVAL_FLOPS_PER_TOKEN_PARAM * params * evalTokens * t.epochs) /
    (flopsPerSecond * gpus);
  const computeHours = computeSeconds / 3600;
  const overheadHours = PIPELINE_OVERHEAD_MINUTES / 60;
  const training: TrainingEstimate = {
    ...priced(table, t.vmSize, input.region, t.nodes, computeHours + overheadHours, warnings, 'training cluster'),
    trainTokens,
    evalTokens,
    epochs: t.epochs,
    gpus,
    tokensPerSecondPerGpu: Math.round(tokensPerSecondPerGpu),
    computeHours: round(computeHours),
    overheadHours: round(overheadHours),
  };

  const deployMinutes = DEPLOY_PROVISION_MINUTES + e.livenessInitialDelaySeconds / 60 + SMOKE_SCORE_MINUTES;
  const endpointHours = (deployMinutes + e.keepAliveMinutes + DELETE_MINUTES) / 60;
  const endpoint: EndpointEstimate = {
    ...priced(table, e.instanceType, input.region, e.instances, endpointHours, warnings, 'endpoint'),
    deployMinutes: round(deployMinutes, 2),
    keepAliveMinutes: e.keepAliveMinutes,
    deleteMinutes: DELETE_MINUTES,
  };

  const prices: PriceBasis = {
    currency: 'USD',
    region: input.region,
    priceType: table.priceType,
    snapshot: table.snapshot,
    source: table.source,
  };
  return {
    totalUsd: training.usd === null || endpoint.usd === null ? null : round(training.usd + endpoint.usd),
    training,
    endpoint,
    prices,
    assumptions: [
      `list prices of ${table.snapshot} (${table.priceType}); agreements, reservations, savings plans and spot capacity cost less`,
      `${BYTES_PER_TOKEN} JSONL bytes per token`,
      `${model.billions} billion parameters (${input.model.name}${model.assumed ? ': assumed' : ''}); ${TRAIN_FLOPS_PER_TOKEN_PARAM} FLOPs per token and parameter to train, ${EVAL_FLOPS_PER_TOKEN_PARAM} to evaluate the test slice each epoch`,
      `${gpu.generation} at ${gpu.tflops} TFLOP/s peak, ${MODEL_FLOPS_UTILIZATION * 100}% of it sustained: about ${Math.round(tokensPerSecondPerGpu)} training tokens/s per GPU`,
      `${PIPELINE_OVERHEAD_MINUTES} min of node time per job for the steps around fine-tuning (node start, model import, preprocessing, conversion)`,
      `the nodes bill from the job's start to its end; the cluster's idle time before it scales down is not counted`,
      `the endpoint bills from its deployment's creation to its deletion: ${DEPLOY_PROVISION_MINUTES} min to provision, the liveness delay (${e.livenessInitialDelaySeconds} s), ${SMOKE_SCORE_MINUTES} min to score, the keep-alive, ${DELETE_MINUTES} min to delete`,
      'Azure ML adds no charge of its own to the VMs; disks, load balancer, storage and bandwidth are not counted',
    ],
    warnings,
  };
}
