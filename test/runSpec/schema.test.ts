import { experimentNameFor, parseRunSpec, RunSpecError } from '../../src/runSpec/schema';

/** Parses and returns the RunSpecError (fails the test if the input is accepted). */
function rejection(input: unknown): RunSpecError {
  try {
    parseRunSpec(input);
  } catch (err) {
    expect(err).toBeInstanceOf(RunSpecError);
    return err as RunSpecError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseRunSpec defaults', () => {
  test('an empty spec gets every seed default', () => {
    const spec = parseRunSpec({});
    expect(spec.model).toEqual({ registry: 'azureml', name: 'Phi-3-mini-4k-instruct' });
    expect(spec.pipelineComponent).toEqual({ name: 'chat_completion_pipeline' });
    expect(spec.dataset).toEqual({
      source: 'HuggingFaceH4/ultrachat_200k',
      revision: 'main',
      trainSplit: 'train_sft',
      testSplit: 'test_sft',
      scoringSplit: 'test_gen',
      percent: 5,
      maxInvalidFraction: 0.01,
    });
    // The sizes are left unset: resolveModel takes the notebook's when the model allows them (sizePicking.ts).
    expect(spec.compute).toEqual({ name: 'ftflow-a100', createIfMissing: true, maxNodes: 1 });
    expect(spec.deployment).toEqual({
      name: 'demo',
      instanceCount: 1,
      livenessInitialDelaySeconds: 600,
      requestTimeoutMs: 90000,
      allowInstanceTypeOutsideAllowList: false,
      keepAliveMinutes: 0,
    });
    expect(spec.qualityGate).toEqual({});
    expect(spec.budget).toEqual({});
    expect(spec.scoring.parameters).toEqual({ temperature: 0.6, top_p: 0.9, do_sample: true, max_new_tokens: 200 });
    expect(spec.training).toEqual({});
    expect(spec.experimentName).toBeUndefined();
  });

  test('quality gate, budget and keep-alive are validated with the field named', () => {
    expect(parseRunSpec({ qualityGate: { eval_loss: { max: 1.2 } } }).qualityGate).toEqual({ eval_loss: { max: 1.2 } });
    expect(() => parseRunSpec({ qualityGate: { eval_loss: {} } })).toThrow(
      /qualityGate.eval_loss: give "max" and\/or "min"/,
    );
    expect(() => parseRunSpec({ budget: { maxTrainingMinutes: 0 } })).toThrow(
      /budget.maxTrainingMinutes must be greater than 0/,
    );
    expect(() => parseRunSpec({ deployment: { keepAliveMinutes: -1 } })).toThrow(
      /deployment.keepAliveMinutes must be 0 or more/,
    );
    expect(() => parseRunSpec({ deployment: { keepAliveMinutes: 7 * 24 * 60 + 1 } })).toThrow(/at most 10080/);
  });

  test('undefined and null are treated as an empty spec', () => {
    expect(parseRunSpec(undefined)).toEqual(parseRunSpec({}));
    expect(parseRunSpec(null)).toEqual(parseRunSpec({}));
  });

  test('partial nested objects keep the other defaults', () => {
    const spec = parseRunSpec({ dataset: { percent: 10 }, deployment: { name: 'my-demo' }, model: { version: '15' } });
    expect(spec.dataset).toMatchObject({
      source: 'HuggingFaceH4/ultrachat_200k',
      percent: 10,
      trainSplit: 'train_sft',
      scoringSplit: 'test_gen',
    });
    expect(spec.deployment.instanceType).toBeUndefined();
    expect(spec.deployment).toMatchObject({
      name: 'my-demo',
      livenessInitialDelaySeconds: 600,
      requestTimeoutMs: 90000,
    });
    expect(spec.model).toEqual({ registry: 'azureml', name: 'Phi-3-mini-4k-instruct', version: '15' });
  });

  test('a partial scoring.parameters keeps the notebook sampling parameters it does not set', () => {
    expect(parseRunSpec({ scoring: { parameters: { temperature: 0.2 } } }).scoring.parameters).toEqual({
      temperature: 0.2,
      top_p: 0.9,
      do_sample: true,
      max_new_tokens: 200,
    });
  });

  test('model names may contain dots, as registry model names do', () => {
    expect(parseRunSpec({ model: { name: 'Phi-3.5-mini-instruct' } }).model.name).toBe('Phi-3.5-mini-instruct');
  });

  test('accepts percent 100 and a fractional percent', () => {
    expect(parseRunSpec({ dataset: { percent: 100 } }).dataset.percent).toBe(100);
    expect(parseRunSpec({ dataset: { percent: 0.5 } }).dataset.percent).toBe(0.5);
  });
});

describe('parseRunSpec rejects bad input with a RunSpecError naming the field', () => {
  test.each([
    [0, 'greater than 0'],
    [101, 'at most 100'],
    ['five', 'must be a number'],
    [-5, 'greater than 0'],
  ])('dataset.percent %p', (percent, text) => {
    const err = rejection({ dataset: { percent } });
    expect(err.issues).toEqual([{ field: 'dataset.percent', message: expect.stringContaining(text) }]);
    expect(err.message).toContain('dataset.percent');
  });

  test('unknown top-level field is named', () => {
    const err = rejection({ modle: {} });
    expect(err.issues).toEqual([{ field: '(spec)', message: expect.stringContaining('"modle"') }]);
    expect(err.message).toContain('"modle"');
  });

  test('unknown nested field is named with its parent', () => {
    const err = rejection({ dataset: { percnt: 5 } });
    expect(err.issues).toEqual([{ field: 'dataset', message: expect.stringContaining('"percnt"') }]);
    expect(err.message).toMatch(/dataset: unknown field\(s\) "percnt"/);
  });

  test.each([
    ['1abc', 'start with a letter'],
    ['ab', 'at least 3'],
    ['a_b', 'start with a letter'],
    ['abc-', 'start with a letter'],
    ['a'.repeat(33), 'at most 32'],
  ])('endpoint-invalid deployment.name %p', (name, text) => {
    const err = rejection({ deployment: { name } });
    expect(err.issues.map((i) => i.field)).toEqual(['deployment.name']);
    expect(err.issues[0].message).toContain(text);
  });

  test('a 32-character deployment name is accepted', () => {
    expect(parseRunSpec({ deployment: { name: 'a'.repeat(32) } }).deployment.name).toHaveLength(32);
  });

  test.each(['1cluster', 'ab', 'gpu_cluster', 'gpu-'])('bad compute.name %p', (name) => {
    const err = rejection({ compute: { name } });
    expect(err.issues.map((i) => i.field)).toEqual(['compute.name']);
  });

  test.each(['az', 'my registry', '-azureml'])('bad model.registry %p', (registry) => {
    const err = rejection({ model: { registry } });
    expect(err.issues.map((i) => i.field)).toEqual(['model.registry']);
    expect(err.message).toContain('registry');
  });

  test.each(['ultrachat_200k', 'HuggingFaceH4/ultrachat 200k', 'a/b/c'])('bad dataset.source %p', (source) => {
    const err = rejection({ dataset: { source } });
    expect(err.issues.map((i) => i.field)).toEqual(['dataset.source']);
  });

  test('bad model.name is named', () => {
    expect(rejection({ model: { name: '-phi' } }).issues.map((i) => i.field)).toEqual(['model.name']);
  });

  test('every bad field is reported at once', () => {
    const err = rejection({ dataset: { percent: 0 }, deployment: { name: 'ab' } });
    expect(err.issues.map((i) => i.field).sort()).toEqual(['dataset.percent', 'deployment.name']);
  });

  test('training values must be strings, numbers or booleans', () => {
    expect(rejection({ training: { learning_rate: [1] } }).issues.map((i) => i.field)).toEqual([
      'training.learning_rate',
    ]);
  });
});

describe('experimentNameFor', () => {
  test('defaults to chat_completion_<model name> as in the notebook', () => {
    expect(experimentNameFor(parseRunSpec({}))).toBe('chat_completion_Phi-3-mini-4k-instruct');
    expect(experimentNameFor(parseRunSpec({ model: { name: 'Phi-3-medium-4k-instruct' } }))).toBe(
      'chat_completion_Phi-3-medium-4k-instruct',
    );
  });

  test('an explicit experimentName wins', () => {
    expect(experimentNameFor(parseRunSpec({ experimentName: 'mine' }))).toBe('mine');
  });
});
