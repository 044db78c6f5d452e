// The run spec: one zod schema shared by the client, the CLI and the API. Every default is the seed's.
import { z } from 'zod';
import {
  DEFAULT_COMPUTE_NAME,
  DEFAULT_COMPUTE_VM_SIZE,
  SEED_INSTANCE_TYPE,
  SEED_MODEL,
  SEED_PIPELINE_COMPONENT,
  SEED_SCORING_PARAMETERS,
} from './defaults';
import { issueMessage } from './issueMessages';
import { ASSET_NAME_PATTERN, ENDPOINT_NAME_PATTERN } from './names';
import { DatasetSpec } from './dataset';
import { MAX_KEEP_ALIVE_MINUTES } from './defaults';

export { DatasetSpec };

const parameterValue = z.union([z.string(), z.number(), z.boolean()]);

const assetName = (what: string) =>
  z
    .string()
    .regex(
      ASSET_NAME_PATTERN,
      `${what} must start with a letter or digit and use only letters, digits, '-' and '_' (max 255)`,
    );

export const ModelSpec = z.strictObject({
  registry: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9\-_]{2,32}$/, 'registry must be an Azure ML registry name such as "azureml"')
    .default(SEED_MODEL.registry),
  // Registry model names may contain dots (e.g. Phi-3.5-mini-instruct).
  name: z
    .string()
    .regex(
      /^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}$/,
      'model.name must start with a letter or digit and use only letters, digits, ".", "-" and "_"',
    )
    .default(SEED_MODEL.name),
  /** Pin a version; without it the label "latest" is resolved as azure-ai-ml does. */
  version: z.string().min(1).optional(),
});

export const ComputeSpec = z.strictObject({
  name: z
    .string()
    .regex(
      /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/,
      'compute.name must be 3-32 characters: a letter first, then letters, digits or hyphens',
    )
    .default(DEFAULT_COMPUTE_NAME),
  vmSize: z.string().min(1).default(DEFAULT_COMPUTE_VM_SIZE),
  /** Create the cluster (min 0 nodes, so it costs nothing idle) when it does not exist. */
  createIfMissing: z.boolean().default(true),
  maxNodes: z.number().int().min(1, 'compute.maxNodes must be at least 1').max(100).default(1),
});

export const DeploymentSpec = z.strictObject({
  name: z
    .string()
    .min(3, 'deployment.name must have at least 3 characters')
    .max(32, 'deployment.name must have at most 32 characters')
    .regex(ENDPOINT_NAME_PATTERN, 'deployment.name must start with a letter and use only letters, digits and hyphens')
    .default('demo'),
  instanceType: z.string().min(1).default(SEED_INSTANCE_TYPE),
  instanceCount: z.number().int().min(1).max(20).default(1),
  livenessInitialDelaySeconds: z.number().int().min(0).default(600),
  requestTimeoutMs: z.number().int().min(1000).max(180000).default(90000),
  /** The notebook only printed a warning; we refuse unless this is set. */
  allowInstanceTypeOutsideAllowList: z.boolean().default(false),
  /**
   * Keep the endpoint serving this long after the smoke test, then delete it on a durable timer
   * (0 = delete right after the smoke test, as the notebook's last cell does). An update can
   * extend it or end it early.
   */
  keepAliveMinutes: z
    .number({ error: 'deployment.keepAliveMinutes must be a number of minutes' })
    .min(0, 'deployment.keepAliveMinutes must be 0 or more')
    .max(MAX_KEEP_ALIVE_MINUTES, `deployment.keepAliveMinutes must be at most ${MAX_KEEP_ALIVE_MINUTES} (7 days)`)
    .default(0),
});

const metricBound = z
  .strictObject({ max: z.number().optional(), min: z.number().optional() })
  .refine((b) => b.max !== undefined || b.min !== undefined, 'give "max" and/or "min" for the metric');

/** Thresholds over the job's final metrics, e.g. { "eval_loss": { "max": 1.2 } }. */
export const QualityGateSpec = z.record(
  z.string().regex(/^[\w.\-/]+$/, 'qualityGate keys are metric names such as "eval_loss"'),
  metricBound,
);

export const BudgetSpec = z.strictObject({
  /** Cancel the training job (and fail the run) when it runs longer than this. */
  maxTrainingMinutes: z.number().positive('budget.maxTrainingMinutes must be greater than 0').optional(),
});

export const ScoringSpec = z.strictObject({
  /** Merged over the notebook's sampling parameters: setting one keeps the others. */
  parameters: z
    .record(z.string(), parameterValue)
    .default({})
    .transform((given) => ({ ...SEED_SCORING_PARAMETERS, ...given })),
});

export const RunSpec = z.strictObject({
  model: ModelSpec.prefault({}),
  pipelineComponent: z
    .strictObject({
      name: assetName('pipelineComponent.name').default(SEED_PIPELINE_COMPONENT),
      version: z.string().min(1).optional(),
    })
    .prefault({}),
  compute: ComputeSpec.prefault({}),
  dataset: DatasetSpec.prefault({}),
  /** Explicit training inputs; they override the seed's and the model's defaults. */
  training: z.record(z.string(), parameterValue).default({}),
  deployment: DeploymentSpec.prefault({}),
  scoring: ScoringSpec.prefault({}),
  qualityGate: QualityGateSpec.default({}),
  budget: BudgetSpec.prefault({}),
  /** Defaults to "chat_completion_<model name>" as in the notebook. */
  experimentName: z.string().min(1).max(255).optional(),
});

export type RunSpec = z.output<typeof RunSpec>;
export type RunSpecInput = z.input<typeof RunSpec>;

export interface SpecIssue {
  field: string;
  message: string;
}

export class RunSpecError extends Error {
  constructor(readonly issues: SpecIssue[]) {
    super(`Invalid run spec:\n${issues.map((i) => `  - ${i.field}: ${i.message}`).join('\n')}`);
    this.name = 'RunSpecError';
  }
}

/** One zod issue as a field and a message (parsed with `issueMessage`, so the message says what to do). */
export function describeIssue(issue: z.core.$ZodIssue): SpecIssue {
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(spec)';
  return { field, message: issue.message };
}

/** Validates a user's run spec and fills in the seed's defaults; throws RunSpecError naming every bad field. */
export function parseRunSpec(input: unknown): RunSpec {
  const result = RunSpec.safeParse(input ?? {}, { error: issueMessage });
  if (!result.success) throw new RunSpecError(result.error.issues.map(describeIssue));
  return result.data;
}

export function experimentNameFor(spec: RunSpec): string {
  return spec.experimentName ?? `chat_completion_${spec.model.name}`;
}
