import { runFailureOf } from '../helpers/runFailure';
// The registry's two forms of a model's metadata (src/azure/modelTags.ts): the tags the notebook reads, and
// the system_metadata block azureml-assets moved them into in mid-2026. Facts from the vendored specs of
// reference/azureml-assets/models-current (read with the yaml package, not through the emulator).
import {
  fineTunableModels,
  finetuneRetiredAt,
  finetuneRetirementDate,
  readModelTags,
  summarizeModel,
  SYSTEM_METADATA_PROPERTY,
} from '../../src/azure/modelTags';
import { currentModelFolders, PHI4_FINETUNE, REFERENCE_DAY, registryModelFromSpec } from '../helpers/assetFacts';

const TODAY = REFERENCE_DAY;

describe('the system_metadata form (Phi-4 v8 today)', () => {
  const phi4 = registryModelFromSpec('Phi-4');
  const info = readModelTags(phi4.tags, phi4.properties, phi4.systemMetadata);

  test('allow lists from supportedComputes, defaults from the tag that stayed, tasks and preview', () => {
    expect(info.finetuneComputeAllowList).toEqual(PHI4_FINETUNE);
    expect(info.inferenceComputeAllowList).toHaveLength(8);
    expect(info.inferenceComputeAllowList).not.toContain('Standard_NC6s_v3');
    expect(info.allowListSource).toBe('system_metadata');
    expect(info.modelSpecificDefaults).toMatchObject({ deepspeed_stage: 3, apply_lora: 'true', learning_rate: 5e-6 });
    expect(info.fineTuningTasks).toEqual(['chat-completion']);
    expect(info.preview).toBe(true);
    expect(info.lifecycleDates).toEqual({});
    expect(finetuneRetiredAt(info, TODAY)).toBe(false);
  });

  test('the block as one JSON string in the properties (how the local emulator serves it) reads the same', () => {
    const viaProperty = readModelTags(phi4.tags, {
      [SYSTEM_METADATA_PROPERTY]: JSON.stringify(phi4.systemMetadata),
    });
    expect(viaProperty).toEqual(info);
  });

  test('a retired model: the deprecation block gives the dates; retired by date with or without isArchived', () => {
    for (const folder of ['phi-3-small-8k-instruct', 'phi-3-mini-128k-instruct']) {
      const asset = registryModelFromSpec(folder);
      const meta = readModelTags(asset.tags, asset.properties, asset.systemMetadata);
      expect(finetuneRetirementDate(meta)).toBe('2025-08-30T00:00:00.000000Z');
      expect(finetuneRetiredAt(meta, TODAY)).toBe(true);
      expect(finetuneRetiredAt(meta, Date.parse('2025-08-29T23:59:59Z'))).toBe(false);
      expect(meta.lifecycleDates).toMatchObject({ finetuneDeprecationDate: '2025-06-30T00:00:00.000000Z' });
    }
    expect(registryModelFromSpec('phi-3-small-8k-instruct').isArchived).toBe(false);
    expect(registryModelFromSpec('phi-3-mini-128k-instruct').isArchived).toBe(true);
  });

  test.each([
    ['not JSON', '{"supportedComputes": '],
    ['not an object', '["a"]'],
    ['a list that is not of names', '{"supportedComputes": {"finetuneComputes": [1, 2]}}'],
    ['a list that is a string', '{"supportedComputes": {"inferenceComputes": "Standard_NC24ads_A100_v4"}}'],
  ])('a malformed system_metadata (%s) is a validation RunFailure', (_what, raw) => {
    const err = runFailureOf(() => readModelTags({}, { [SYSTEM_METADATA_PROPERTY]: raw }));
    expect(err.kind).toBe('validation');
    expect(err.code).toBe('BadModelTag');
    expect(err.message).toContain('system_metadata');
  });

  test('system_metadata wins over the tags where both are given; the tags fill what it lacks', () => {
    const info = readModelTags(
      {
        finetune_compute_allow_list: "['Standard_NC6s_v3']",
        inference_compute_allow_list: "['Standard_NC6s_v3']",
      },
      {},
      { supportedComputes: { finetuneComputes: ['Standard_NC24ads_A100_v4'] } },
    );
    expect(info.finetuneComputeAllowList).toEqual(['Standard_NC24ads_A100_v4']);
    expect(info.inferenceComputeAllowList).toEqual(['Standard_NC6s_v3']);
    expect(info.allowListSource).toBe('system_metadata');
  });

  test('model defaults inside system_metadata are read when the tag is gone', () => {
    const info = readModelTags({}, {}, { modelSpecificDefaults: { apply_lora: 'false', deepspeed_stage: 3, x: [1] } });
    expect(info.modelSpecificDefaults).toEqual({ apply_lora: 'false', deepspeed_stage: 3 });
  });
});

describe('both forms of every vendored model say the same (MODELS.md: "checked programmatically")', () => {
  test.each(currentModelFolders())('%s', (folder) => {
    const head = registryModelFromSpec(folder, 'head');
    const before = registryModelFromSpec(folder, 'tags');
    const now = readModelTags(head.tags, head.properties, head.systemMetadata);
    const then = readModelTags(before.tags, before.properties, before.systemMetadata);
    expect(now.allowListSource).toBe('system_metadata');
    expect(then.allowListSource).toBe('tags');
    expect(now.finetuneComputeAllowList).toEqual(then.finetuneComputeAllowList);
    expect(now.inferenceComputeAllowList).toEqual(then.inferenceComputeAllowList);
    expect(now.modelSpecificDefaults).toEqual(then.modelSpecificDefaults);
    expect(now.fineTuningTasks).toEqual(['chat-completion']);
    expect(then.fineTuningTasks).toEqual(['chat-completion']);
    // Retired in one form, retired in the other (dates as tags then, ISO timestamps now).
    expect(finetuneRetiredAt(now, TODAY)).toBe(finetuneRetiredAt(then, TODAY));
    expect(finetuneRetirementDate(now)?.slice(0, 10)).toBe(finetuneRetirementDate(then));
  });
});

describe("the registry's fine-tunable chat-completion models today", () => {
  const assets = currentModelFolders().map((f) => registryModelFromSpec(f));

  test('Phi-4 v8 alone is current; every Phi-3/3.5 and Llama-2 is retired', () => {
    expect(fineTunableModels(assets, TODAY).map((m) => `${m.name} v${m.version}`)).toEqual(['Phi-4 v8']);
    const all = fineTunableModels(assets, TODAY, { all: true });
    expect(all).toHaveLength(10);
    for (const m of all.filter((x) => x.name !== 'Phi-4')) {
      expect(m.retired).toBe(true);
      expect(m.finetuneRetirementDate).toMatch(/^2025-0[68]-30/);
    }
    expect(all.find((m) => m.name === 'Phi-3-small-8k-instruct')).toMatchObject({ isArchived: false, retired: true });
  });

  test('on the notebook’s day, before the retirements, the Phi-3 models fine-tune too', () => {
    const names = fineTunableModels(assets, Date.parse('2025-01-21T00:00:00Z')).map((m) => m.name);
    // Archived ones never count: only those the spec does not archive.
    expect(names).toEqual(['Llama-2-7b-chat', 'Phi-3-small-8k-instruct', 'Phi-4']);
  });

  test('another task, or metadata that cannot be read, leaves a model out', () => {
    expect(fineTunableModels(assets, TODAY, { task: 'text-generation' })).toEqual([]);
    const { systemMetadata: _dropped, ...first } = assets[0];
    const broken = { ...first, properties: { [SYSTEM_METADATA_PROPERTY]: '{' } };
    expect(summarizeModel(broken, TODAY)).toBeUndefined();
  });

  test('the summary carries the allow lists and where they came from', () => {
    const phi4 = fineTunableModels(assets, TODAY)[0];
    expect(phi4).toMatchObject({
      name: 'Phi-4',
      version: '8',
      retired: false,
      preview: true,
      finetuneComputeAllowList: PHI4_FINETUNE,
      allowListSource: 'system_metadata',
    });
    expect(phi4?.finetuneRetirementDate).toBeUndefined();
  });
});
