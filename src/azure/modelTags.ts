// Reads the tags the notebook reads from a registry model. Lists are stored as Python repr strings
// (single quotes), dicts as JSON; JSON5 reads both.
import JSON5 from 'json5';
import { RunFailure } from './errors';

export type ParameterValue = string | number | boolean;

export interface ModelTagInfo {
  finetuneComputeAllowList?: string[];
  inferenceComputeAllowList?: string[];
  modelSpecificDefaults?: Record<string, ParameterValue>;
  /** finetuneDeprecationDate, finetuneRetirementDate, ... when the registry publishes them. */
  lifecycleDates: Record<string, string>;
}

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

export function readModelTags(tags: Record<string, string>, properties: Record<string, string> = {}): ModelTagInfo {
  let modelSpecificDefaults: Record<string, ParameterValue> | undefined;
  if (tags.model_specific_defaults !== undefined) {
    const value = parseLiteral('model_specific_defaults', tags.model_specific_defaults);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new RunFailure('validation', 'model tag model_specific_defaults should be a dict', 'BadModelTag');
    }
    modelSpecificDefaults = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') modelSpecificDefaults[k] = v;
    }
  }
  const lifecycleDates: Record<string, string> = {};
  for (const source of [properties, tags]) {
    for (const [k, v] of Object.entries(source)) {
      if (/(Deprecation|Retirement|Legacy)Date$/i.test(k)) lifecycleDates[k] = v;
    }
  }
  return {
    finetuneComputeAllowList: stringList('finetune_compute_allow_list', tags.finetune_compute_allow_list),
    inferenceComputeAllowList: stringList('inference_compute_allow_list', tags.inference_compute_allow_list),
    modelSpecificDefaults,
    lifecycleDates,
  };
}
