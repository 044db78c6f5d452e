// Derives the registry catalog from reference/azureml-assets (Azure/azureml-assets specs, vendored
// in the repository). Used by generate.ts to write catalog.generated.json and by the cross-check test;
// never at run time (it needs the `yaml` dev dependency and the reference folder).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, parseDocument, visit } from 'yaml';
import type {
  CatalogData,
  ComponentInputSpec,
  ComponentOutputSpec,
  NodeInputBinding,
  NodeOutputBinding,
  PipelineNodeSpec,
  RegistryComponentVersion,
  RegistryModelVersion,
  Scalar,
} from './types';
import { isObject, type JsonObject } from '../json';

/** Pipeline versions served, oldest first: the notebook's (0.0.51), the last with evaluation
 *  (0.0.78) and the current one (0.0.82). Paths are relative to chat_completion_pipeline/. */
export const PIPELINE_VERSION_FILES: ReadonlyArray<{ version: string; file: string }> = [
  { version: '0.0.51', file: 'history/0.0.51/spec.yaml' },
  { version: '0.0.78', file: 'history/0.0.78/spec.yaml' },
  { version: '0.0.82', file: 'spec.yaml' },
];

/** Phi-3-mini-4k-instruct v15 was created on 2025-01-21 (azureml-assets commit d70f9319f4). */
const PHI3_V15_CREATED_AT = '2025-01-21T00:00:00.000Z';

/** Tags holding prose (the licence text, a marketing line) are left out: facts only. The same keys
 *  are left out of `system_metadata`, where the migration moved them. */
const PROSE_TAGS: readonly string[] = ['licenseDescription', 'summary'];

/** Tags that carry the deprecation/retirement dates; the seed (the notebook's days) has none. */
const RETIREMENT_TAGS = [
  'InferenceLegacyDate',
  'InferenceDeprecationDate',
  'InferenceRetirementDate',
  'FinetuneDeprecationDate',
  'FinetuneRetirementDate',
] as const;

/** Where today's model specs are (reference/azureml-assets/models-current, see its MODELS.md). */
const MODELS_CURRENT = 'models-current';
/** Every model of models-current is published from the same blob container (MODELS.md, "model.yaml
 *  container paths"); only Phi-3-mini-4k-instruct's model.yaml is vendored, and derivation checks it says so. */
const MODEL_STORAGE = { storage_name: 'automlcesdkdataresources', container_name: 'models' } as const;

export function deriveCatalog(referenceDir: string): CatalogData {
  return {
    models: deriveModels(referenceDir),
    components: PIPELINE_VERSION_FILES.map(({ version, file }) => derivePipeline(referenceDir, version, file)),
  };
}

// ---- models -----------------------------------------------------------------------------------

/** The two registries: the seed notebook's days and today's (CatalogName). */
function deriveModels(referenceDir: string): CatalogData['models'] {
  return { seed: deriveSeedModels(referenceDir), current: deriveCurrentModels(referenceDir) };
}

interface Phi3Files {
  modelUri: string;
  modelType: string;
  flavors: RegistryModelVersion['flavors'];
}

/** Phi-3-mini-4k-instruct's model.yaml and MLmodel (the only model whose files are vendored). */
function phi3Files(referenceDir: string): Phi3Files {
  const dir = join(referenceDir, 'phi-3-mini-4k-instruct');
  const modelYaml = toJs(parseDocument(readFileSync(join(dir, 'model.yaml'), 'utf8')));
  const mlmodel = toJs(parseDocument(readFileSync(join(dir, 'MLmodel'), 'utf8')));
  const path = objectAt(modelYaml, 'path');
  if (
    str(path['storage_name']) !== MODEL_STORAGE.storage_name ||
    str(path['container_name']) !== MODEL_STORAGE.container_name
  )
    throw new Error('derive: phi-3-mini-4k-instruct/model.yaml is not in the container MODELS.md names');
  const flavors: RegistryModelVersion['flavors'] = {};
  for (const [flavor, body] of Object.entries(objectAt(mlmodel, 'flavors'))) {
    const data: Record<string, string> = {};
    if (isObject(body)) {
      for (const [k, v] of Object.entries(body)) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
          data[k] = pyStr(v);
      }
    }
    flavors[flavor] = { data };
  }
  return {
    modelUri: blobUri(str(path['container_path'])),
    modelType: str(objectAt(modelYaml, 'publish')['type']),
    flavors,
  };
}

function blobUri(containerPath: string): string {
  return `https://${MODEL_STORAGE.storage_name}.blob.core.windows.net/${MODEL_STORAGE.container_name}/${containerPath}`;
}

/** The seed notebook's days: Phi-3-mini-4k-instruct v15 in the tags form, without the retirement tags. */
function deriveSeedModels(referenceDir: string): RegistryModelVersion[] {
  const dir = join(referenceDir, 'phi-3-mini-4k-instruct');
  const v15 = toJs(
    parseDocument(readFileSync(join(dir, 'history/v15-tags-before-system-metadata-migration/spec.yaml'), 'utf8'), {
      intAsBigInt: true,
    }),
  );
  const files = phi3Files(referenceDir);
  const v15Tags = stringifyTags(objectAt(v15, 'tags'));
  const seedTags = Object.fromEntries(
    Object.entries(v15Tags).filter(([k]) => !(RETIREMENT_TAGS as readonly string[]).includes(k)),
  );
  return [
    {
      name: str(v15['name']),
      version: pyStr(scalarAt(v15, 'version')),
      createdAt: PHI3_V15_CREATED_AT,
      modelType: files.modelType,
      modelUri: files.modelUri,
      flavors: files.flavors,
      isArchived: false,
      tags: seedTags,
      properties: stringifyTags(objectAt(v15, 'properties')),
    },
  ];
}

interface ModelSummary {
  repo_folder: string;
  registry_name: string;
  model_yaml_container_path: string;
  pre_migration: { file_last_changed: [string, string] };
}

/**
 * Today's registry (models-current/MODELS.md): every model of models.summary.json, in its order, from its
 * HEAD spec: `isArchived` as the spec says, the tags it still has (model_specific_defaults, ...), and its
 * `system_metadata` (allow lists under supportedComputes, retirement dates under deprecation) as it is.
 * createdAt: the date of the last commit that changed the version's spec before the system_metadata
 * migration (models.summary.json), except Phi-3-mini-4k-instruct v15, whose creation date is known.
 * modelType: mlflow_model (every container path is an mlflow_model_folder); flavors only where an
 * MLmodel is vendored (Phi-3-mini-4k-instruct).
 */
function deriveCurrentModels(referenceDir: string): RegistryModelVersion[] {
  const summary = JSON.parse(
    readFileSync(join(referenceDir, MODELS_CURRENT, 'models.summary.json'), 'utf8'),
  ) as ModelSummary[];
  const phi3 = phi3Files(referenceDir);
  return summary.map((entry) => {
    const inCurrent = join(referenceDir, MODELS_CURRENT, entry.repo_folder, 'spec.yaml');
    const file = existsSync(inCurrent) ? inCurrent : join(referenceDir, entry.repo_folder, 'spec.yaml');
    const head = toJs(parseDocument(readFileSync(file, 'utf8'), { intAsBigInt: true }));
    const name = str(head['name']);
    if (name !== entry.registry_name) throw new Error(`derive: ${file} names ${name}, not ${entry.registry_name}`);
    if (!entry.model_yaml_container_path.endsWith('/mlflow_model_folder'))
      throw new Error(`derive: ${name} is not published as an MLflow model folder`);
    const known = name === 'Phi-3-mini-4k-instruct';
    const changed = entry.pre_migration.file_last_changed[1];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(changed)) throw new Error(`derive: no date for ${name}`);
    const model: RegistryModelVersion = {
      name,
      version: pyStr(scalarAt(head, 'version')),
      createdAt: known ? PHI3_V15_CREATED_AT : `${changed}T00:00:00.000Z`,
      isArchived: head['isArchived'] === true,
      modelType: known ? phi3.modelType : 'mlflow_model',
      modelUri: known ? phi3.modelUri : blobUri(entry.model_yaml_container_path),
      tags: isObject(head['tags']) ? stringifyTags(head['tags']) : {},
      properties: isObject(head['properties']) ? stringifyTags(head['properties']) : {},
      flavors: known ? phi3.flavors : {},
    };
    if (isObject(head['system_metadata'])) model.systemMetadata = systemMetadata(head['system_metadata']);
    return model;
  });
}

/** `system_metadata` as plain JSON (YAML integers parsed as bigint become numbers), prose left out. */
function systemMetadata(raw: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(raw)) if (!PROSE_TAGS.includes(k)) out[k] = plainJson(v);
  return out;
}

function plainJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plainJson);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainJson(x)]));
  return v;
}

/** How azureml-assets publishes tag values: dicts as json.dumps, everything else as Python str(). */
function stringifyTags(tags: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (PROSE_TAGS.includes(k)) continue;
    out[k] = isObject(v) ? pyJsonDumps(v) : pyStr(v);
  }
  return out;
}

function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** Python repr() of YAML data parsed with intAsBigInt (bigint = int, number = float). */
export function pyRepr(v: unknown): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return pyFloat(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isObject(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  throw new Error(`derive: cannot repr ${typeof v}`);
}

/** Python json.dumps() with its default separators and ensure_ascii. */
export function pyJsonDumps(v: unknown): string {
  if (typeof v === 'string')
    return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return pyFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(pyJsonDumps).join(', ')}]`;
  if (isObject(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyJsonDumps(k)}: ${pyJsonDumps(x)}`)
      .join(', ')}}`;
  throw new Error(`derive: cannot dump ${typeof v}`);
}

/** Python's float repr: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
export function pyFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const [mantissa = '', expText = '0'] = v.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

// ---- component --------------------------------------------------------------------------------

function derivePipeline(referenceDir: string, version: string, file: string): RegistryComponentVersion {
  const dir = join(referenceDir, 'chat_completion_pipeline');
  const spec = parseYaml11(readFileSync(join(dir, file), 'utf8'));
  if (pyStr(scalarAt(spec, 'version')) !== version) throw new Error(`derive: ${file} is not version ${version}`);
  const inputs: Record<string, ComponentInputSpec> = {};
  for (const [name, raw] of Object.entries(objectAt(spec, 'inputs'))) {
    if (!isObject(raw)) throw new Error(`derive: input ${name} is not a mapping`);
    const input: ComponentInputSpec = { type: str(raw['type']) };
    if (typeof raw['optional'] === 'boolean') input.optional = raw['optional'];
    if (isScalar(raw['default'])) input.default = raw['default'];
    if (Array.isArray(raw['enum'])) input.enum = raw['enum'].filter(isScalar);
    if (typeof raw['min'] === 'number') input.min = raw['min'];
    if (typeof raw['max'] === 'number') input.max = raw['max'];
    if (typeof raw['mode'] === 'string') input.mode = raw['mode'];
    inputs[name] = input;
  }
  const outputs: Record<string, ComponentOutputSpec> = {};
  for (const [name, raw] of Object.entries(objectAt(spec, 'outputs'))) {
    if (!isObject(raw)) throw new Error(`derive: output ${name} is not a mapping`);
    outputs[name] = { type: str(raw['type']), ...(typeof raw['mode'] === 'string' ? { mode: raw['mode'] } : {}) };
  }
  const jobs: Record<string, PipelineNodeSpec> = {};
  for (const [name, raw] of Object.entries(objectAt(spec, 'jobs'))) {
    if (!isObject(raw)) throw new Error(`derive: job ${name} is not a mapping`);
    jobs[name] = pipelineNode(name, raw);
  }
  return {
    name: str(spec['name']),
    version,
    createdAt: `${pipelineDate(dir, version)}T00:00:00.000Z`,
    isArchived: false,
    componentSpec: {
      $schema: str(spec['$schema']),
      name: str(spec['name']),
      version,
      display_name: str(spec['display_name']),
      type: str(spec['type']),
      inputs,
      outputs,
      jobs,
    },
  };
}

/** The registry the catalog is published in: a step's `azureml:<name>:<version>` resolves there. */
const REGISTRY = 'azureml';

/** YAML `distribution.type` → the REST `distribution_type` azure-ai-ml sends. */
const DISTRIBUTION_TYPES: Readonly<Record<string, string>> = {
  pytorch: 'PyTorch',
  mpi: 'Mpi',
  tensorflow: 'TensorFlow',
  ray: 'Ray',
};

/**
 * One step of the pipeline's `jobs:` in the form the registry's component-version API returns it:
 * the REST dict azure-ai-ml builds for a command node when the component is published
 * (PipelineComponent._to_rest_object → BaseNode._to_rest_object), with the step's
 * `azureml:<name>:<version>` resolved to the registry asset id, `compute` as `computeId`, inputs as
 * literal bindings `{job_input_type: literal, value}`, outputs as `{type: literal, value}`, and
 * `distribution.type` as `distribution_type`. Every value of the reference specs is a string
 * (a binding or a literal); anything else is refused rather than guessed at.
 */
function pipelineNode(name: string, raw: JsonObject): PipelineNodeSpec {
  const where = `job ${name}`;
  const ref = /^azureml:([^:@/]+):([^:@/]+)$/.exec(str(raw['component']));
  if (!ref?.[1] || !ref[2]) throw new Error(`derive: ${where}: component is not azureml:<name>:<version>`);
  const strings = (key: string): Record<string, string> | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) throw new Error(`derive: ${where}: ${key} is not a mapping`);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw new Error(`derive: ${where}: ${key}.${k} is not a string`);
      out[k] = v;
    }
    return out;
  };
  const resources = strings('resources');
  const distribution = strings('distribution');
  let restDistribution: Record<string, string> | undefined;
  if (distribution) {
    const { type, ...settings } = distribution;
    const restType = type !== undefined ? DISTRIBUTION_TYPES[type.toLowerCase()] : undefined;
    if (!restType) throw new Error(`derive: ${where}: unknown distribution type ${type ?? '(none)'}`);
    restDistribution = { ...settings, distribution_type: restType };
  }
  const inputs: Record<string, NodeInputBinding> = {};
  for (const [k, value] of Object.entries(strings('inputs') ?? {})) inputs[k] = { job_input_type: 'literal', value };
  const outputs = strings('outputs');
  let boundOutputs: Record<string, NodeOutputBinding> | undefined;
  if (outputs) {
    boundOutputs = {};
    for (const [k, value] of Object.entries(outputs)) boundOutputs[k] = { type: 'literal', value };
  }
  // Key order as the JSON is read: what the step is, where it runs, what it binds.
  return {
    name,
    type: str(raw['type']),
    componentId: `azureml://registries/${REGISTRY}/components/${ref[1]}/versions/${ref[2]}`,
    ...(raw['compute'] !== undefined ? { computeId: str(raw['compute']) } : {}),
    ...(resources ? { resources } : {}),
    ...(restDistribution ? { distribution: restDistribution } : {}),
    inputs,
    ...(boundOutputs ? { outputs: boundOutputs } : {}),
    _source: 'REMOTE.WORKSPACE.COMPONENT',
  };
}

/** The commit date of a pipeline version (version_history.csv: version,commit,date,...). */
function pipelineDate(dir: string, version: string): string {
  const rows = readFileSync(join(dir, 'version_history.csv'), 'utf8').split('\n').slice(1);
  const row = rows.map((r) => r.split(',')).find((cells) => cells[0] === version);
  const date = row?.[2];
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`derive: no date for pipeline ${version}`);
  return date;
}

/** YAML 1.1 as PyYAML reads it: a plain `1e-8` (no dot) is a string, not a float. The saved
 *  inputs.summary.json was produced that way, so the catalog follows it. */
function parseYaml11(text: string): JsonObject {
  const doc = parseDocument(text, { version: '1.1', keepSourceTokens: true });
  visit(doc, {
    Scalar(_key, node) {
      const token = node.srcToken;
      const source = token && 'source' in token ? token.source : undefined;
      if (typeof node.value === 'number' && source && /^[-+]?\d+[eE][-+]?\d+$/.test(source)) node.value = source;
    },
  });
  return toJs(doc);
}

function toJs(doc: Document): JsonObject {
  if (doc.errors.length > 0) throw new Error(`derive: YAML error: ${doc.errors[0]?.message ?? ''}`);
  const value: unknown = doc.toJS();
  if (!isObject(value)) throw new Error('derive: YAML document is not a mapping');
  return value;
}

function objectAt(o: JsonObject, key: string): JsonObject {
  const v = o[key];
  if (!isObject(v)) throw new Error(`derive: '${key}' is not a mapping`);
  return v;
}

function scalarAt(o: JsonObject, key: string): unknown {
  return o[key];
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`derive: expected a string, got ${typeof v}`);
  return v;
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}
