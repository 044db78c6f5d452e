// The committed registry catalog (devstack/emulator/catalog/catalog.generated.json) matches the reference
// specs it was derived from (reference/azureml-assets, vendored in the repository: never skipped).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CATALOG_DATA } from '../../../devstack/emulator/catalog/data';
import {
  deriveCatalog,
  PIPELINE_VERSION_FILES,
  pyFloat,
  pyJsonDumps,
  pyRepr,
} from '../../../devstack/emulator/catalog/derive';
import { CATALOG_FILE, renderCatalog } from '../../../devstack/emulator/catalog/generate';
import { ROOT } from './helpers';

const REFERENCE = join(ROOT, 'reference', 'azureml-assets');

/** The reference folder, or a failure that says which folder is missing (it is part of the repository). */
function reference(): string {
  if (!existsSync(REFERENCE)) {
    throw new Error(
      `Missing ${REFERENCE}: reference/azureml-assets is vendored in the repository (see reference/README.md); ` +
        'restore it from git instead of skipping these checks.',
    );
  }
  return REFERENCE;
}

interface SummaryInput {
  name: string;
  type: string;
  default: unknown;
  optional: boolean;
  enum: unknown[] | null;
  min: number | null;
  mode: string | null;
}

test('the committed catalog is what the reference specs derive to', () => {
  const derived = deriveCatalog(reference());
  expect(derived).toEqual(CATALOG_DATA);
  expect(renderCatalog(derived)).toBe(readFileSync(join(ROOT, CATALOG_FILE), 'utf8'));
});

test('pipeline 0.0.82 declares exactly the inputs and outputs of inputs.summary.json', () => {
  const summary = JSON.parse(
    readFileSync(join(reference(), 'chat_completion_pipeline', 'inputs.summary.json'), 'utf8'),
  ) as { version: string; inputs: SummaryInput[]; outputs: Record<string, { type: string; mode: string }> };
  const component = CATALOG_DATA.components.find((c) => c.version === summary.version);
  expect(component).toBeDefined();
  const inputs = component?.componentSpec.inputs ?? {};
  expect(Object.keys(inputs).sort()).toEqual(summary.inputs.map((i) => i.name).sort());
  for (const i of summary.inputs) {
    const declared = inputs[i.name];
    expect({
      name: i.name,
      type: declared?.type,
      optional: declared?.optional ?? true,
      default: declared?.default ?? null,
      enum: declared?.enum ?? null,
      min: declared?.min ?? null,
      mode: declared?.mode ?? null,
    }).toEqual({
      name: i.name,
      type: i.type,
      optional: i.optional,
      default: i.default,
      enum: i.enum,
      min: i.min,
      mode: i.mode,
    });
  }
  expect(component?.componentSpec.outputs).toEqual(summary.outputs);
});

test('the catalog holds the versions the flow relies on', () => {
  expect(CATALOG_DATA.components.map((c) => c.version)).toEqual(['0.0.51', '0.0.78', '0.0.82']);
  const latest = [...CATALOG_DATA.components].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  expect(latest?.version).toBe('0.0.82');
  const [seed] = CATALOG_DATA.models.seed;
  expect(seed).toMatchObject({ name: 'Phi-3-mini-4k-instruct', version: '15', isArchived: false });
  expect(seed?.tags['finetune_compute_allow_list']).toMatch(/^\['Standard_NC24ads_A100_v4', /);
  expect(seed?.systemMetadata).toBeUndefined();
  const current = CATALOG_DATA.models.current;
  // Today's registry: Phi-4 v8 is the only chat-completion model that still fine-tunes; it comes first
  // (the admin API copies the first model by default).
  expect(current[0]).toMatchObject({ name: 'Phi-4', version: '8', isArchived: false });
  const live = current.filter((m) => !m.isArchived && m.systemMetadata?.['deprecation'] === undefined);
  expect(live.map((m) => m.name)).toEqual(['Phi-4']);
  const phi3 = current.find((m) => m.name === 'Phi-3-mini-4k-instruct');
  expect(phi3).toMatchObject({
    version: '15',
    isArchived: true,
    systemMetadata: { deprecation: { finetuneRetirementDate: '2025-08-30T00:00:00.000000Z' } },
  });
  // The allow lists left the tags: only model_specific_defaults (and the vanity-registry tag) remain.
  expect(phi3?.tags['finetune_compute_allow_list']).toBeUndefined();
  expect(Object.keys(phi3?.tags ?? {}).sort()).toEqual(['_aml_system_vanity_registry', 'model_specific_defaults']);
  // Retired without isArchived: decided by the date alone.
  expect(current.find((m) => m.name === 'Phi-3-small-8k-instruct')).toMatchObject({ isArchived: false });
  expect(current.find((m) => m.name === 'Llama-2-7b-chat')).toMatchObject({ isArchived: false });
  // Prose stays out of system_metadata too.
  for (const m of current) {
    expect(m.systemMetadata).toBeDefined();
    expect(m.systemMetadata?.['licenseDescription']).toBeUndefined();
    expect(m.systemMetadata?.['summary']).toBeUndefined();
  }
  for (const c of CATALOG_DATA.components) {
    expect(c.componentSpec.outputs['mlflow_model_folder']?.type).toBe('mlflow_model');
    expect(c.componentSpec.inputs['task_name']).toMatchObject({ optional: false, default: 'ChatCompletion' });
  }
});

interface YamlStep {
  type: string;
  component: string;
  compute?: string;
  resources?: Record<string, string>;
  distribution?: { type: string; process_count_per_instance?: string };
  inputs?: Record<string, string>;
  outputs?: Record<string, string>;
}

test("every pipeline version keeps its steps' bindings, in the registry's REST form", () => {
  for (const { version, file } of PIPELINE_VERSION_FILES) {
    // Read here with the YAML parser directly, not through derive.ts.
    const yamlSteps = (
      parse(readFileSync(join(reference(), 'chat_completion_pipeline', file), 'utf8')) as {
        jobs: Record<string, YamlStep>;
      }
    ).jobs;
    const served = CATALOG_DATA.components.find((c) => c.version === version)?.componentSpec.jobs ?? {};
    expect(Object.keys(served)).toEqual(Object.keys(yamlSteps));
    for (const [name, step] of Object.entries(yamlSteps)) {
      const [, component, pinned] = /^azureml:(.+):(.+)$/.exec(step.component) ?? [];
      const expected: Record<string, unknown> = {
        name,
        type: step.type,
        componentId: `azureml://registries/azureml/components/${component}/versions/${pinned}`,
        inputs: Object.fromEntries(
          Object.entries(step.inputs ?? {}).map(([k, value]) => [k, { job_input_type: 'literal', value }]),
        ),
        _source: 'REMOTE.WORKSPACE.COMPONENT',
      };
      if (step.compute) expected['computeId'] = step.compute;
      if (step.resources) expected['resources'] = step.resources;
      if (step.distribution) {
        const { type, ...settings } = step.distribution;
        expect(type).toBe('pytorch');
        expected['distribution'] = { ...settings, distribution_type: 'PyTorch' };
      }
      if (step.outputs)
        expected['outputs'] = Object.fromEntries(
          Object.entries(step.outputs).map(([k, value]) => [k, { type: 'literal', value }]),
        );
      expect({ version, step: served[name] }).toEqual({ version, step: expected });
    }
  }
  // The fine-tune step of the current pipeline, field by field.
  const finetune = CATALOG_DATA.components.find((c) => c.version === '0.0.82')?.componentSpec.jobs[
    'chat_completion_finetune'
  ];
  expect(finetune).toMatchObject({
    componentId: 'azureml://registries/azureml/components/chat_completion_finetune/versions/0.0.81',
    computeId: '${{parent.inputs.compute_finetune}}',
    resources: {
      instance_count: '${{parent.inputs.num_nodes_finetune}}',
      instance_type: '${{parent.inputs.instance_type_finetune}}',
      shm_size: '${{parent.inputs.shm_size_finetune}}',
    },
    distribution: {
      process_count_per_instance: '${{parent.inputs.number_of_gpu_to_use_finetuning}}',
      distribution_type: 'PyTorch',
    },
    outputs: { pytorch_model_folder: { type: 'literal', value: '${{parent.outputs.pytorch_model_folder}}' } },
  });
  expect(finetune?.inputs['preprocess_output']).toEqual({
    job_input_type: 'literal',
    value: '${{parent.jobs.chat_completion_datapreprocess.outputs.output_dir}}',
  });
});

test('tag values are written as azureml-assets publishes them (Python str / json.dumps)', () => {
  expect(pyFloat(5e-6)).toBe('5e-06');
  expect(pyFloat(0.9)).toBe('0.9');
  expect(pyFloat(1)).toBe('1.0');
  expect(pyFloat(1e16)).toBe('1e+16');
  expect(pyFloat(0.0001)).toBe('0.0001');
  expect(pyRepr(['a', "b'c"])).toBe("['a', 'b\\'c']");
  expect(pyJsonDumps({ a: 'x', b: 5e-7, c: BigInt(2), d: true })).toBe('{"a": "x", "b": 5e-07, "c": 2, "d": true}');
});

interface ModelSummary {
  registry_name: string;
  version: number;
  isArchived: boolean;
  head: {
    fineTuningTasks: string[] | null;
    finetuneComputes: string[] | null;
    inferenceComputes: string[] | null;
    deprecation: Record<string, string> | null;
    'tags.model_specific_defaults': Record<string, unknown> | null;
  };
}

test("the 'current' models say what models-current/models.summary.json says of each, nothing more", () => {
  const summary = JSON.parse(
    readFileSync(join(reference(), 'models-current', 'models.summary.json'), 'utf8'),
  ) as ModelSummary[];
  const current = CATALOG_DATA.models.current;
  expect(current.map((m) => `${m.name}:${m.version}`)).toEqual(summary.map((m) => `${m.registry_name}:${m.version}`));
  for (const want of summary) {
    const got = current.find((m) => m.name === want.registry_name);
    const meta = got?.systemMetadata ?? {};
    const computes = (meta['supportedComputes'] ?? {}) as Record<string, unknown>;
    const tasks = (meta['tasks'] ?? {}) as Record<string, unknown>;
    expect({
      name: got?.name,
      isArchived: got?.isArchived,
      fineTuningTasks: tasks['fineTuningTasks'] ?? null,
      finetuneComputes: computes['finetuneComputes'] ?? null,
      inferenceComputes: computes['inferenceComputes'] ?? null,
      deprecation: meta['deprecation'] ?? null,
    }).toEqual({
      name: want.registry_name,
      isArchived: want.isArchived,
      fineTuningTasks: want.head.fineTuningTasks,
      finetuneComputes: want.head.finetuneComputes,
      inferenceComputes: want.head.inferenceComputes,
      deprecation: want.head.deprecation,
    });
    // model_specific_defaults is still a tag, written as azureml-assets publishes it (json.dumps).
    const defaults = JSON.parse(got?.tags['model_specific_defaults'] ?? 'null') as Record<string, unknown> | null;
    const wanted = want.head['tags.model_specific_defaults'];
    expect(Object.keys(defaults ?? {})).toEqual(Object.keys(wanted ?? {}));
  }
});
