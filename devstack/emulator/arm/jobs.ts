// Pipeline jobs: PUT (synchronous create; 409 if the name exists), GET, list, and cancel
// (202 + Location). Status is derived from the compressed clock (see clock.ts).
import type { FastifyInstance } from 'fastify';
import { effectiveDurations, jobStatus, TERMINAL_JOB_STATUSES } from '../clock';
import { ML_PROVIDER, systemData, workspaceArmId, type EmulatorContext } from '../context';
import { conflict, notFound, userError } from '../errors';
import { asObject, asString, cloneJson, type JsonObject } from '../json';
import { requestApiVersion } from '../policies';
import { jobTimeline } from '../records';
import type { JobRecord } from '../store';
import {
  ARM_ROUTE,
  checkAssetName,
  findJob,
  findOperation,
  newOperation,
  replyAccepted,
  requireWorkspace,
  WS_PREFIX,
  type WorkspaceParams,
} from './common';
import { defaultOutputUri } from '../jobLogs';
import { validatePipelineJob } from './pipelineValidation';
import { mlflowTrackingUri } from './workspace';

type JobParams = WorkspaceParams & { id: string };

export function jobArmId(ctx: EmulatorContext, name: string): string {
  return `${workspaceArmId(ctx)}/jobs/${name}`;
}

/** Where a job's output lands (the workspace artifact store, as Azure ML names it). */
export function jobOutputUri(name: string, output: string): string {
  return `azureml://datastores/workspaceartifactstore/paths/azureml/${name}/${output}/`;
}

export function studioUrl(ctx: EmulatorContext, name: string): string {
  return `${ctx.baseUrl()}/_emulator/studio/runs/${name}?wsid=${workspaceArmId(ctx)}&tid=${ctx.config.identities.tenantId}`;
}

function jobResource(ctx: EmulatorContext, j: JobRecord): JsonObject {
  const props = cloneJson(j.properties);
  const status = jobStatus(jobTimeline(j), ctx.now());
  // Every job gets a `default` output, as Azure ML gives it: the run's folder in the artifact store,
  // where its logs are (user_logs/std_log.txt; azure-ai-ml's jobs.stream reads them from there).
  const outputs: JsonObject = {
    default: { jobOutputType: 'uri_folder', mode: 'ReadWriteMount', uri: defaultOutputUri(j.name), description: null },
  };
  for (const [name, raw] of Object.entries(asObject(props['outputs']) ?? {})) {
    const o = asObject(raw) ?? {};
    outputs[name] = { mode: 'ReadWriteMount', ...o, uri: asString(o['uri']) ?? jobOutputUri(j.name, name) };
  }
  const runProperties: Record<string, unknown> = {
    ...(asObject(props['properties']) ?? {}),
    runSource: 'MFE',
    runType: 'HTTP',
  };
  if (status === 'Failed' && j.failure) {
    // JobBase has no error field in 2022-10-01; the failure is reported in the run properties.
    runProperties['azureml.error.code'] = j.failure.code;
    runProperties['azureml.error.message'] = j.failure.message;
  }
  return {
    id: jobArmId(ctx, j.name),
    name: j.name,
    type: `${ML_PROVIDER}/workspaces/jobs`,
    systemData: systemData(ctx, j.createdAt, j.cancelRequestedAt ?? j.createdAt),
    properties: {
      ...props,
      displayName: asString(props['displayName']) ?? j.name,
      experimentName: j.experimentName,
      tags: asObject(props['tags']) ?? {},
      properties: runProperties,
      computeId: asString(props['computeId']) ?? null,
      isArchived: false,
      status,
      services: {
        Studio: { jobServiceType: 'Studio', endpoint: studioUrl(ctx, j.name), properties: {} },
        Tracking: { jobServiceType: 'Tracking', endpoint: `${mlflowTrackingUri(ctx)}?`, properties: {} },
      },
      outputs,
    },
  };
}

export function registerJobRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  // Jobs_List: filtered by `tag` (jobs carrying that tag key), `jobType` and `listViewType`, and paged:
  // `nextLink` is absolute and continues with `$skip`, as the swagger declares. The page size Azure uses
  // is not documented; clients must follow nextLink whatever it is.
  app.get<{ Params: WorkspaceParams; Querystring: Record<string, string | undefined> }>(
    `${WS_PREFIX}/jobs`,
    ARM_ROUTE,
    (req) => {
      requireWorkspace(ctx, req.params);
      const { tag, jobType } = req.query;
      const view = req.query['listViewType'] ?? 'ActiveOnly';
      const skip = Number(req.query['$skip'] ?? 0);
      if (!Number.isInteger(skip) || skip < 0)
        throw userError('$skip', `The value '${req.query['$skip'] ?? ''}' is not a valid $skip.`);
      const jobs = ctx.store.state.jobs.filter((j) => {
        const props = asObject(j.properties) ?? {};
        if (tag !== undefined && !(tag in (asObject(props['tags']) ?? {}))) return false;
        if (jobType !== undefined && String(props['jobType'] ?? '').toLowerCase() !== jobType.toLowerCase())
          return false;
        return view !== 'ArchivedOnly'; // the emulator never archives a job
      });
      const size = ctx.config.listPageSize;
      const page = jobs.slice(skip, skip + size).map((j) => jobResource(ctx, j));
      if (skip + size >= jobs.length) return { value: page };
      const [path = '', query = ''] = req.url.split('?', 2);
      const kept = query.split('&').filter((p) => p !== '' && !/^(\$|%24)skip=/i.test(p));
      return { value: page, nextLink: `${ctx.baseUrl()}${path}?${[...kept, `$skip=${skip + size}`].join('&')}` };
    },
  );

  app.get<{ Params: JobParams }>(`${WS_PREFIX}/jobs/:id`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const j = findJob(ctx, req.params.id);
    if (!j) throw notFound('job', req.params.id);
    return jobResource(ctx, j);
  });

  app.put<{ Params: JobParams }>(`${WS_PREFIX}/jobs/:id`, ARM_ROUTE, async (req, reply) => {
    requireWorkspace(ctx, req.params);
    const name = req.params.id;
    checkAssetName('id', name);
    if (findJob(ctx, name)) throw conflict(`Job with name '${name}' already exists.`);
    const properties = asObject(asObject(req.body)?.['properties']);
    if (!properties) throw userError('properties', "The field 'properties' is required (JobBase).");
    const checked = await validatePipelineJob(ctx, properties);
    // Re-check after the asynchronous blob reads: a concurrent PUT may have created it.
    if (findJob(ctx, name)) throw conflict(`Job with name '${name}' already exists.`);
    const durations = effectiveDurations(ctx.config.clock);
    // A job whose data the validation step refuses fails at the end of Preparing; an injected
    // fault fails it where the rule says.
    const injected = checked.failure ? undefined : ctx.faults.take(req, 'failJob');
    const failure =
      checked.failure ??
      (injected
        ? {
            code: injected.code ?? 'SystemError',
            message: injected.message ?? `The job failed during ${injected.phase} (fault injected by the emulator).`,
          }
        : undefined);
    const record: JobRecord = {
      name,
      createdAt: ctx.now(),
      phaseMs: durations.jobPhases[0] ?? 0,
      phaseDurations: durations.jobPhases,
      cancelMs: durations.cancelMs,
      experimentName: asString(properties['experimentName']) ?? 'Default',
      properties: cloneJson(properties),
      computes: checked.computes,
      ...(checked.data ? { data: checked.data } : {}),
      ...(failure ? { failure } : {}),
      ...(injected ? { failAt: { phase: injected.phase, fraction: injected.fraction ?? 0.5 } } : {}),
    };
    ctx.store.state.jobs.push(record);
    ctx.store.commit();
    return reply.code(201).send(jobResource(ctx, record));
  });

  app.post<{ Params: JobParams }>(`${WS_PREFIX}/jobs/:id/cancel`, ARM_ROUTE, (req, reply) => {
    requireWorkspace(ctx, req.params);
    const j = findJob(ctx, req.params.id);
    if (!j) throw notFound('job', req.params.id);
    const now = ctx.now();
    const status = jobStatus(jobTimeline(j), now);
    const apiVersion = requestApiVersion(req);
    if (status === 'CancelRequested' && j.cancelOpId) {
      const op = findOperation(ctx, j.cancelOpId);
      if (op) return replyAccepted(ctx, reply, op, apiVersion);
    }
    if (TERMINAL_JOB_STATUSES.has(status)) return reply.code(200).send();
    j.cancelRequestedAt = now;
    const op = newOperation(ctx, 'jc', 'job-cancel', jobArmId(ctx, j.name), j.cancelMs);
    j.cancelOpId = op.id;
    ctx.store.commit();
    return replyAccepted(ctx, reply, op, apiVersion);
  });
}
