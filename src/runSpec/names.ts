// Names of every Azure object a run creates, derived from the run id alone, so a retried or resumed
// step finds what the first attempt created (pay once). Pure functions: used by workflows and clients.
// (The registered model's version is the model's next integer, chosen by registerModel and found again
// by its run-id tag: src/azure/modelVersions.ts.)

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** 64-bit FNV-1a of a string's UTF-16 code units, as 16 hex digits. Deterministic, no I/O. */
export function stableHash(text: string): string {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * FNV_PRIME) & MASK64;
  }
  return hash.toString(16).padStart(16, '0');
}

/** Job, model and datastore path names: ^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$. */
export const ASSET_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;
/** Online endpoint and deployment names as azure-ai-ml validates them: 3-32 chars, letter first, alnum last. */
export const ENDPOINT_NAME_PATTERN = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/**
 * Experiment names (the job's experimentName): letters, digits, "_", "-" and ".", a letter or digit
 * first, at most 255. azureml-core documented 3-36 letters, digits, "_" and "-"; the service takes the
 * notebook's own defaults ("chat_completion_Phi-3.5-mini-instruct": a dot, 38 characters), so the
 * asset names' rule with dots is the one kept.
 */
export const EXPERIMENT_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;
/** Registry asset versions ("15", "0.0.82"): they go into registry URLs and the job's component id. */
export const ASSET_VERSION_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
/** VM sizes as Azure names them: Standard_NC24ads_A100_v4, Standard_E4-2s_v3 (constrained vCPU). */
export const VM_SIZE_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

function slug(text: string, max: number): string {
  const cleaned = text.replace(/[^a-zA-Z0-9_-]+/g, '-').replace(/^[-_]+|[-_]+$/g, '');
  return cleaned.slice(0, max).replace(/[-_]+$/g, '');
}

export interface RunNames {
  runId: string;
  /** Pipeline job name (Jobs_CreateOrUpdate {id}). */
  jobName: string;
  /** Managed online endpoint name (3-32 chars). */
  endpointName: string;
}

export function deriveRunNames(runId: string): RunNames {
  if (runId.length === 0) throw new Error('runId must not be empty');
  const hash = stableHash(runId);
  const readable = slug(runId, 60);
  return {
    runId,
    jobName: readable.length > 0 ? `ftflow-${readable}-${hash.slice(0, 8)}` : `ftflow-${hash}`,
    endpointName: `ftflow-${hash.slice(0, 16)}`,
  };
}

/** The notebook's name for the fine-tuned model: "<model>-ultrachat-200k"; other datasets get their own slug. */
export function fineTunedModelName(baseModel: string, datasetId: string): string {
  const datasetSlug =
    datasetId === 'HuggingFaceH4/ultrachat_200k' ? 'ultrachat-200k' : slug(datasetId.split('/').pop() ?? datasetId, 40);
  return slug(`${baseModel.replace(/\//g, '-')}-${datasetSlug}`, 200);
}

/** Failed or cancelled jobs cannot be adopted; a resumed run submits under the next of these names. */
export const MAX_JOB_ATTEMPTS = 20;

/** The run's job name for a given attempt: the first is the plain name, then <name>-r2, <name>-r3, ... */
export function jobNameForAttempt(jobName: string, attempt: number): string {
  return attempt <= 1 ? jobName : `${jobName}-r${attempt}`;
}
