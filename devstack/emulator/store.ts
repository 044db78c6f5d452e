// The emulator's state and its persistence. One JSON document, rewritten atomically after each
// mutation and loaded at start, so a restarted emulator keeps its resources (and accepts the
// tokens it issued before). The zod schema is the single definition of every record type.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

const jsonObject = z.record(z.string(), z.unknown());
const stringMap = z.record(z.string(), z.string());

const errorInfo = z.object({ code: z.string(), message: z.string() });

const lifecycle = z.object({
  createdAt: z.number(),
  provisionStartedAt: z.number(),
  provisionMs: z.number(),
  provisionKind: z.enum(['Creating', 'Updating']),
  provisionOutcome: z.enum(['Succeeded', 'Failed']),
  provisionError: errorInfo.optional(),
  deleteRequestedAt: z.number().optional(),
  deleteMs: z.number(),
});

const jobPhase = z.enum(['NotStarted', 'Queued', 'Preparing', 'Running', 'Finalizing']);

const computeRecord = z.object({
  uid: z.string(),
  name: z.string(),
  location: z.string(),
  tags: stringMap,
  /** The request's `properties` (the Compute object: computeType, description, properties{...}). */
  properties: jsonObject,
  modifiedAt: z.number(),
  lifecycle,
});

const jobRecord = z.object({
  name: z.string(),
  createdAt: z.number(),
  /** Duration of every phase (records from before per-phase durations). */
  phaseMs: z.number(),
  /** Duration of each of the five phases; overrides phaseMs. */
  phaseDurations: z.array(z.number()).length(5).optional(),
  cancelMs: z.number(),
  cancelRequestedAt: z.number().optional(),
  cancelOpId: z.string().optional(),
  /** Why the job fails, and the step (`<node>/<step>`) that fails when it is a step's. */
  failure: errorInfo.extend({ details: z.array(errorInfo).optional(), step: z.string().optional() }).optional(),
  /** Where the job fails (default: at the end of Preparing, where the validation step runs). */
  failAt: z.object({ phase: jobPhase, fraction: z.number().min(0).max(1) }).optional(),
  /** The clusters the job runs on and the nodes it holds on each (for billing and usages). */
  computes: z.array(z.object({ name: z.string(), nodes: z.number().int().min(1) })).optional(),
  /** What the staged training data looked like at submission (drives the metric curves). */
  data: z.object({ trainRows: z.number(), testRows: z.number().optional() }).optional(),
  experimentName: z.string(),
  /** The request's JobBase `properties`, as sent. */
  properties: jsonObject,
});

const modelVersionRecord = z.object({
  name: z.string(),
  version: z.string(),
  createdAt: z.number(),
  modifiedAt: z.number(),
  properties: jsonObject,
});

const endpointRecord = z.object({
  uid: z.string(),
  name: z.string(),
  location: z.string(),
  tags: stringMap,
  identity: jsonObject.optional(),
  kind: z.string().optional(),
  properties: jsonObject,
  keys: z.object({ primaryKey: z.string(), secondaryKey: z.string() }),
  modifiedAt: z.number(),
  lastOperationId: z.string(),
  lifecycle,
});

const deploymentRecord = z.object({
  uid: z.string(),
  endpointUid: z.string(),
  endpointName: z.string(),
  name: z.string(),
  location: z.string(),
  tags: stringMap,
  kind: z.string().optional(),
  sku: jsonObject,
  /** Instance count over time: [at, capacity] from creation (billing of scale changes). */
  capacityHistory: z.array(z.tuple([z.number(), z.number()])).optional(),
  properties: jsonObject,
  modifiedAt: z.number(),
  lastOperationId: z.string(),
  lifecycle,
});

const operationRecord = z.object({
  id: z.string(),
  kind: z.string(),
  resourceId: z.string(),
  subscriptionId: z.string(),
  location: z.string(),
  startedAt: z.number(),
  durationMs: z.number(),
  outcome: z.enum(['Succeeded', 'Failed', 'Canceled']),
  error: errorInfo.optional(),
});

const stateSchema = z.object({
  version: z.literal(1),
  /** HS256 key for the tokens this emulator issues (base64). */
  signingKey: z.string(),
  computes: z.array(computeRecord),
  jobs: z.array(jobRecord),
  models: z.array(modelVersionRecord),
  endpoints: z.array(endpointRecord),
  deployments: z.array(deploymentRecord),
  operations: z.array(operationRecord),
  /** PUT requests received per ARM resource id (lower case), whatever their outcome. */
  putCounts: z.record(z.string(), z.number()).optional(),
  /** The emulator's time source (stepped mode and offsets survive a restart). */
  clock: z
    .object({ mode: z.enum(['real', 'stepped']), offsetMs: z.number(), frozenAt: z.number().optional() })
    .optional(),
});

export type ComputeRecord = z.infer<typeof computeRecord>;
export type JobRecord = z.infer<typeof jobRecord>;
export type ModelVersionRecord = z.infer<typeof modelVersionRecord>;
export type EndpointRecord = z.infer<typeof endpointRecord>;
export type DeploymentRecord = z.infer<typeof deploymentRecord>;
export type OperationRecord = z.infer<typeof operationRecord>;
export type EmulatorState = z.infer<typeof stateSchema>;

function emptyState(signingKey: string): EmulatorState {
  return { version: 1, signingKey, computes: [], jobs: [], models: [], endpoints: [], deployments: [], operations: [] };
}

export class Store {
  private constructor(
    public state: EmulatorState,
    private readonly file: string | undefined,
  ) {}

  /** Loads the state file when it exists; a corrupt file is an error (never silently dropped). */
  static open(file: string | undefined): Store {
    if (file && existsSync(file)) {
      const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
      const parsed = stateSchema.safeParse(raw);
      if (!parsed.success) {
        throw new Error(`emulator: state file ${file} is not a valid emulator state: ${parsed.error.message}`);
      }
      return new Store(parsed.data, file);
    }
    const store = new Store(emptyState(randomBytes(32).toString('base64')), file);
    store.commit();
    return store;
  }

  /** Persists the state (call after every mutation). */
  commit(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    // The state holds the token signing key and endpoint keys: owner-only.
    writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  /** Forgets every resource; keeps the signing key so tokens already issued stay valid. */
  reset(): void {
    const clock = this.state.clock;
    this.state = { ...emptyState(this.state.signingKey), ...(clock ? { clock } : {}) };
    this.commit();
  }
}
