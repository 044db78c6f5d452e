// Workspace model versions: PUT (not an LRO; 201 create, 200 update), GET, list.
// A model registered from `azureml://jobs/<job>/outputs/<output>` needs that job Completed.
import type { FastifyInstance } from 'fastify';
import { jobStatus } from '../clock';
import { ML_PROVIDER, systemData, workspaceArmId, type EmulatorContext } from '../context';
import { parseJobOutputUri } from '../assetIds';
import { conflict, notFound, userError } from '../errors';
import { asObject, asString, asStringMap, cloneJson, type JsonObject } from '../json';
import { jobTimeline } from '../records';
import type { ModelVersionRecord } from '../store';
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

/** Checks modelUri; returns the job name when the model comes from a job output. */
function checkModelUri(ctx: EmulatorContext, uri: string): string | undefined {
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
  return job.name;
}

export function registerModelRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.get<{ Params: ModelParams }>(`${WS_PREFIX}/models/:name/versions`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    return {
      value: ctx.store.state.models.filter((m) => m.name === req.params.name).map((m) => modelVersionResource(ctx, m)),
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
    const jobName = checkModelUri(ctx, modelUri);
    const now = ctx.now();
    const stored: JsonObject = {
      ...cloneJson(props),
      modelType: asString(props['modelType']) ?? 'custom_model',
      tags: asStringMap(props['tags']),
      properties: asStringMap(props['properties']),
      ...(jobName ? { jobName } : {}),
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
      properties: { isArchived: false, latestVersion: last.version, nextVersion: null, tags: {}, properties: {} },
    };
  });
}
