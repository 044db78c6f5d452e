// Facts copied from reference/azureml-assets (vendored in the repository, see reference/README.md).
// Tag strings are the registry's string form of
// phi-3-mini-4k-instruct/history/v15-tags-before-system-metadata-migration/spec.yaml: dicts as json.dumps,
// lists as Python str() (inferred from Azure/azureml-assets
// scripts/azureml-assets/azureml/assets/publish_utils.py: stringify_dictionary).
import * as fs from 'node:fs';
import * as path from 'node:path';

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
