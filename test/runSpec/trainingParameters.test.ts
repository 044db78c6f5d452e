import { SEED_TRAINING_PARAMETERS } from '../../src/runSpec/defaults';
import { declaredInputs, mergeTrainingParameters, type DeclaredInput } from '../../src/runSpec/trainingParameters';
import { PHI3_MODEL_DEFAULTS, pipelineComponentSpec } from '../helpers/assetFacts';
import { RESERVED_INPUTS } from '../../src/activities/trainingInputs';

const component = pipelineComponentSpec();
const declared = declaredInputs(component);
const merge = (
  user: Record<string, string | number | boolean>,
  modelDefaults: Record<string, string | number | boolean> | undefined = PHI3_MODEL_DEFAULTS,
) => mergeTrainingParameters(SEED_TRAINING_PARAMETERS, modelDefaults, user, declared, RESERVED_INPUTS);

describe('declaredInputs', () => {
  test('reads the list form of chat_completion_pipeline 0.0.82 (69 inputs)', () => {
    expect(Object.keys(declared)).toHaveLength(69);
    expect(declared.per_device_train_batch_size).toMatchObject({ type: 'integer', default: 1, min: 1 });
    expect(declared.lr_scheduler_type.enum).toEqual([
      'linear',
      'cosine',
      'cosine_with_restarts',
      'polynomial',
      'constant',
      'constant_with_warmup',
    ]);
    expect(declared).not.toHaveProperty('learning_rate_min');
    expect(declared.apply_lora).not.toHaveProperty('name');
  });

  test('reads the map form (component YAML) the same way', () => {
    const map: Record<string, unknown> = {};
    for (const { name, ...rest } of component.inputs) map[name as string] = rest;
    expect(declaredInputs({ inputs: map })).toEqual(declared);
  });

  test('skips malformed entries and tolerates missing specs', () => {
    expect(declaredInputs(undefined)).toEqual({});
    expect(declaredInputs({})).toEqual({});
    expect(declaredInputs({ inputs: [{ type: 'string' }, 'x', null, { name: 'a', type: 'string' }] })).toEqual({
      a: { type: 'string' },
    });
    expect(declaredInputs({ inputs: { a: { type: 'integer' }, b: 'string', c: null } })).toEqual({
      a: { type: 'integer' },
    });
  });
});

describe('mergeTrainingParameters with the real pipeline inputs', () => {
  test('precedence is seed < model defaults < user', () => {
    const seedOnly = mergeTrainingParameters(SEED_TRAINING_PARAMETERS, undefined, {}, declared, RESERVED_INPUTS);
    expect(seedOnly.literals.num_train_epochs).toBe('3');
    const withModel = merge({});
    expect(withModel.literals.num_train_epochs).toBe('1');
    const withUser = merge({ num_train_epochs: 2, lr_scheduler_type: 'linear' });
    expect(withUser.literals.num_train_epochs).toBe('2');
    expect(withUser.literals.lr_scheduler_type).toBe('linear');
    expect(withUser.errors).toEqual([]);
  });

  test('the seed merged with Phi-3 defaults gives the notebook finetune parameters, as strings', () => {
    const result = merge({});
    expect(result.errors).toEqual([]);
    expect(result.literals).toEqual({
      num_train_epochs: '1',
      per_device_train_batch_size: '1',
      per_device_eval_batch_size: '1',
      learning_rate: String(5e-6),
      lr_scheduler_type: 'cosine',
      apply_lora: 'true',
      apply_deepspeed: 'true',
      deepspeed_stage: '2',
      apply_ort: 'false',
      precision: '16',
      ignore_mismatched_sizes: 'false',
      gradient_accumulation_steps: '1',
      logging_strategy: 'steps',
      logging_steps: '10',
      save_total_limit: '1',
    });
  });

  test('drops model defaults the pipeline does not declare (learning_rate_min/max), with a note, not a warning', () => {
    const result = merge({});
    expect(result.values).not.toHaveProperty('learning_rate_min');
    expect(result.values).not.toHaveProperty('learning_rate_max');
    expect(result.warnings).toEqual([]);
    expect(result.notes).toEqual([
      'model default "learning_rate_min" is not an input of the pipeline component; dropped',
      'model default "learning_rate_max" is not an input of the pipeline component; dropped',
    ]);
    expect(result.errors).toEqual([]);
  });

  test('an unknown user key is an error naming it', () => {
    const result = merge({ learning_rte: 1e-5 });
    expect(result.errors).toEqual([
      'training.learning_rte is not an input of the pipeline component: remove it or check the spelling',
    ]);
    expect(result.values).not.toHaveProperty('learning_rte');
  });

  test('a reserved key set by the user is an error', () => {
    const result = merge({ number_of_gpu_to_use_finetuning: 8, compute_finetune: 'other' });
    expect(result.errors).toHaveLength(2);
    expect(result.errors[0]).toContain('training.number_of_gpu_to_use_finetuning');
    expect(result.errors[1]).toContain('training.compute_finetune');
    expect(result.literals).not.toHaveProperty('number_of_gpu_to_use_finetuning');
  });

  test('reserved keys in seed or model defaults are skipped silently', () => {
    const result = mergeTrainingParameters(
      { compute_finetune: 'x' },
      { train_file_path: 'y' },
      {},
      declared,
      RESERVED_INPUTS,
    );
    expect(result).toEqual({ values: {}, literals: {}, warnings: [], notes: [], errors: [] });
  });

  test.each<[string, string | number, string]>([
    ['num_train_epochs', '1.5', 'must be an integer'],
    ['num_train_epochs', 1.5, 'must be an integer'],
    ['learning_rate', 'abc', 'must be a number'],
    ['learning_rate', '', 'must be a number'],
    [
      'lr_scheduler_type',
      'bogus',
      'must be one of linear, cosine, cosine_with_restarts, polynomial, constant, constant_with_warmup',
    ],
    ['deepspeed_stage', 1, 'must be one of 2, 3'],
    ['per_device_train_batch_size', 0, 'must be at least 1'],
  ])('rejects %s = %p (%s)', (key, value, text) => {
    const result = merge({ [key]: value });
    expect(result.errors).toEqual([`training.${key} = ${JSON.stringify(value)} ${text}`]);
    expect(result.literals).not.toHaveProperty(key);
  });

  test('a bad model default is also an error, naming its source', () => {
    const result = merge({}, { ...PHI3_MODEL_DEFAULTS, precision: 8 });
    expect(result.errors).toEqual(['model default "precision" = 8 must be one of 32, 16']);
  });

  test('a user value fixes a bad model default', () => {
    expect(merge({ precision: '32' }, { ...PHI3_MODEL_DEFAULTS, precision: 8 }).errors).toEqual([]);
  });

  test('booleans stringify to "true"/"false", numbers to strings', () => {
    const result = merge({
      apply_lora: false,
      apply_deepspeed: true,
      deepspeed_stage: 3,
      max_seq_length: 2048,
      learning_rate: 0.0001,
      lora_dropout: 0.05,
    });
    expect(result.errors).toEqual([]);
    expect(result.literals).toMatchObject({
      apply_lora: 'false',
      apply_deepspeed: 'true',
      deepspeed_stage: '3',
      max_seq_length: '2048',
      learning_rate: '0.0001',
      lora_dropout: '0.05',
    });
    expect(result.values).toMatchObject({ apply_lora: false, deepspeed_stage: 3 });
  });

  test('numeric strings are accepted for number and integer inputs', () => {
    const result = merge({ learning_rate: '5e-6', num_train_epochs: '2', max_seq_length: '-1' });
    expect(result.errors).toEqual([]);
    expect(result.literals).toMatchObject({ learning_rate: '5e-6', num_train_epochs: '2', max_seq_length: '-1' });
  });

  test('inputs that are not literals (models, files) cannot be set as training parameters', () => {
    const result = merge({ deepspeed: 'azureml://x' });
    expect(result.errors).toEqual([
      'training.deepspeed = "azureml://x": input of type uri_file cannot be set as a training parameter',
    ]);
  });

  test('boolean-typed inputs accept true/false only, and max is enforced', () => {
    const own: Record<string, DeclaredInput> = { flag: { type: 'boolean' }, n: { type: 'integer', min: 1, max: 4 } };
    expect(mergeTrainingParameters({}, {}, { flag: true, n: 4 }, own, new Set()).errors).toEqual([]);
    expect(mergeTrainingParameters({}, {}, { flag: 'yes', n: 5 }, own, new Set()).errors).toEqual([
      'training.flag = "yes" must be true or false',
      'training.n = 5 must be at most 4',
    ]);
  });
});
