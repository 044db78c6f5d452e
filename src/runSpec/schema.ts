// The run spec: one zod schema shared by the client, the CLI and the API. Every default is the seed's.
import { z } from 'zod';
import { DEFAULT_COMPUTE_NAME, SEED_MODEL, SEED_PIPELINE_COMPONENT, SEED_SCORING_PARAMETERS } from './defaults';
import { issueMessage } from './issueMessages';
import {
  ASSET_NAME_PATTERN,
  ASSET_VERSION_PATTERN,
  ENDPOINT_NAME_PATTERN,
  EXPERIMENT_NAME_PATTERN,
  VM_SIZE_PATTERN,
} from './names';
import { DatasetSpec } from './dataset';
import { NotificationsSpec } from './notifications';
import { MAX_COST_BUDGET_USD, MAX_KEEP_ALIVE_MINUTES, MAX_TRAINING_BUDGET_MINUTES } from './defaults';
import {
  FORBIDDEN_KEYS,
  MAX_ISSUE_CHARS,
  MAX_LISTED_PROBLEMS,
  MAX_SPEC_ISSUES,
  SPEC_LIMITS,
  forbiddenKeyMessage,
  formatCount,
  recordSizeProblem,
  specShapeIssues,
  truncateText,
} from './limits';

export { DatasetSpec };

/** A string value of a record (training input or sampling parameter): its length is capped (SPEC_LIMITS). */
const recordString = z.string().max(SPEC_LIMITS.stringValueLength);
const parameterValue = z.union([recordString, z.number(), z.boolean()]);

/** C0 and C1 controls (NUL included), and the Unicode bidirectional formatting characters. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const BIDI_CHARACTERS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Training values are sent as literal job inputs in the job PUT: printable text only. */
const trainingValue = z.union([
  recordString
    .refine((v) => !CONTROL_CHARACTERS.test(v), {
      error: (i) => `${pathOf(i.path)} must not contain control characters`,
    })
    .refine((v) => !BIDI_CHARACTERS.test(v), {
      error: (i) => `${pathOf(i.path)} must not contain bidirectional formatting characters (such as U+202E)`,
    }),
  z.number(),
  z.boolean(),
]);

function pathOf(path: readonly PropertyKey[] | undefined): string {
  return (path ?? []).map(String).join('.');
}

/**
 * A key of a capped record: at most SPEC_LIMITS.keyLength characters, not "constructor" or "prototype"
 * (zod drops a "__proto__" key without a word: parseRunSpec refuses it before the schema runs).
 */
const recordKey = (what: string) =>
  z
    .string()
    .max(SPEC_LIMITS.keyLength, `${what} keys are at most ${SPEC_LIMITS.keyLength} characters`)
    .refine((k) => !FORBIDDEN_KEYS.has(k), { error: (i) => forbiddenKeyMessage(String(i.input)) });

/**
 * A record whose size is capped (SPEC_LIMITS). The check runs even when entries have their own issues,
 * so an oversized record is always named; parseRunSpec judges the size before the entries are read.
 */
function cappedRecord<V extends z.ZodType>(path: string, key: z.ZodType<string, string>, value: V) {
  return z.record(key, value).check(
    z.refine((record: object) => recordSizeProblem(path, record) === undefined, {
      error: (issue) => recordSizeProblem(path, issue.input as object),
      // Also when entries have issues; never on a value that is not a record (its type is the issue).
      when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value),
    }),
  );
}

/** A registry asset version: it goes into the registry's URLs and the job's component id. */
function assetVersion(what: string) {
  return z
    .string()
    .min(1, { error: `${what} must not be empty`, abort: true })
    .regex(
      ASSET_VERSION_PATTERN,
      `${what} must be a version such as "15" or "0.0.82" (letters, digits, ".", "_" and "-", a letter or digit first; max 64)`,
    );
}

/** A VM size as Azure names them (Standard_NC24ads_A100_v4, Standard_E4-2s_v3). */
function vmSize(what: string, example: string) {
  return z
    .string()
    .min(1, { error: `${what} must not be empty`, abort: true })
    .regex(
      VM_SIZE_PATTERN,
      `${what} must be an Azure VM size name such as "${example}" (letters, digits, "_" and "-", a letter first; max 64)`,
    );
}

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
  version: assetVersion('model.version').optional(),
});

export const ComputeSpec = z.strictObject({
  name: z
    .string()
    .regex(
      /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/,
      'compute.name must be 3-32 characters: a letter first, then letters, digits or hyphens',
    )
    .default(DEFAULT_COMPUTE_NAME),
  /**
   * Unset: the notebook's Standard_NC24ads_A100_v4 when the model's finetune allow list names it and the
   * quota admits it, else the smallest current size of the list that the quota admits (resolveModel says
   * which, in a warning).
   */
  vmSize: vmSize('compute.vmSize', 'Standard_NC24ads_A100_v4').optional(),
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
  /** Unset: the notebook's Standard_NC6s_v3 on the same terms as compute.vmSize, with the inference allow list. */
  instanceType: vmSize('deployment.instanceType', 'Standard_NC24ads_A100_v4').optional(),
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
    .min(0, { error: 'deployment.keepAliveMinutes must be 0 or more', abort: true })
    .max(MAX_KEEP_ALIVE_MINUTES, `deployment.keepAliveMinutes must be at most ${MAX_KEEP_ALIVE_MINUTES} (7 days)`)
    .refine(
      (m) => m === 0 || m >= 1,
      'deployment.keepAliveMinutes must be 0 (delete the endpoint right after the smoke test) or at least 1 (minute)',
    )
    .default(0),
});

const metricBound = z
  .strictObject({ max: z.number().optional(), min: z.number().optional() })
  .refine((b) => b.max !== undefined || b.min !== undefined, 'give "max" and/or "min" for the metric');

/** Thresholds over the job's final metrics, e.g. { "eval_loss": { "max": 1.2 } }. */
export const QualityGateSpec = cappedRecord(
  'qualityGate',
  recordKey('qualityGate').regex(/^[\w.\-/]+$/, 'qualityGate keys are metric names such as "eval_loss"'),
  metricBound,
);

export const BudgetSpec = z.strictObject({
  /**
   * Cancel the training job (and fail the run) when it runs longer than this: at least a minute (a job
   * takes longer than that to start, so less only pays for a job that is cancelled), at most 30 days.
   */
  maxTrainingMinutes: z
    .number()
    .positive({ error: 'budget.maxTrainingMinutes must be greater than 0', abort: true })
    .min(1, 'budget.maxTrainingMinutes must be at least 1 (minute): a job takes longer than that to start')
    .max(
      MAX_TRAINING_BUDGET_MINUTES,
      `budget.maxTrainingMinutes must be at most ${MAX_TRAINING_BUDGET_MINUTES} (30 days)`,
    )
    .optional(),
  /**
   * The most the run may cost, in US dollars at the price table's list prices (docs/operations.md, What a
   * run costs): a run whose estimate is over it is refused before its job is submitted, and its job is
   * cancelled once what it has cost, with the endpoint's estimate, would pass it.
   */
  maxCost: z
    .number({ error: 'budget.maxCost must be a number of US dollars, e.g. 25 or 12.5' })
    .positive({ error: 'budget.maxCost must be greater than 0 (US dollars)', abort: true })
    .max(MAX_COST_BUDGET_USD, `budget.maxCost must be at most ${MAX_COST_BUDGET_USD} (US dollars)`)
    .optional(),
});

export const ScoringSpec = z.strictObject({
  /** Merged over the notebook's sampling parameters: setting one keeps the others. */
  parameters: cappedRecord('scoring.parameters', recordKey('scoring.parameters'), parameterValue)
    .default({})
    .transform((given) => ({ ...SEED_SCORING_PARAMETERS, ...given })),
});

export const RunSpec = z.strictObject({
  model: ModelSpec.prefault({}),
  pipelineComponent: z
    .strictObject({
      name: assetName('pipelineComponent.name').default(SEED_PIPELINE_COMPONENT),
      version: assetVersion('pipelineComponent.version').optional(),
    })
    .prefault({}),
  compute: ComputeSpec.prefault({}),
  dataset: DatasetSpec.prefault({}),
  /** Explicit training inputs; they override the seed's and the model's defaults. */
  training: cappedRecord('training', recordKey('training'), trainingValue).default({}),
  deployment: DeploymentSpec.prefault({}),
  scoring: ScoringSpec.prefault({}),
  qualityGate: QualityGateSpec.default({}),
  budget: BudgetSpec.prefault({}),
  /**
   * Webhook endpoints that hear of this run (src/runSpec/notifications.ts). Optional without a default, so a
   * spec without it reads exactly as it did before (idempotent starts compare specs as written).
   */
  notifications: NotificationsSpec.optional(),
  /**
   * Defaults to "chat_completion_<model name>" as in the notebook. Sent in the job PUT: Azure ML's
   * characters (letters, digits, "_", "-", "."; a letter or digit first), at most 255.
   */
  experimentName: z
    .string()
    .min(1, { error: 'experimentName must not be empty', abort: true })
    .regex(
      EXPERIMENT_NAME_PATTERN,
      'experimentName must start with a letter or digit and use only letters, digits, "_", "-" and "." (max 255 characters)',
    )
    .optional(),
});

export type RunSpec = z.output<typeof RunSpec>;
export type RunSpecInput = z.input<typeof RunSpec>;

export interface SpecIssue {
  field: string;
  message: string;
}

/**
 * A refused run spec, with every bad field. However bad the input, the error stays small: at most
 * MAX_SPEC_ISSUES issues (then one saying how many more), each field and message cut to
 * MAX_ISSUE_CHARS, and the message lists the first MAX_LISTED_PROBLEMS.
 */
export class RunSpecError extends Error {
  readonly issues: SpecIssue[];
  constructor(issues: readonly SpecIssue[]) {
    const capped = issues.slice(0, MAX_SPEC_ISSUES).map((i) => ({
      field: truncateText(i.field, MAX_ISSUE_CHARS),
      message: truncateText(i.message, MAX_ISSUE_CHARS),
    }));
    const more = issues.length - capped.length;
    if (more > 0)
      capped.push({ field: '(spec)', message: `and ${formatCount(more)} more problems: fix the ones listed first` });
    const listed = capped.slice(0, Math.min(MAX_LISTED_PROBLEMS, issues.length));
    const lines = listed.map((i) => `${i.field}: ${i.message}`);
    if (issues.length > listed.length) lines.push(`and ${formatCount(issues.length - listed.length)} more problems`);
    super(`Invalid run spec:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
    this.issues = capped;
    this.name = 'RunSpecError';
  }
}

/** One zod issue as a field and a message (parsed with `issueMessage`, so the message says what to do). */
export function describeIssue(issue: z.core.$ZodIssue): SpecIssue {
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(spec)';
  return { field, message: issue.message };
}

/**
 * Validates a user's run spec and fills in the seed's defaults; throws RunSpecError naming every bad
 * field. The spec's shape is judged first (prototype keys anywhere, nesting, record sizes), so a
 * hostile spec is refused by name before the schema reads it.
 */
export function parseRunSpec(input: unknown): RunSpec {
  const shape = specShapeIssues(input);
  if (shape.length > 0) throw new RunSpecError(shape);
  let result: ReturnType<typeof RunSpec.safeParse>;
  try {
    result = RunSpec.safeParse(input ?? {}, { error: issueMessage });
  } catch (err) {
    // A check that decodes what it was given and throws on a malformed %-escape: still bad input
    // (exit 2, HTTP 400), never an internal error.
    if (err instanceof URIError)
      throw new RunSpecError([{ field: '(spec)', message: `the spec could not be read: ${err.message}` }]);
    throw err;
  }
  if (!result.success) throw new RunSpecError(result.error.issues.map(describeIssue));
  return result.data;
}

export function experimentNameFor(spec: RunSpec): string {
  return spec.experimentName ?? `chat_completion_${spec.model.name}`;
}
