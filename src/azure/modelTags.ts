// Reads what the notebook reads from a registry model, in either of the registry's two forms:
// - the tags form (the notebook's days, and every spec until mid-2026): `finetune_compute_allow_list`,
//   `inference_compute_allow_list` and `model_specific_defaults` tags, lists as Python repr strings (single
//   quotes), dicts as JSON (JSON5 reads both); dates as `FinetuneRetirementDate`-style tags; the fine-tuning
//   tasks in the `finetuning-tasks` property;
// - the `system_metadata` form (azureml-assets moved the tags there between 2026-06-16 and 2026-07-01;
//   reference/azureml-assets/models-current/MODELS.md has the table): `supportedComputes.finetuneComputes`
//   and `.inferenceComputes`, `tasks.fineTuningTasks`, `deprecation.finetuneRetirementDate` (ISO timestamps).
//   `model_specific_defaults` stayed a tag. The block arrives as an object (`systemMetadata`) or, as the local
//   emulator serves it, as one JSON string in the version's properties (`system_metadata`).
// Where a value is in both forms, system_metadata (the newer) wins.
import JSON5 from 'json5';
import { RunFailure } from './errors';
import type { RegistryAssetVersion } from './registry';

export type ParameterValue = string | number | boolean;

export interface ModelTagInfo {
  finetuneComputeAllowList?: string[];
  inferenceComputeAllowList?: string[];
  modelSpecificDefaults?: Record<string, ParameterValue>;
  /** finetuneDeprecationDate, finetuneRetirementDate, ... when the registry publishes them. */
  lifecycleDates: Record<string, string>;
  /** The tasks the model can be fine-tuned for (e.g. chat-completion), when the registry says. */
  fineTuningTasks?: string[];
  /** Where the allow lists were read from, when there are any. */
  allowListSource?: 'tags' | 'system_metadata';
  /** The registry marks the model as a preview (system_metadata.preview, or the Preview tag). */
  preview?: boolean;
}

/** The key of the version's properties that carries `system_metadata` as JSON (the local emulator's form). */
export const SYSTEM_METADATA_PROPERTY = 'system_metadata';

// Quoted strings are matched first and kept as they are; bare True/False/None become JSON words.
const PYTHON_WORDS = /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\b(True|False|None)\b/g;
const PYTHON_TO_JSON: Record<string, string> = { True: 'true', False: 'false', None: 'null' };

function parseLiteral(tag: string, raw: string): unknown {
  try {
    return JSON5.parse(
      raw.replace(PYTHON_WORDS, (match: string, word?: string) => (word ? PYTHON_TO_JSON[word] : match)),
    );
  } catch (err) {
    throw new RunFailure(
      'validation',
      `model tag ${tag} is not a list or dict literal (${(err as Error).message}): "${raw.slice(0, 80)}"`,
      'BadModelTag',
    );
  }
}

function stringList(tag: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const value = parseLiteral(tag, raw);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new RunFailure(
      'validation',
      `model tag ${tag} should be a list of VM sizes, got "${raw.slice(0, 80)}"`,
      'BadModelTag',
    );
  }
  return value;
}

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The system_metadata block: given as an object, or parsed from the version's properties; absent: undefined. */
function systemMetadataOf(given: unknown, properties: Record<string, string>): Json | undefined {
  if (isRecord(given)) return given;
  const raw = properties[SYSTEM_METADATA_PROPERTY];
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new RunFailure(
      'validation',
      `model property ${SYSTEM_METADATA_PROPERTY} is not JSON (${(err as Error).message}): "${raw.slice(0, 80)}"`,
      'BadModelTag',
    );
  }
  if (!isRecord(value))
    throw new RunFailure('validation', `model property ${SYSTEM_METADATA_PROPERTY} should be an object`, 'BadModelTag');
  return value;
}

/** A list of strings at system_metadata.<path>, undefined when absent; anything else is refused. */
function metadataList(metadata: Json | undefined, path: readonly string[]): string[] | undefined {
  let value: unknown = metadata;
  for (const key of path) value = isRecord(value) ? value[key] : undefined;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new RunFailure(
      'validation',
      `model system_metadata.${path.join('.')} should be a list of names, got ${JSON.stringify(value).slice(0, 80)}`,
      'BadModelTag',
    );
  }
  return value;
}

function scalarDefaults(value: unknown): Record<string, ParameterValue> {
  if (!isRecord(value)) {
    throw new RunFailure('validation', 'model tag model_specific_defaults should be a dict', 'BadModelTag');
  }
  const out: Record<string, ParameterValue> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

/**
 * The allow lists, model defaults, lifecycle dates and fine-tuning tasks of a registry model version, from
 * its tags, its properties and its system_metadata (see the top of this file for the two forms).
 */
export function readModelTags(
  tags: Record<string, string>,
  properties: Record<string, string> = {},
  systemMetadata?: unknown,
): ModelTagInfo {
  const metadata = systemMetadataOf(systemMetadata, properties);

  let modelSpecificDefaults: Record<string, ParameterValue> | undefined;
  if (tags.model_specific_defaults !== undefined) {
    modelSpecificDefaults = scalarDefaults(parseLiteral('model_specific_defaults', tags.model_specific_defaults));
  } else {
    const fromMetadata = metadata?.['modelSpecificDefaults'] ?? metadata?.['model_specific_defaults'];
    if (fromMetadata !== undefined) modelSpecificDefaults = scalarDefaults(fromMetadata);
  }

  const lifecycleDates: Record<string, string> = {};
  for (const source of [properties, tags]) {
    for (const [k, v] of Object.entries(source)) {
      if (/(Deprecation|Retirement|Legacy)Date$/i.test(k)) lifecycleDates[k] = v;
    }
  }
  const deprecation = metadata?.['deprecation'];
  if (isRecord(deprecation)) {
    for (const [k, v] of Object.entries(deprecation)) if (typeof v === 'string') lifecycleDates[k] = v;
  }

  const fromMetadata = {
    finetune: metadataList(metadata, ['supportedComputes', 'finetuneComputes']),
    inference: metadataList(metadata, ['supportedComputes', 'inferenceComputes']),
  };
  const fromTags = {
    finetune: stringList('finetune_compute_allow_list', tags.finetune_compute_allow_list),
    inference: stringList('inference_compute_allow_list', tags.inference_compute_allow_list),
  };
  const finetuneComputeAllowList = fromMetadata.finetune ?? fromTags.finetune;
  const inferenceComputeAllowList = fromMetadata.inference ?? fromTags.inference;
  const allowListSource =
    fromMetadata.finetune !== undefined || fromMetadata.inference !== undefined
      ? 'system_metadata'
      : fromTags.finetune !== undefined || fromTags.inference !== undefined
        ? 'tags'
        : undefined;

  const taskProperty = properties['finetuning-tasks'];
  const fineTuningTasks =
    metadataList(metadata, ['tasks', 'fineTuningTasks']) ??
    (taskProperty !== undefined
      ? taskProperty
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t !== '')
      : undefined);
  const preview = metadata?.['preview'] === true || 'Preview' in tags || undefined;

  return {
    finetuneComputeAllowList,
    inferenceComputeAllowList,
    modelSpecificDefaults,
    lifecycleDates,
    ...(fineTuningTasks !== undefined ? { fineTuningTasks } : {}),
    ...(allowListSource !== undefined ? { allowListSource } : {}),
    ...(preview ? { preview } : {}),
  };
}

/** The date fine-tuning of the model ends (finetuneRetirementDate in either form), as the registry wrote it. */
export function finetuneRetirementDate(info: ModelTagInfo): string | undefined {
  return Object.entries(info.lifecycleDates).find(([k]) => /^finetuneRetirementDate$/i.test(k))?.[1];
}

/** Whether fine-tuning the model has been retired at time `at` (ms): its finetune retirement date has come. */
export function finetuneRetiredAt(info: ModelTagInfo, at: number): boolean {
  const date = finetuneRetirementDate(info);
  if (date === undefined) return false;
  const when = Date.parse(date);
  return Number.isFinite(when) && when <= at;
}

/** One registry model as `ftflow models` and resolveModel's refusals show it. */
export interface RegistryModelSummary {
  name: string;
  version: string;
  /** azureml://registries/<r>/models/<name>/versions/<v> */
  assetId: string;
  isArchived: boolean;
  /** The finetune retirement date, when the registry publishes one (as written there). */
  finetuneRetirementDate?: string;
  /** Archived, or its finetune retirement date has come: it cannot be fine-tuned. */
  retired: boolean;
  preview: boolean;
  fineTuningTasks: string[];
  finetuneComputeAllowList?: string[];
  inferenceComputeAllowList?: string[];
  allowListSource?: 'tags' | 'system_metadata';
}

/** What the registry says of a model version, read in either form; a version whose metadata cannot be read is left out. */
export function summarizeModel(asset: RegistryAssetVersion, at: number): RegistryModelSummary | undefined {
  let info: ModelTagInfo;
  try {
    info = readModelTags(asset.tags, asset.properties, asset.systemMetadata);
  } catch {
    return undefined;
  }
  const retirement = finetuneRetirementDate(info);
  return {
    name: asset.name,
    version: asset.version,
    assetId: asset.assetId,
    isArchived: asset.isArchived,
    ...(retirement !== undefined ? { finetuneRetirementDate: retirement } : {}),
    retired: asset.isArchived || finetuneRetiredAt(info, at),
    preview: info.preview === true,
    fineTuningTasks: info.fineTuningTasks ?? [],
    ...(info.finetuneComputeAllowList ? { finetuneComputeAllowList: info.finetuneComputeAllowList } : {}),
    ...(info.inferenceComputeAllowList ? { inferenceComputeAllowList: info.inferenceComputeAllowList } : {}),
    ...(info.allowListSource ? { allowListSource: info.allowListSource } : {}),
  };
}

/** The registry's models that fine-tune for `task` (default chat-completion); without `all`, only current ones. */
export function fineTunableModels(
  assets: readonly RegistryAssetVersion[],
  at: number,
  options: { task?: string; all?: boolean } = {},
): RegistryModelSummary[] {
  const task = options.task ?? 'chat-completion';
  return assets
    .map((a) => summarizeModel(a, at))
    .filter((m): m is RegistryModelSummary => m !== undefined && m.fineTuningTasks.includes(task))
    .filter((m) => options.all === true || !m.retired)
    .sort((a, b) => a.name.localeCompare(b.name));
}
