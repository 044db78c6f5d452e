// What Azure ML checks when a pipeline job is submitted: node components resolve in the
// registry, node inputs and outputs are declared by the component and have valid values, named
// computes exist (all 400 at submit), and staged files exist and hold chat rows (otherwise the
// job fails after Preparing, with an error naming the path).
import { lifecycleState } from '../clock';
import { sameName, type EmulatorContext } from '../context';
import { parseDatastoreUri, parseRegistryAssetId, parseWorkspaceModelId, type RegistryAssetRef } from '../assetIds';
import type { RegistryComponentVersion } from '../catalog';
import type { ComponentInputSpec } from '../catalog/types';
import { userError } from '../errors';
import { asObject, asString, type JsonObject } from '../json';
import { nodesForJob } from '../quota';
import { liveCompute } from './computes';
import { findModelVersion } from './models';

export interface JobFailure {
  code: string;
  message: string;
  details?: { code: string; message: string }[];
  /** The step that fails (`<node>/<step>`), when the failure is a step's. */
  step?: string;
}

/** What the submission check learned: the failure the job will end with (if any), the clusters it
 *  will hold nodes on, and the staged data's row counts (which drive the metric curves). */
export interface PipelineCheck {
  failure?: JobFailure;
  computes: { name: string; nodes: number }[];
  data?: { trainRows: number; testRows?: number };
}

/** A staged input file the job will read, checked against blob storage. */
interface FileInput {
  node: string;
  input: string;
  uri: string;
  path: string;
}

const ASSET_INPUT_TYPES = new Set([
  'uri_file',
  'uri_folder',
  'mltable',
  'custom_model',
  'mlflow_model',
  'triton_model',
]);
const HEAD_BYTES = 256 * 1024;
const ROWS_CHECKED = 50;
const CHAT_ROLES = new Set(['system', 'user', 'assistant']);

/** Throws a 400 ArmError for a request Azure would reject; resolves to what the job will do. */
export async function validatePipelineJob(ctx: EmulatorContext, properties: JsonObject): Promise<PipelineCheck> {
  const jobType = asString(properties['jobType']);
  if (jobType !== 'Pipeline') {
    throw userError(
      'properties.jobType',
      `Job type '${jobType ?? ''}' is not supported by the emulator; submit a 'Pipeline' job.`,
    );
  }
  const nodes = asObject(properties['jobs']);
  if (!nodes || Object.keys(nodes).length === 0) {
    throw userError('properties.jobs', 'A pipeline job needs at least one node under properties.jobs.');
  }
  const pipelineInputs = asObject(properties['inputs']) ?? {};
  const files: FileInput[] = [];
  const computes = new Map<string, number>();
  for (const [nodeName, rawNode] of Object.entries(nodes)) {
    const node = asObject(rawNode);
    if (!node) throw userError(`properties.jobs.${nodeName}`, `Pipeline node '${nodeName}' must be an object.`);
    const component = resolveComponent(ctx, nodeName, node);
    const checked = checkNodeInputs(ctx, nodeName, node, component, pipelineInputs);
    files.push(...checked.files);
    for (const [name, nodesWanted] of checked.computes)
      computes.set(name, Math.max(computes.get(name) ?? 0, nodesWanted));
    checkNodeOutputs(nodeName, node, component);
  }
  // The job's default compute (computeId or settings.default_compute) runs steps that name none.
  const fallback =
    computeName(asString(properties['computeId'])) ??
    computeName(asString(asObject(properties['settings'])?.['default_compute']));
  if (fallback && computes.size === 0) {
    if (!liveCompute(ctx, fallback))
      throw userError(
        'properties.computeId',
        `Compute '${fallback}' was not found in workspace '${ctx.config.identities.workspace}'.`,
      );
    computes.set(fallback, 1);
  }
  const held = [...computes.entries()].flatMap(([name, wanted]) => {
    const c = liveCompute(ctx, name);
    return c ? [{ name: c.name, nodes: nodesForJob(wanted, c) }] : [];
  });
  // The step that reads a staged file first (in the component's order) is the one that fails on it.
  const stepOf = (f: FileInput): string => {
    const spec = resolveComponent(ctx, f.node, asObject(nodes[f.node]) ?? {}).componentSpec;
    const step = Object.values(spec.jobs).find((job) =>
      Object.values(job.inputs).some((binding) => parentInput(binding.value) === f.input),
    );
    return step ? `${f.node}/${step.name}` : f.node;
  };
  const result = await checkFiles(ctx, files, stepOf);
  return {
    ...(result.failure ? { failure: result.failure } : {}),
    computes: held,
    ...(result.data ? { data: result.data } : {}),
  };
}

/** A cluster name from a compute reference (a name, azureml:name or an ARM id). */
function computeName(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const name =
    ref
      .replace(/^azureml:/i, '')
      .split('/')
      .pop() ?? '';
  return name === '' || name.toLowerCase() === 'serverless' ? undefined : name;
}

/** The catalog component a registry id names (a version, or the `latest` label). */
export function registryComponent(ctx: EmulatorContext, ref: RegistryAssetRef): RegistryComponentVersion | undefined {
  if (ref.kind !== 'components' || !sameName(ref.registry, ctx.config.identities.registryName)) return undefined;
  if (ref.version !== undefined) return ctx.catalog.component(ref.name, ref.version);
  return ref.label === 'latest' ? ctx.catalog.latestComponent(ref.name) : undefined;
}

function resolveComponent(ctx: EmulatorContext, nodeName: string, node: JsonObject): RegistryComponentVersion {
  const field = `properties.jobs.${nodeName}.componentId`;
  const componentId = asString(node['componentId']) ?? asString(node['component_id']);
  if (!componentId) throw userError(field, `Pipeline node '${nodeName}' has no componentId.`);
  const ref = parseRegistryAssetId(componentId);
  if (!ref || ref.kind !== 'components') {
    throw userError(
      field,
      `componentId '${componentId}' is not a registry component id (azureml://registries/<registry>/components/<name>/versions/<version>).`,
    );
  }
  if (!sameName(ref.registry, ctx.config.identities.registryName)) {
    throw userError(field, `Registry '${ref.registry}' was not found (componentId '${componentId}').`);
  }
  const found = registryComponent(ctx, ref);
  if (!found) {
    throw userError(
      field,
      `Component '${ref.name}' ${ref.version !== undefined ? `version '${ref.version}'` : `label '${ref.label ?? ''}'`} was not found in registry '${ref.registry}'.`,
    );
  }
  return found;
}

function checkNodeInputs(
  ctx: EmulatorContext,
  nodeName: string,
  node: JsonObject,
  component: RegistryComponentVersion,
  pipelineInputs: JsonObject,
): { files: FileInput[]; computes: Map<string, number> } {
  const spec = component.componentSpec;
  const label = `${spec.name}:${spec.version}`;
  const given = asObject(node['inputs']) ?? {};
  const files: FileInput[] = [];
  const literals = new Map<string, string>();
  for (const [name, raw] of Object.entries(given)) {
    const field = `properties.jobs.${nodeName}.inputs.${name}`;
    const declared = spec.inputs[name];
    if (!declared) {
      throw userError(
        field,
        `Input '${name}' is not declared by component ${label}; remove it or use a component version that declares it.`,
      );
    }
    const value = resolveInput(raw, pipelineInputs);
    if (value.kind === 'unbound') continue;
    if (ASSET_INPUT_TYPES.has(declared.type)) {
      if (value.kind !== 'asset')
        throw userError(
          field,
          `Input '${name}' of component ${label} is of type ${declared.type}; pass an asset input with a uri.`,
        );
      if (value.type !== declared.type)
        throw userError(field, `Input '${name}' of component ${label} is of type ${declared.type}, not ${value.type}.`);
      if (declared.type === 'mlflow_model' || declared.type === 'custom_model') checkModelUri(ctx, field, value.uri);
      if (declared.type === 'uri_file')
        files.push({ node: nodeName, input: name, uri: value.uri, ...datastorePath(ctx, field, value.uri) });
      continue;
    }
    if (value.kind !== 'literal')
      throw userError(
        field,
        `Input '${name}' of component ${label} is of type ${declared.type}; pass a literal value.`,
      );
    checkLiteral(field, name, label, declared, value.value);
    if (name.startsWith('compute_')) checkCompute(ctx, field, value.value);
    literals.set(name, value.value);
  }
  // A required input with a default (task_name: ChatCompletion) is filled in by the component.
  for (const [name, declared] of Object.entries(spec.inputs)) {
    if (declared.optional === false && declared.default === undefined && !(name in given)) {
      throw userError(
        `properties.jobs.${nodeName}.inputs.${name}`,
        `Input '${name}' is required by component ${label}.`,
      );
    }
  }
  // Clusters the steps run on (each step's `compute` binding) and the nodes each asks for there
  // (its `resources.instance_count` binding: the fine-tune step's num_nodes_finetune).
  const computes = new Map<string, number>();
  const valueOf = (name: string): string | undefined =>
    literals.get(name) ?? (spec.inputs[name]?.default !== undefined ? String(spec.inputs[name]?.default) : undefined);
  const resolve = (binding: string | undefined): string | undefined => {
    if (binding === undefined) return undefined;
    const bound = parentInput(binding);
    return bound === undefined ? binding : valueOf(bound);
  };
  for (const step of Object.values(spec.jobs)) {
    const cluster = computeName(resolve(step.computeId));
    if (!cluster) continue;
    const nodes = Math.max(1, Math.floor(Number(resolve(step.resources?.['instance_count']) ?? '1')) || 1);
    computes.set(cluster, Math.max(computes.get(cluster) ?? 0, nodes));
  }
  return { files, computes };
}

function checkNodeOutputs(nodeName: string, node: JsonObject, component: RegistryComponentVersion): void {
  const spec = component.componentSpec;
  for (const name of Object.keys(asObject(node['outputs']) ?? {})) {
    if (!spec.outputs[name]) {
      throw userError(
        `properties.jobs.${nodeName}.outputs.${name}`,
        `Output '${name}' is not declared by component ${spec.name}:${spec.version} (declared: ${Object.keys(spec.outputs).join(', ')}).`,
      );
    }
  }
}

/** The pipeline input a step binding names (`${{parent.inputs.X}}` → X), else undefined. */
function parentInput(binding: string): string | undefined {
  return /^\$\{\{parent\.inputs\.([^}]+)\}\}$/.exec(binding)?.[1];
}

type InputValue =
  { kind: 'literal'; value: string } | { kind: 'asset'; type: string; uri: string } | { kind: 'unbound' };

/** Node inputs arrive as msrest dicts (snake_case job_input_type) or swagger JobInputs. */
function resolveInput(raw: unknown, pipelineInputs: JsonObject, depth = 0): InputValue {
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean')
    return bindingOrLiteral(String(raw), pipelineInputs, depth);
  const o = asObject(raw);
  if (!o) return { kind: 'unbound' };
  const type = asString(o['job_input_type']) ?? asString(o['jobInputType']) ?? asString(o['type']) ?? 'literal';
  if (type === 'literal') {
    const v = o['value'];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      return bindingOrLiteral(String(v), pipelineInputs, depth);
    return { kind: 'unbound' };
  }
  const uri = asString(o['uri']) ?? asString(o['path']);
  if (!uri) return { kind: 'unbound' };
  const bound = /^\$\{\{parent\.inputs\.([^}]+)\}\}$/.exec(uri);
  if (bound?.[1] && depth < 2) return resolveInput(pipelineInputs[bound[1]], pipelineInputs, depth + 1);
  return { kind: 'asset', type, uri };
}

function bindingOrLiteral(text: string, pipelineInputs: JsonObject, depth: number): InputValue {
  const bound = /^\$\{\{parent\.inputs\.([^}]+)\}\}$/.exec(text);
  if (!bound?.[1]) return { kind: 'literal', value: text };
  if (depth >= 2 || !(bound[1] in pipelineInputs)) return { kind: 'unbound' };
  return resolveInput(pipelineInputs[bound[1]], pipelineInputs, depth + 1);
}

function checkLiteral(field: string, name: string, label: string, declared: ComponentInputSpec, value: string): void {
  const bad = (why: string) => userError(field, `Input '${name}' of component ${label}: ${why} (got '${value}').`);
  let numeric: number | undefined;
  if (declared.type === 'integer') {
    if (!/^[-+]?\d+$/.test(value.trim())) throw bad('expected an integer');
    numeric = Number(value);
  } else if (declared.type === 'number') {
    numeric = Number(value);
    if (value.trim() === '' || !Number.isFinite(numeric)) throw bad('expected a number');
  } else if (declared.type === 'boolean') {
    if (!/^(true|false)$/i.test(value)) throw bad('expected true or false');
  }
  if (numeric !== undefined && declared.min !== undefined && numeric < declared.min)
    throw bad(`must be >= ${declared.min}`);
  if (numeric !== undefined && declared.max !== undefined && numeric > declared.max)
    throw bad(`must be <= ${declared.max}`);
  if (declared.enum && !declared.enum.map(String).includes(value)) {
    throw bad(`must be one of ${declared.enum.map((e) => `'${String(e)}'`).join(', ')}`);
  }
}

function checkCompute(ctx: EmulatorContext, field: string, name: string): void {
  if (name === '' || name.toLowerCase() === 'serverless') return;
  const compute = liveCompute(ctx, name);
  const state = compute ? lifecycleState(compute.lifecycle, ctx.now()) : undefined;
  if (!compute || state === 'Deleting')
    throw userError(field, `Compute '${name}' was not found in workspace '${ctx.config.identities.workspace}'.`);
  if (state === 'Failed') throw userError(field, `Compute '${name}' is in state Failed and cannot run jobs.`);
}

function checkModelUri(ctx: EmulatorContext, field: string, uri: string): void {
  const registryRef = parseRegistryAssetId(uri);
  if (registryRef) {
    const exists =
      registryRef.kind === 'models' &&
      sameName(registryRef.registry, ctx.config.identities.registryName) &&
      registryRef.version !== undefined &&
      ctx.catalog.model(registryRef.name, registryRef.version) !== undefined;
    if (!exists) throw userError(field, `Model '${uri}' was not found in the registry.`);
    return;
  }
  const wsRef = parseWorkspaceModelId(uri);
  if (wsRef) {
    if (!findModelVersion(ctx, wsRef.name, wsRef.version))
      throw userError(field, `Model '${uri}' was not found in the workspace.`);
    return;
  }
  if (!/^(https|azureml):\/\//i.test(uri))
    throw userError(field, `Model uri '${uri}' is not a registry model id, a workspace model id or a URL.`);
}

function datastorePath(ctx: EmulatorContext, field: string, uri: string): { path: string } {
  if (/^https:\/\//i.test(uri)) return { path: '' };
  const ref = parseDatastoreUri(uri);
  if (!ref)
    throw userError(
      field,
      `Input uri '${uri}' is not a datastore uri (azureml://datastores/<datastore>/paths/<path>).`,
    );
  if (!sameName(ref.datastore, ctx.config.identities.datastoreName)) {
    throw userError(
      field,
      `Datastore '${ref.datastore}' was not found in workspace '${ctx.config.identities.workspace}'.`,
    );
  }
  return { path: ref.path };
}

async function checkFiles(
  ctx: EmulatorContext,
  files: readonly FileInput[],
  stepOf: (f: FileInput) => string,
): Promise<{ failure?: JobFailure; data?: { trainRows: number; testRows?: number } }> {
  const blob = ctx.blob;
  if (!blob) return {};
  const rows: Record<string, number> = {};
  // The validation step reports the first problem it finds, as an ACFT data error (UserError).
  const fail = (f: FileInput, problem: string): { failure: JobFailure } => ({
    failure: {
      code: 'UserError',
      message: `Pipeline step ${stepOf(f)} failed. ACFTDataException: input '${f.input}' (${f.uri}) ${problem}`,
      details: [{ code: 'InvalidData', message: `${f.input}: ${problem}` }],
      step: stepOf(f),
    },
  });
  for (const f of files) {
    if (!f.path) continue;
    const info = await blob.inspect(f.path, HEAD_BYTES);
    if (!info) {
      return fail(
        f,
        `was not found in datastore '${ctx.config.identities.datastoreName}' (container '${blob.containerName}', blob '${f.path}').`,
      );
    }
    if (info.size === 0) return fail(f, 'is empty.');
    if (/\.jsonl$/i.test(f.path)) {
      const truncated = info.size > info.head.length;
      const problem = checkChatRows(info.head, truncated);
      if (problem) return fail(f, problem);
      rows[f.input] = estimateRows(info.head, info.size, truncated);
    }
  }
  const trainRows = rows['train_file_path'];
  if (trainRows === undefined) return {};
  const testRows = rows['test_file_path'];
  return { data: { trainRows, ...(testRows !== undefined ? { testRows } : {}) } };
}

/** Rows of a JSONL file: exact when it was read whole, else extrapolated from the rows read. */
function estimateRows(head: Buffer, size: number, truncated: boolean): number {
  const text = head.toString('utf8');
  const complete = truncated ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
  const count = complete.split('\n').filter((l) => l.trim() !== '').length;
  if (!truncated || complete.length === 0) return count;
  return Math.max(count, Math.round((count * size) / Buffer.byteLength(complete)));
}

/** The chat-completion validation step: each JSONL row needs `messages`, a list of {role, content}. */
function checkChatRows(head: Buffer, truncated: boolean): string | undefined {
  const lines = head.toString('utf8').split('\n');
  if (truncated) lines.pop();
  let checked = 0;
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    if (checked++ >= ROWS_CHECKED) break;
    const where = `line ${index + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      return `is not valid JSON Lines: ${where} is not a JSON object.`;
    }
    const messages = asObject(row)?.['messages'];
    if (!Array.isArray(messages) || messages.length === 0)
      return `has no 'messages' list at ${where} (chat-completion data needs a 'messages' column).`;
    for (const m of messages) {
      const msg = asObject(m);
      const role = asString(msg?.['role']);
      if (!msg || !role || !CHAT_ROLES.has(role) || typeof msg['content'] !== 'string') {
        return `has an invalid message at ${where}: each message needs a role (system, user or assistant) and a string content.`;
      }
    }
  }
  return checked === 0 ? 'has no rows.' : undefined;
}
