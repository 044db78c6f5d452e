// Issue 13, "bounded everything": what a hostile or careless caller can put in a run spec is bounded
// (record sizes, key and value lengths, Azure's characters in names, sensible durations, no prototype
// keys), and every failure message and issue list is capped where it is built, so a failure can always
// be reported (gRPC refuses messages over 4 MB) and read.
import { ApplicationFailure } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import type { ActivityDeps } from '../../src/activities/deps';
import { makeResolveModel } from '../../src/activities/resolveModel';
import { RESERVED_INPUTS, trainingInputs } from '../../src/activities/trainingInputs';
import type { RegistryAssetVersion } from '../../src/azure/registry';
import { asActivityFailure, classified, retriedUntilDone, RunFailure } from '../../src/azure/errors';
import { SEED_TRAINING_PARAMETERS } from '../../src/runSpec/defaults';
import { parseRunSpec, RunSpecError, type SpecIssue } from '../../src/runSpec/schema';
import { declaredInputs, mergeTrainingParameters } from '../../src/runSpec/trainingParameters';
import { PHI3_MODEL_DEFAULTS, PHI3_V15_PROPERTIES, PHI3_V15_TAGS, pipelineComponentSpec } from '../helpers/assetFacts';

/** What a caller sees of a refused spec: its issues (the client, CLI and API all show these). */
function refusal(input: unknown): { error: RunSpecError; issues: SpecIssue[] } {
  try {
    parseRunSpec(input);
  } catch (err) {
    if (err instanceof RunSpecError) return { error: err, issues: err.issues };
    throw err;
  }
  throw new Error(`accepted: ${JSON.stringify(input).slice(0, 200)}`);
}

function issueFor(input: unknown, field: string): string {
  const { issues } = refusal(input);
  const found = issues.find((i) => i.field === field);
  if (!found) throw new Error(`no issue names ${field}: ${JSON.stringify(issues).slice(0, 2000)}`);
  return found.message;
}

const manyKeys = (n: number, prefix = 'unknown_input_'): Record<string, number> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 1]));

const KIB = 1024;

describe('failure messages are capped where failures are created', () => {
  const huge = 'x'.repeat(5 * 1024 * 1024);

  test('RunFailure keeps the head of its message and says how much was cut', () => {
    const failure = new RunFailure('validation', `head of the message ${huge}`);
    expect(failure.message.length).toBeLessThan(16 * KIB);
    expect(failure.message.startsWith('head of the message')).toBe(true);
    expect(failure.message).toMatch(/characters cut/);
    expect(String(failure.stack).length).toBeLessThan(32 * KIB);
  });

  test('asActivityFailure, classified and retriedUntilDone cap messages from anywhere (an Azure error, our own)', async () => {
    const azure = Object.assign(new Error(`Azure said: ${huge}`), { statusCode: 400, code: 'BadRequest' });
    const failure = asActivityFailure(azure, 'submitPipeline');
    expect(failure.message.length).toBeLessThan(16 * KIB);
    expect(failure.message).toMatch(/^submitPipeline: Azure said: x+/);
    expect(String(failure.stack).length).toBeLessThan(32 * KIB);

    const wrapped = await classified('resolveModel', () => Promise.reject(new Error(huge))).catch((e: unknown) => e);
    expect(wrapped).toBeInstanceOf(ApplicationFailure);
    expect((wrapped as Error).message.length).toBeLessThan(16 * KIB);

    const given = ApplicationFailure.nonRetryable(huge, 'Mine');
    const passed = asActivityFailure(given, 'stageDataset');
    expect(passed.message.length).toBeLessThan(16 * KIB);

    const cleanup = await retriedUntilDone('deleteEndpoint', () => Promise.reject(azure)).catch((e: unknown) => e);
    expect((cleanup as Error).message.length).toBeLessThan(16 * KIB);
    expect((cleanup as Error).message).toMatch(/cleanup keeps retrying/);
  });
});

describe("resolveModel's training check with 50,000 unknown keys", () => {
  const component = pipelineComponentSpec();
  const user = manyKeys(50_000);
  const tags = { ...PHI3_V15_TAGS };
  for (const k of Object.keys(tags)) if (/Date$/.test(k)) delete tags[k];
  const registry = {
    get: (registryName: string, kind: string, name: string): Promise<RegistryAssetVersion> =>
      Promise.resolve({
        assetId: `azureml://registries/${registryName}/${kind}/${name}/versions/1`,
        name,
        version: kind === 'components' ? component.version : '15',
        tags: kind === 'models' ? tags : {},
        properties: kind === 'models' ? PHI3_V15_PROPERTIES : {},
        isArchived: false,
        componentSpec: kind === 'components' ? component : undefined,
      }),
  };

  test('trainingInputs fails at once with a capped message naming the first keys and the count of the rest', async () => {
    const t0 = Date.now();
    const err = await trainingInputs(
      { registry } as unknown as Pick<ActivityDeps, 'registry'>,
      'azureml',
      { name: 'chat_completion_pipeline' },
      user,
      PHI3_MODEL_DEFAULTS,
    ).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(RunFailure);
    const message = (err as Error).message;
    expect(message.length).toBeLessThan(16 * KIB);
    expect(message).toContain('training.unknown_input_0 is not an input of the pipeline component');
    expect(message).toContain('training.unknown_input_1 is not an input');
    expect(message).toMatch(/and 49,9\d\d more/);
  });

  test('the resolveModel activity reports it as one small non-retryable failure', async () => {
    const resolveModel = makeResolveModel({ registry } as unknown as ActivityDeps);
    const err = await resolveModel(
      { registry: 'azureml', name: 'Phi-3-mini-4k-instruct' },
      { pipelineComponent: { name: 'chat_completion_pipeline' }, training: user },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message.length).toBeLessThan(16 * KIB);
    expect(failure.message).toContain('training.unknown_input_0 is not an input');
    expect(failure.message).toMatch(/and 49,9\d\d more/);
  });

  test('the run spec itself refuses 50,000 training keys first, naming training and the limit, in a small error', () => {
    const { error, issues } = refusal({ training: user });
    expect(issues.map((i) => i.field)).toEqual(['training']);
    expect(issues[0]?.message).toMatch(/training has 50,000 entries: at most 256 are allowed/);
    expect(error.message.length).toBeLessThan(16 * KIB);
  });
});

describe('record caps in the run spec', () => {
  test('training: at most 256 entries; 256 pass the schema', () => {
    expect(() => parseRunSpec({ training: manyKeys(256) })).not.toThrow();
    expect(issueFor({ training: manyKeys(257) }, 'training')).toMatch(
      /training has 257 entries: at most 256 are allowed \(the pipeline component declares about 70 inputs\)/,
    );
  });

  test('scoring.parameters: at most 64 entries', () => {
    expect(() => parseRunSpec({ scoring: { parameters: manyKeys(60, 'p') } })).not.toThrow();
    expect(issueFor({ scoring: { parameters: manyKeys(65, 'p') } }, 'scoring.parameters')).toMatch(
      /scoring.parameters has 65 entries: at most 64 are allowed/,
    );
  });

  test('qualityGate: at most 64 metrics', () => {
    const gate = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, { max: 1 }]));
    expect(() => parseRunSpec({ qualityGate: gate(64) })).not.toThrow();
    expect(issueFor({ qualityGate: gate(65) }, 'qualityGate')).toMatch(/qualityGate has 65 metrics: at most 64/);
  });

  test('keys are at most 128 characters, string values at most 1024', () => {
    const long = 'k'.repeat(129);
    expect(() => parseRunSpec({ training: { ['k'.repeat(128)]: 1 } })).not.toThrow();
    expect(issueFor({ training: { [long]: 1 } }, 'training')).toMatch(
      /training has a key of 129 characters \("k+…"\): keys are at most 128 characters/,
    );
    expect(issueFor({ qualityGate: { [long]: { max: 1 } } }, 'qualityGate')).toMatch(/at most 128 characters/);
    expect(issueFor({ scoring: { parameters: { [long]: 1 } } }, 'scoring.parameters')).toMatch(/at most 128/);
    expect(() => parseRunSpec({ training: { lr_scheduler_type: 'v'.repeat(1024) } })).not.toThrow();
    expect(issueFor({ training: { lr_scheduler_type: 'v'.repeat(1025) } }, 'training.lr_scheduler_type')).toBe(
      'training.lr_scheduler_type must have at most 1024 characters',
    );
    expect(issueFor({ scoring: { parameters: { stop: 'v'.repeat(1025) } } }, 'scoring.parameters.stop')).toMatch(
      /at most 1024 characters/,
    );
  });

  test('a training value may not carry control or bidirectional formatting characters (it reaches the job PUT)', () => {
    expect(issueFor({ training: { lr_scheduler_type: 'cos\u0000ine' } }, 'training.lr_scheduler_type')).toMatch(
      /control characters/,
    );
    expect(issueFor({ training: { lr_scheduler_type: 'cos\u202eine' } }, 'training.lr_scheduler_type')).toMatch(
      /bidirectional/,
    );
  });

  test('a spec nested deeper than any field is refused at the path where it goes too deep, without recursion', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) {
      const next: Record<string, unknown> = {};
      deep.a = next;
      deep = next;
    }
    const { issues } = refusal({ dataset: root });
    expect(issues[0]?.field).toMatch(/^dataset\.a\.a/);
    expect(issues[0]?.message).toMatch(/nested deeper than 8 levels/);
  });
});

describe('__proto__, constructor and prototype keys are refused by name anywhere in a spec', () => {
  const cases: [string, string, string][] = [
    ['qualityGate.__proto__ (JSON)', '{"qualityGate": {"__proto__": {"max": 1}}}', 'qualityGate.__proto__'],
    ['training.__proto__ (JSON)', '{"training": {"__proto__": 5}}', 'training.__proto__'],
    [
      'scoring.parameters.__proto__ (JSON)',
      '{"scoring": {"parameters": {"__proto__": 1}}}',
      'scoring.parameters.__proto__',
    ],
    ['top-level __proto__ (JSON)', '{"__proto__": {"experimentName": "x"}}', '__proto__'],
    ['training.constructor (JSON)', '{"training": {"constructor": 1}}', 'training.constructor'],
    ['qualityGate.prototype (JSON)', '{"qualityGate": {"prototype": {"max": 1}}}', 'qualityGate.prototype'],
    ['dataset.constructor (JSON)', '{"dataset": {"constructor": {"prototype": 1}}}', 'dataset.constructor'],
  ];
  test.each(cases)('%s', (_name, json, field) => {
    expect(issueFor(JSON.parse(json), field)).toMatch(
      /is not allowed as a key in a run spec \(__proto__, constructor and prototype never are\): remove it/,
    );
  });

  test('from YAML too: the parser keeps __proto__ as an own key, and the check sees it', () => {
    const spec = parseYaml('qualityGate:\n  __proto__: { max: 1.2 }\ntraining:\n  constructor: 1\n') as unknown;
    const { issues } = refusal(spec);
    expect(issues.map((i) => i.field).sort()).toEqual(['qualityGate.__proto__', 'training.constructor']);
  });

  test('at run level too, a "constructor" training key is "not an input", not a type error', () => {
    const declared = declaredInputs(pipelineComponentSpec());
    const merged = mergeTrainingParameters(
      SEED_TRAINING_PARAMETERS,
      undefined,
      { constructor: 1, toString: 'x' },
      declared,
      RESERVED_INPUTS,
    );
    expect(merged.errors).toEqual([
      'training.constructor is not an input of the pipeline component: remove it or check the spelling',
      'training.toString is not an input of the pipeline component: remove it or check the spelling',
    ]);
  });
});

describe("names that reach Azure use Azure's characters", () => {
  const refused = [
    'nightly\u0000run',
    'nightly\u202erun',
    'nightly-🚀',
    'team/nightly',
    ' nightly',
    '.hidden',
    'x'.repeat(256),
  ];
  test.each(refused.map((n) => [JSON.stringify(n).slice(0, 40), n]))('experimentName %s is refused', (_s, name) => {
    expect(issueFor({ experimentName: name }, 'experimentName')).toMatch(
      /experimentName must start with a letter or digit and use only letters, digits, "_", "-" and "."/,
    );
  });

  test('experiment names like the notebook default (with dots, over 36 characters) are accepted', () => {
    for (const name of ['chat_completion_Phi-3.5-mini-instruct', 'nightly', 'a', 'x'.repeat(255)])
      expect(parseRunSpec({ experimentName: name }).experimentName).toBe(name);
  });

  test('compute.vmSize and deployment.instanceType are VM size names', () => {
    expect(issueFor({ compute: { vmSize: 'Standard_NC24\u0000' } }, 'compute.vmSize')).toMatch(
      /compute.vmSize must be an Azure VM size name such as "Standard_NC24ads_A100_v4"/,
    );
    expect(issueFor({ deployment: { instanceType: 'Standard/NC6s_v3' } }, 'deployment.instanceType')).toMatch(
      /deployment.instanceType must be an Azure VM size name such as "Standard_NC24ads_A100_v4"/,
    );
    expect(() =>
      parseRunSpec({ compute: { vmSize: 'Standard_E4-2s_v3' }, deployment: { instanceType: 'Standard_DS3_v2' } }),
    ).not.toThrow();
  });

  test('model.version and pipelineComponent.version are asset versions (they go into registry URLs)', () => {
    expect(issueFor({ model: { version: '..' } }, 'model.version')).toMatch(/model.version must be a version such as/);
    expect(issueFor({ pipelineComponent: { version: '1/../2' } }, 'pipelineComponent.version')).toMatch(
      /pipelineComponent.version must be a version such as/,
    );
    expect(() => parseRunSpec({ model: { version: '15' }, pipelineComponent: { version: '0.0.82' } })).not.toThrow();
  });
});

describe('durations have a sensible minimum', () => {
  test('budget.maxTrainingMinutes: at least 1 minute, at most 30 days', () => {
    for (const tiny of [1e-300, 0.05, 0.99])
      expect(issueFor({ budget: { maxTrainingMinutes: tiny } }, 'budget.maxTrainingMinutes')).toMatch(
        /budget.maxTrainingMinutes must be at least 1 \(minute\)/,
      );
    expect(issueFor({ budget: { maxTrainingMinutes: 1e300 } }, 'budget.maxTrainingMinutes')).toMatch(
      /at most 43200 \(30 days\)/,
    );
    expect(parseRunSpec({ budget: { maxTrainingMinutes: 1 } }).budget.maxTrainingMinutes).toBe(1);
    // 0 keeps its own message (one issue, not two)
    expect(refusal({ budget: { maxTrainingMinutes: 0 } }).issues).toEqual([
      { field: 'budget.maxTrainingMinutes', message: 'budget.maxTrainingMinutes must be greater than 0' },
    ]);
  });

  test('budget.maxCost: US dollars above 0, at most a million; each refusal is one issue naming the field', () => {
    expect(parseRunSpec({ budget: { maxCost: 12.5 } }).budget.maxCost).toBe(12.5);
    expect(parseRunSpec({}).budget.maxCost).toBeUndefined();
    for (const [value, message] of [
      [0, 'budget.maxCost must be greater than 0 (US dollars)'],
      [-1, 'budget.maxCost must be greater than 0 (US dollars)'],
      [1e300, 'budget.maxCost must be at most 1000000 (US dollars)'],
      ['25', 'budget.maxCost must be a number of US dollars, e.g. 25 or 12.5'],
    ] as const)
      expect(refusal({ budget: { maxCost: value } }).issues).toEqual([{ field: 'budget.maxCost', message }]);
  });

  test('deployment.keepAliveMinutes: 0 (delete at once) or at least 1 minute', () => {
    expect(issueFor({ deployment: { keepAliveMinutes: 1e-300 } }, 'deployment.keepAliveMinutes')).toMatch(
      /deployment.keepAliveMinutes must be 0 \(delete the endpoint right after the smoke test\) or at least 1/,
    );
    expect(parseRunSpec({ deployment: { keepAliveMinutes: 0 } }).deployment.keepAliveMinutes).toBe(0);
    expect(parseRunSpec({ deployment: { keepAliveMinutes: 1.5 } }).deployment.keepAliveMinutes).toBe(1.5);
  });
});

describe('issue lists are capped', () => {
  test('a spec with thousands of bad values lists the first 50 issues and says how many more', () => {
    const training = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`k${i}`, { nested: i }]));
    const qualityGate = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`m${i}`, {}]));
    const { error, issues } = refusal({ training, qualityGate });
    expect(issues).toHaveLength(51);
    expect(issues[0]?.field).toBe('training.k0');
    expect(issues[50]).toEqual({ field: '(spec)', message: 'and 270 more problems: fix the ones listed first' });
    expect(error.message.length).toBeLessThan(16 * KIB);
    expect(error.message).toMatch(/and 300 more problems$/);
  });

  test('50,000 unknown fields are named by the first few and a count', () => {
    const { error, issues } = refusal(manyKeys(50_000, 'typo_'));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toMatch(/^unknown field\(s\) "typo_0", "typo_1", .* and 49,990 more: remove them/);
    expect(error.message.length).toBeLessThan(16 * KIB);
  });

  test('a long field name or message in an issue is cut', () => {
    const key = 'm'.repeat(100_000);
    const { error } = refusal({ compute: { [key]: 1 } });
    expect(error.message.length).toBeLessThan(16 * KIB);
  });
});

describe('a capped record that is not a record', () => {
  test.each([null, 'abc', 5, [1, 2]])('%p is named by its type, not by a size check', (value) => {
    const { issues } = refusal({ training: value, qualityGate: value, scoring: { parameters: value } });
    expect(issues.map((i) => i.field)).toEqual(['training', 'scoring.parameters', 'qualityGate']);
    for (const i of issues) expect(i.message).toMatch(/must be a mapping of names to values, not /);
  });
});
