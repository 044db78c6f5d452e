// Facts copied from reference/azureml-assets (vendored in the repository, see reference/README.md).
// Tag strings are the registry's string form of
// phi-3-mini-4k-instruct/history/v15-tags-before-system-metadata-migration/spec.yaml: dicts as json.dumps,
// lists as Python str() (inferred from Azure/azureml-assets
// scripts/azureml-assets/azureml/assets/publish_utils.py: stringify_dictionary).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { RegistryAssetVersion } from '../../src/azure/registry';

export const PHI3_V15_TAGS: Record<string, string> = {
  InferenceLegacyDate: '2025-06-09',
  InferenceDeprecationDate: '2025-06-30',
  InferenceRetirementDate: '2025-08-30',
  FinetuneDeprecationDate: '2025-06-30',
  FinetuneRetirementDate: '2025-08-30',
  task: 'chat-completion',
  author: 'Microsoft',
  textContextWindow: '4096',
  _aml_system_vanity_registry: 'azureml-phi',
  inference_compute_allow_list:
    "['Standard_NC6s_v3', 'Standard_NC12s_v3', 'Standard_NC24s_v3', 'Standard_ND40rs_v2', 'Standard_NC24ads_A100_v4', 'Standard_NC48ads_A100_v4', 'Standard_ND96asr_v4', 'Standard_ND96amsr_A100_v4', 'Standard_NC96ads_A100_v4']",
  finetune_compute_allow_list:
    "['Standard_NC24ads_A100_v4', 'Standard_NC48ads_A100_v4', 'Standard_NC96ads_A100_v4', 'Standard_ND96asr_v4', 'Standard_ND96amsr_A100_v4']",
  model_specific_defaults:
    '{"apply_deepspeed": "true", "deepspeed_stage": 2, "apply_lora": "true", "apply_ort": "false", "precision": 16, "ignore_mismatched_sizes": "false", "num_train_epochs": 1, "per_device_train_batch_size": 1, "per_device_eval_batch_size": 1, "gradient_accumulation_steps": 1, "learning_rate": 5e-06, "learning_rate_min": 5e-07, "learning_rate_max": 5e-05, "lr_scheduler_type": "cosine", "logging_strategy": "steps", "logging_steps": 10, "save_total_limit": 1}',
};

export const PHI3_V15_PROPERTIES: Record<string, string> = {
  SharedComputeCapacityEnabled: 'True',
  languages: 'en',
  'finetune-recommended-sku':
    'Standard_NC24ads_A100_v4, Standard_NC48ads_A100_v4, Standard_NC96ads_A100_v4, Standard_ND96asr_v4, Standard_ND96amsr_A100_v4',
};

/** Phi-3's model_specific_defaults as the parsed tag (v7+ with learning_rate_min/max). */
export const PHI3_MODEL_DEFAULTS = {
  apply_deepspeed: 'true',
  deepspeed_stage: 2,
  apply_lora: 'true',
  apply_ort: 'false',
  precision: 16,
  ignore_mismatched_sizes: 'false',
  num_train_epochs: 1,
  per_device_train_batch_size: 1,
  per_device_eval_batch_size: 1,
  gradient_accumulation_steps: 1,
  learning_rate: 5e-6,
  learning_rate_min: 5e-7,
  learning_rate_max: 5e-5,
  lr_scheduler_type: 'cosine',
  logging_strategy: 'steps',
  logging_steps: 10,
  save_total_limit: 1,
} as const;

export const PIPELINE_INPUTS_SUMMARY = path.resolve(
  __dirname,
  '../../reference/azureml-assets/chat_completion_pipeline/inputs.summary.json',
);

/** chat_completion_pipeline 0.0.82 as { inputs: [...] } (list form). Fails loudly when the reference is absent. */
export function pipelineComponentSpec(): { name: string; version: string; inputs: Record<string, unknown>[] } {
  if (!fs.existsSync(PIPELINE_INPUTS_SUMMARY)) {
    throw new Error(
      `Missing ${PIPELINE_INPUTS_SUMMARY}: reference/azureml-assets is vendored in the repository; restore it (git checkout -- reference).`,
    );
  }
  return JSON.parse(fs.readFileSync(PIPELINE_INPUTS_SUMMARY, 'utf8')) as {
    name: string;
    version: string;
    inputs: Record<string, unknown>[];
  };
}

const ASSETS = path.resolve(__dirname, '../../reference/azureml-assets');

/**
 * A model version as the registry's REST answer carries it, read straight from a vendored spec.yaml
 * (reference/azureml-assets/models-current/<folder>/spec.yaml, or <folder>/spec.yaml for phi-3-mini-4k-instruct;
 * with form 'tags', the same version's last spec before the system_metadata migration, without its system_metadata):
 * `model_specific_defaults` as the JSON tag the registry stores, `system_metadata` as an object. Read here
 * with the `yaml` package, not through the emulator's catalog, so one bug cannot hide on both sides.
 */
export function registryModelFromSpec(folder: string, form: 'head' | 'tags' = 'head'): RegistryAssetVersion {
  const inCurrent = path.join(ASSETS, 'models-current', folder);
  const dir = fs.existsSync(inCurrent) ? inCurrent : path.join(ASSETS, folder);
  // form 'tags': the last spec before the system_metadata migration (history/v<N>-tags-before-...).
  const history = path.join(dir, 'history');
  const before =
    form === 'tags' && fs.existsSync(history)
      ? fs.readdirSync(history).find((d) => d.endsWith('-tags-before-system-metadata-migration'))
      : undefined;
  const file = before ? path.join(history, before, 'spec.yaml') : path.join(dir, 'spec.yaml');
  if (!fs.existsSync(file))
    throw new Error(`Missing ${file}: reference/azureml-assets is vendored in the repository; restore it.`);
  const spec = parse(fs.readFileSync(file, 'utf8')) as {
    name: string;
    version: number;
    isArchived?: boolean;
    tags?: Record<string, unknown>;
    properties?: Record<string, unknown>;
    system_metadata?: Record<string, unknown>;
  };
  // Lists as Python str() (single quotes), dicts as json.dumps, the rest as text: how the registry stores tags.
  const asTag = (v: unknown): string =>
    typeof v === 'string'
      ? v
      : Array.isArray(v)
        ? `[${v.map((x) => `'${String(x)}'`).join(', ')}]`
        : typeof v === 'object' && v !== null
          ? JSON.stringify(v)
          : String(v);
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.tags ?? {})) tags[k] = asTag(v);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.properties ?? {})) properties[k] = asTag(v);
  return {
    assetId: `azureml://registries/azureml/models/${spec.name}/versions/${spec.version}`,
    name: spec.name,
    version: String(spec.version),
    tags,
    properties,
    isArchived: spec.isArchived === true,
    ...(form === 'head' && spec.system_metadata ? { systemMetadata: spec.system_metadata } : {}),
  };
}

/** Every folder of reference/azureml-assets/models-current with a spec, and phi-3-mini-4k-instruct. */
export function currentModelFolders(): string[] {
  const dir = path.join(ASSETS, 'models-current');
  return [
    'phi-3-mini-4k-instruct',
    ...fs.readdirSync(dir).filter((f) => fs.existsSync(path.join(dir, f, 'spec.yaml'))),
  ];
}

/** 2026-12-05, the day reference/azureml-assets/models-current was vendored: "today" for its facts. */
export const REFERENCE_DAY = Date.parse('2026-12-05T00:00:00Z');

/** Phi-4 v8's fine-tune allow list (system_metadata.supportedComputes.finetuneComputes), in the spec's order. */
export const PHI4_FINETUNE = [
  'Standard_NC24ads_A100_v4',
  'Standard_NC48ads_A100_v4',
  'Standard_NC96ads_A100_v4',
  'Standard_ND96asr_v4',
  'Standard_ND96amsr_A100_v4',
  'Standard_NC40ads_H100_v5',
  'Standard_NC80adis_H100_v5',
  'Standard_ND96isr_H100_v5',
];
