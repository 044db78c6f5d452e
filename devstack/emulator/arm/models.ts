// Workspace model versions: PUT (not an LRO; 201 create, 200 update), GET, list (with the `tags` and
// `listViewType` filters); the model container with its `latestVersion` and `nextVersion` (the next integer).
// A model registered from `azureml://jobs/<job>/outputs/<output>` needs that job Completed; an
// `mlflow_model` registered from a job output gets the flavors of the MLmodel file in that output, as
// the service reads them (what the pipeline's converter step wrote: the base model's flavors).
import type { FastifyInstance } from 'fastify';
import { jobStatus } from '../clock';
import { ML_PROVIDER, systemData, workspaceArmId, type EmulatorContext } from '../context';
import { parseJobOutputUri, parseRegistryAssetId, parseWorkspaceModelId } from '../assetIds';
import { conflict, notFound, userError } from '../errors';
import { asObject, asString, asStringMap, cloneJson, queryParam, type JsonObject } from '../json';
import { jobTimeline } from '../records';
import type { JobRecord, ModelVersionRecord } from '../store';
import { ARM_ROUTE, checkAssetName, findJob, requireWorkspace, WS_PREFIX, type WorkspaceParams } from './common';

type ModelParams = WorkspaceParams & { name: string };
type VersionParams = ModelParams & { version: string };

export function findModelVersion(ctx: EmulatorContext, name: string, version: string): ModelVersionRecord | undefined {
  return ctx.store.state.models.find((m) => m.name === name && m.version === version);
}

export function modelVersionId(ctx: EmulatorContext, name: string, version: string): string {
  return `${workspaceArmId(ctx)}/models/${name}/versions/${version}`;
}

function modelVersionResource(ctx: EmulatorContext, m: ModelVersionRecord): JsonObject {
  return {
    id: modelVersionId(ctx, m.name, m.version),
    name: m.version,
    type: `${ML_PROVIDER}/workspaces/models/versions`,
    systemData: systemData(ctx, m.createdAt, m.modifiedAt),
    properties: { isAnonymous: false, isArchived: false, tags: {}, properties: {}, ...cloneJson(m.properties) },
  };
}

type Flavors = Record<string, { data: Record<string, string> }>;

/** Checks modelUri; returns the job and output when the model comes from a job output. */
function checkModelUri(ctx: EmulatorContext, uri: string): { job: JobRecord; output: string } | undefined {
  const ref = parseJobOutputUri(uri);
  if (!ref) return undefined;
  const job = findJob(ctx, ref.job);
  if (!job) throw userError('properties.modelUri', `Job '${ref.job}' named by modelUri '${uri}' was not found.`);
  const status = jobStatus(jobTimeline(job), ctx.now());
  if (status !== 'Completed') {
    throw userError(
      'properties.modelUri',
      `Job '${ref.job}' is ${status}; a model can be registered from its outputs only once it is Completed.`,
    );
  }
  const outputs = asObject(job.properties['outputs']) ?? {};
  if (!(ref.output in outputs)) {
    throw userError(
      'properties.modelUri',
      `Job '${ref.job}' has no output '${ref.output}' (outputs: ${Object.keys(outputs).join(', ') || 'none'}).`,
    );
  }
  return { job, output: ref.output };
}

/** The declared type of a job output (jobOutputType, or the SDK's snake_case job_output_type). */
function outputType(job: JobRecord, output: string): string | undefined {
  const o = asObject(asObject(job.properties['outputs'])?.[output]);
  return asString(o?.['jobOutputType']) ?? asString(o?.['job_output_type']);
}

/**
 * The flavors of the MLmodel file a job's MLflow model output holds. The fine-tune pipeline's
 * converter step writes the base model's flavors (hftransformersv2 and python_function for the
 * catalog's Phi-3), so they are read off the model the job took as its `mlflow_model` input: a
 * registry model of the catalog or a workspace model version; failing that, the catalog model's.
 */
function outputFlavors(ctx: EmulatorContext, job: JobRecord): Flavors {
  for (const node of Object.values(asObject(job.properties['jobs']) ?? {})) {
    for (const raw of Object.values(asObject(asObject(node)?.['inputs']) ?? {})) {
      const input = asObject(raw);
      const type = asString(input?.['job_input_type']) ?? asString(input?.['jobInputType']);
      const uri = asString(input?.['uri']);
      if (type !== 'mlflow_model' || !uri) continue;
      const registry = parseRegistryAssetId(uri);
      const fromRegistry =
        registry?.kind === 'models' && registry.version !== undefined
          ? ctx.catalog.model(registry.name, registry.version)?.flavors
          : undefined;
      if (fromRegistry) return cloneJson(fromRegistry);
      const ws = parseWorkspaceModelId(uri);
      const fromWorkspace = ws
        ? asObject(findModelVersion(ctx, ws.name, ws.version)?.properties['flavors'])
        : undefined;
      if (fromWorkspace && Object.keys(fromWorkspace).length > 0) return flavorsOf(fromWorkspace);
    }
  }
  return cloneJson(ctx.catalog.models[0]?.flavors ?? {});
}

function flavorsOf(value: Record<string, unknown>): Flavors {
  const out: Flavors = {};
  for (const [name, body] of Object.entries(value)) out[name] = { data: asStringMap(asObject(body)?.['data']) };
  return out;
}

/**
 * ModelVersions_List's `tags` filter: "Comma-separated list of tag names (and optionally values). Example:
 * tag1,tag2=value2": a version matches when it has every tag named (with that value when one is given).
 */
function tagFilter(raw: string | undefined): (tags: Record<string, string>) => boolean {
  const wanted = (raw ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => {
      const at = t.indexOf('=');
      return at < 0 ? { key: t, value: undefined } : { key: t.slice(0, at), value: t.slice(at + 1) };
    });
  return (tags) => wanted.every((w) => w.key in tags && (w.value === undefined || tags[w.key] === w.value));
}

/** listViewType: ActiveOnly (the default), ArchivedOnly or All. */
function viewFilter(raw: string | undefined): (archived: boolean) => boolean {
  const view = (raw ?? 'ActiveOnly').toLowerCase();
  if (view === 'all') return () => true;
  if (view === 'archivedonly') return (archived) => archived;
  if (view === 'activeonly') return (archived) => !archived;
  throw userError(
    'listViewType',
    `The value '${raw ?? ''}' is not valid for listViewType: ActiveOnly, ArchivedOnly or All.`,
  );
}

/** The container's next auto-incremented version: after the highest integer version (archived ones too). */
function nextVersionOf(versions: readonly ModelVersionRecord[]): string {
  const integers = versions
    .map((m) => m.version)
    .filter((v) => /^[1-9]\d*$/.test(v))
    .map(Number);
  return String(Math.max(0, ...integers) + 1);
}

export function registerModelRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.get<{ Params: ModelParams }>(`${WS_PREFIX}/models/:name/versions`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const tags = tagFilter(queryParam(req.query, 'tags'));
    const view = viewFilter(queryParam(req.query, 'listViewType'));
    return {
      value: ctx.store.state.models
        .filter((m) => m.name === req.params.name)
        .filter((m) => view(m.properties['isArchived'] === true) && tags(asStringMap(m.properties['tags'])))
        .map((m) => modelVersionResource(ctx, m)),
    };
  });

  app.get<{ Params: VersionParams }>(`${WS_PREFIX}/models/:name/versions/:version`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const m = findModelVersion(ctx, req.params.name, req.params.version);
    if (!m) throw notFound('model version', `${req.params.name}:${req.params.version}`);
    return modelVersionResource(ctx, m);
  });

  app.put<{ Params: VersionParams }>(`${WS_PREFIX}/models/:name/versions/:version`, ARM_ROUTE, (req, reply) => {
    requireWorkspace(ctx, req.params);
    const { name, version } = req.params;
    checkAssetName('name', name);
    const props = asObject(asObject(req.body)?.['properties']);
    if (!props) throw userError('properties', "The field 'properties' is required.");
    const modelUri = asString(props['modelUri']);
    if (!modelUri) throw userError('properties.modelUri', "The field 'properties.modelUri' is required.");
    const source = checkModelUri(ctx, modelUri);
    const modelType = asString(props['modelType']) ?? 'custom_model';
    const given = asObject(props['flavors']);
    let flavors: Flavors | undefined;
    if (source && modelType === 'mlflow_model' && (!given || Object.keys(given).length === 0)) {
      const declared = outputType(source.job, source.output);
      if (declared !== undefined && declared !== 'mlflow_model') {
        throw userError(
          'properties.modelUri',
          `Output '${source.output}' of job '${source.job.name}' is a ${declared} output and holds no MLmodel file; register an mlflow_model from an MLflow model output, or use modelType custom_model.`,
        );
      }
      flavors = outputFlavors(ctx, source.job);
    }
    const now = ctx.now();
    const stored: JsonObject = {
      ...cloneJson(props),
      modelType,
      tags: asStringMap(props['tags']),
      properties: asStringMap(props['properties']),
      ...(flavors ? { flavors } : {}),
      ...(source ? { jobName: source.job.name } : {}),
    };
    const existing = findModelVersion(ctx, name, version);
    if (existing) {
      if (asString(existing.properties['modelUri']) !== modelUri) {
        throw conflict(
          `Model version '${name}:${version}' already exists with a different modelUri; model versions are immutable. Use a new version.`,
        );
      }
      existing.properties = {
        ...existing.properties,
        description: stored['description'],
        tags: stored['tags'],
        properties: stored['properties'],
      };
      existing.modifiedAt = now;
      ctx.store.commit();
      return reply.code(200).send(modelVersionResource(ctx, existing));
    }
    const record: ModelVersionRecord = { name, version, createdAt: now, modifiedAt: now, properties: stored };
    ctx.store.state.models.push(record);
    ctx.store.commit();
    return reply.code(201).send(modelVersionResource(ctx, record));
  });

  app.get<{ Params: ModelParams }>(`${WS_PREFIX}/models/:name`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const versions = ctx.store.state.models.filter((m) => m.name === req.params.name);
    const first = versions[0];
    const last = versions[versions.length - 1];
    if (!first || !last) throw notFound('model', req.params.name);
    return {
      id: `${workspaceArmId(ctx)}/models/${req.params.name}`,
      name: req.params.name,
      type: `${ML_PROVIDER}/workspaces/models`,
      systemData: systemData(ctx, first.createdAt, last.modifiedAt),
      properties: {
        isArchived: false,
        latestVersion: last.version,
        nextVersion: nextVersionOf(versions),
        tags: {},
        properties: {},
      },
    };
  });
}
