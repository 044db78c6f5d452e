import { runFailureOf } from '../helpers/runFailure';
import { readModelTags } from '../../src/azure/modelTags';
import { PHI3_MODEL_DEFAULTS, PHI3_V15_PROPERTIES, PHI3_V15_TAGS } from '../helpers/assetFacts';

describe('readModelTags on Phi-3-mini-4k-instruct v15', () => {
  const info = readModelTags(PHI3_V15_TAGS, PHI3_V15_PROPERTIES);

  test('reads the Python-repr allow lists (single quotes)', () => {
    expect(info.finetuneComputeAllowList).toEqual([
      'Standard_NC24ads_A100_v4',
      'Standard_NC48ads_A100_v4',
      'Standard_NC96ads_A100_v4',
      'Standard_ND96asr_v4',
      'Standard_ND96amsr_A100_v4',
    ]);
    expect(info.inferenceComputeAllowList).toHaveLength(9);
    expect(info.inferenceComputeAllowList?.[0]).toBe('Standard_NC6s_v3');
    expect(info.finetuneComputeAllowList).not.toContain('Standard_ND40rs_v2');
  });

  test('reads the JSON model_specific_defaults, numbers included (5e-06)', () => {
    expect(info.modelSpecificDefaults).toEqual(PHI3_MODEL_DEFAULTS);
  });

  test('picks the lifecycle dates from the tags', () => {
    expect(info.lifecycleDates).toEqual({
      InferenceLegacyDate: '2025-06-09',
      InferenceDeprecationDate: '2025-06-30',
      InferenceRetirementDate: '2025-08-30',
      FinetuneDeprecationDate: '2025-06-30',
      FinetuneRetirementDate: '2025-08-30',
    });
  });
});

describe('readModelTags literal forms', () => {
  test('missing tags give undefined and no dates', () => {
    expect(readModelTags({})).toEqual({
      finetuneComputeAllowList: undefined,
      inferenceComputeAllowList: undefined,
      modelSpecificDefaults: undefined,
      lifecycleDates: {},
    });
  });

  test('Python-repr dict with True/False/None; non-scalar values are dropped', () => {
    const info = readModelTags({
      model_specific_defaults: "{'apply_lora': True, 'apply_ort': False, 'precision': 16, 'seed': None, 'x': [1]}",
    });
    expect(info.modelSpecificDefaults).toEqual({ apply_lora: true, apply_ort: false, precision: 16 });
  });

  test('JSON list with double quotes and a trailing comma', () => {
    expect(
      readModelTags({ finetune_compute_allow_list: '["Standard_NC24ads_A100_v4",]' }).finetuneComputeAllowList,
    ).toEqual(['Standard_NC24ads_A100_v4']);
  });

  test('an empty list is an empty allow list, not undefined', () => {
    expect(readModelTags({ inference_compute_allow_list: '[]' }).inferenceComputeAllowList).toEqual([]);
  });

  test.each([
    ['finetune_compute_allow_list', '[Standard_NC24ads_A100_v4, Standard_NC48ads_A100_v4]'],
    ['finetune_compute_allow_list', "['Standard_NC24ads_A100_v4'"],
    ['finetune_compute_allow_list', '[1, 2]'],
    ['finetune_compute_allow_list', "{'a': 'b'}"],
    ['inference_compute_allow_list', 'Standard_NC6s_v3'],
    ['model_specific_defaults', "['a']"],
    ['model_specific_defaults', 'None'],
    ['model_specific_defaults', '{apply_lora: "true"'],
  ])('malformed %s %p is a validation RunFailure', (tag, raw) => {
    const err = runFailureOf(() => readModelTags({ [tag]: raw }));
    expect(err.kind).toBe('validation');
    expect(err.code).toBe('BadModelTag');
    expect(err.message).toContain(tag);
  });

  test('lifecycle dates come from properties too; tags win over properties', () => {
    const info = readModelTags(
      { FinetuneRetirementDate: '2025-08-30', notes: 'notes.md' },
      { finetuneDeprecationDate: '2025-06-30', FinetuneRetirementDate: '2025-01-01', languages: 'en' },
    );
    expect(info.lifecycleDates).toEqual({
      finetuneDeprecationDate: '2025-06-30',
      FinetuneRetirementDate: '2025-08-30',
    });
  });

  // BUG (src/azure/modelTags.ts parseLiteral): True/False/None are replaced inside quoted strings too.
  test('True/False/None inside quoted strings are left alone', () => {
    const info = readModelTags({ model_specific_defaults: "{'note': 'None of True'}" });
    expect(info.modelSpecificDefaults).toEqual({ note: 'None of True' });
  });
});
