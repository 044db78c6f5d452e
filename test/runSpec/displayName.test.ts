import { SEED_TRAINING_PARAMETERS } from '../../src/runSpec/defaults';
import { pipelineDisplayName } from '../../src/runSpec/displayName';
import { declaredInputs, mergeTrainingParameters } from '../../src/runSpec/trainingParameters';
import { PHI3_MODEL_DEFAULTS, pipelineComponentSpec } from '../helpers/assetFacts';

// Expected values computed with the notebook's get_pipeline_display_name() (seed cell "Trening pipeline")
// on {**training_parameters, **optimization_parameters} updated with Phi-3's model_specific_defaults.
const MODEL = 'Phi-3-mini-4k-instruct';
const notebookParameters = { ...SEED_TRAINING_PARAMETERS, ...PHI3_MODEL_DEFAULTS };

describe('pipelineDisplayName equals the notebook get_pipeline_display_name', () => {
  test('seed parameters merged with Phi-3 model_specific_defaults, 1 GPU per node', () => {
    expect(pipelineDisplayName(MODEL, notebookParameters, 1)).toBe(
      'Phi-3-mini-4k-instruct-ultrachat-bs1-cosine-ds2-lora-save_limit1-seqlen-1',
    );
  });

  test('GPUs per node multiply the batch size (Standard_NC96ads_A100_v4: 4)', () => {
    expect(pipelineDisplayName(MODEL, notebookParameters, 4)).toBe(
      'Phi-3-mini-4k-instruct-ultrachat-bs4-cosine-ds2-lora-save_limit1-seqlen-1',
    );
  });

  test('the values merged for the real pipeline give the same name', () => {
    const declared = declaredInputs(pipelineComponentSpec());
    const merged = mergeTrainingParameters(SEED_TRAINING_PARAMETERS, PHI3_MODEL_DEFAULTS, {}, declared, new Set());
    expect(pipelineDisplayName(MODEL, merged.values, 1)).toBe(
      'Phi-3-mini-4k-instruct-ultrachat-bs1-cosine-ds2-lora-save_limit1-seqlen-1',
    );
  });

  test('seed parameters alone (no model defaults): save_limit-1', () => {
    expect(pipelineDisplayName(MODEL, SEED_TRAINING_PARAMETERS, 1)).toBe(
      'Phi-3-mini-4k-instruct-ultrachat-bs1-cosine-ds2-lora-save_limit-1-seqlen-1',
    );
  });

  test('deepspeed off gives "nods", lora off gives "nolora"', () => {
    const params = { ...notebookParameters, apply_deepspeed: 'false', apply_lora: 'false' };
    expect(pipelineDisplayName(MODEL, params, 1)).toBe(
      'Phi-3-mini-4k-instruct-ultrachat-bs1-cosine-nods-nolora-save_limit1-seqlen-1',
    );
  });

  test('boolean true/false behave like the strings "true"/"false"', () => {
    const params = { ...notebookParameters, apply_deepspeed: false, apply_lora: true };
    expect(pipelineDisplayName(MODEL, params, 1)).toBe(
      'Phi-3-mini-4k-instruct-ultrachat-bs1-cosine-nods-lora-save_limit1-seqlen-1',
    );
  });

  test('gradient accumulation and nodes multiply the batch size; stage and seq length are shown', () => {
    const params = {
      ...notebookParameters,
      per_device_train_batch_size: 2,
      gradient_accumulation_steps: 4,
      num_nodes_finetune: 2,
      max_seq_length: 2048,
      deepspeed_stage: '3',
    };
    expect(pipelineDisplayName(MODEL, params, 8)).toBe(
      'Phi-3-mini-4k-instruct-ultrachat-bs128-cosine-ds3-lora-save_limit1-seqlen2048',
    );
  });

  test('the notebook fallbacks apply to an empty parameter set', () => {
    expect(pipelineDisplayName(MODEL, {}, 1)).toBe(
      'Phi-3-mini-4k-instruct-ultrachat-bs1-linear-nods-nolora-save_limit-1-seqlen-1',
    );
  });
});
