// RunHistory (/history/v1.0/...), the workspace data plane azure-ai-ml reaches through the discovery
// document's `history`/`api` URL, with the same bearer token as ARM: a job is a run (its root run)
// whose children are the steps of its pipeline component (runs.ts), each with its status on the
// job's clock. What `ml_client.jobs.stream(name)` and azureml-mlflow's artifact client call:
//   GET  .../runs/{run}                        Run
//   GET  .../runs/{run}/details                RunDetails (status, error, logFiles: SAS URLs)
//   GET  .../runs/{run}/children               PaginatedRunList ($top, $continuationtoken)
//   (the same three under experiments/{name}/ and experimentids/{id}/)
//   GET  .../experiments/{name}/runs/{run}/artifacts              PaginatedArtifactList
//   GET  .../experiments/{name}/runs/{run}/artifacts/path?path=   the ones under a folder
//   GET  .../experiments/{name}/runs/{run}/artifacts/contentinfo?path=   the file's SAS URL
//   (and experimentids/{id}/ for the artifact routes)
// A job's files are its `default` output: ExperimentRun/dcid.<job>/ in the artifact store (Azurite),
// where its log user_logs/std_log.txt is brought up to date whenever one of these routes is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { stableGuid } from './auth';
import { jobEndedAt, jobStatus, jobStatusHistory, phaseStart, type JobStatus } from './clock';
import { isoTime, ML_PROVIDER, sameName, type EmulatorContext } from './context';
import { ArmError } from './errors';
import { runContainer } from './jobLogs';
import { asStringMap, queryParam, type JsonObject } from './json';
import { experimentId } from './mlflow';
import { computeScale, jobTimeline } from './records';
import { jobSteps, stepState, syncJobLog, type StepRun } from './runs';
import type { JobRecord } from './store';
import { findJob, requireWorkspace, type WorkspaceParams } from './arm/common';
import { ARTIFACT_DATASTORE } from './arm/workspace';
import { liveCompute } from './arm/computes';

const WS = `/history/v1.0/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/${ML_PROVIDER}/workspaces/:workspaceName`;
const ROUTE = { config: { surface: 'history' as const } };
/** How long the SAS URLs handed out stay valid (azure-ai-ml signs its own for 30 minutes). */
const SAS_LIFETIME_MS = 30 * 60_000;
const DEFAULT_PAGE = 100;

type RunParams = WorkspaceParams & { runId: string; experimentName?: string; experimentId?: string };

/** A run RunHistory knows: a job's root run, or one of its steps. */
interface RunRef {
  job: JobRecord;
  step?: StepRun;
}

interface RunFacts {
  runId: string;
  parentRunId: string | null;
  status: JobStatus;
  createdAt: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  modifiedAt: number;
  revision: number;
  displayName: string;
  runType: string;
  target: string | null;
  properties: Record<string, string>;
  tags: Record<string, string>;
  failed: boolean;
}

/** .NET TimeSpan text, as RunHistory writes durations: [d.]hh:mm:ss.fffffff */
export function timeSpan(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const days = Math.floor(total / 86_400_000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const h = Math.floor(total / 3_600_000) % 24;
  const m = Math.floor(total / 60_000) % 60;
  const s = Math.floor(total / 1000) % 60;
  return `${days > 0 ? `${days}.` : ''}${pad(h)}:${pad(m)}:${pad(s)}.${pad((total % 1000) * 10_000, 7)}`;
}

function facts(ref: RunRef, now: number): RunFacts | undefined {
  const { job, step } = ref;
  const t = jobTimeline(job);
  const history = jobStatusHistory(t, now);
  const modifiedAt = history[history.length - 1]?.at ?? job.createdAt;
  const displayName = typeof job.properties['displayName'] === 'string' ? job.properties['displayName'] : job.name;
  if (!step) {
    const status = jobStatus(t, now);
    // The run starts when the job gets its compute (Preparing), unless it ended or was cancelled first.
    const preparing = phaseStart(t, 'Preparing');
    const endedAt = jobEndedAt(t, now);
    const started =
      now >= preparing &&
      !(job.cancelRequestedAt !== undefined && job.cancelRequestedAt <= preparing) &&
      !(endedAt !== undefined && endedAt <= preparing);
    return {
      runId: job.name,
      parentRunId: null,
      status,
      createdAt: job.createdAt,
      startedAt: started ? preparing : undefined,
      endedAt,
      modifiedAt,
      revision: history.length,
      displayName,
      runType: 'azureml.PipelineRun',
      target: job.computes?.[0]?.name ?? null,
      properties: {
        ...asStringMap(job.properties['properties']),
        'azureml.runsource': 'azureml.PipelineRun',
        runSource: 'MFE',
        runType: 'HTTP',
      },
      tags: asStringMap(job.properties['tags']),
      failed: status === 'Failed',
    };
  }
  const state = stepState(job, step, now);
  if (!state) return undefined;
  return {
    runId: step.runId,
    parentRunId: job.name,
    status: state.status,
    createdAt: step.start,
    startedAt: step.start,
    endedAt: state.end,
    modifiedAt: state.end ?? step.start,
    revision: state.end !== undefined ? 2 : 1,
    displayName: step.step,
    runType: 'azureml.StepRun',
    target: step.compute ?? null,
    properties: {
      'azureml.runsource': 'azureml.StepRun',
      'azureml.nodeid': step.step,
      'azureml.pipeline': job.name,
      'azureml.pipelinerunid': job.name,
      'azureml.moduleid': step.componentId,
    },
    tags: {},
    failed: state.status === 'Failed',
  };
}

export function registerHistoryRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const ids = ctx.config.identities;
  const oid = stableGuid(`sp:${ids.clientId}`);
  const user = {
    userObjectId: oid,
    userPuId: null,
    userIdp: null,
    userAltSecId: null,
    userIss: `https://sts.windows.net/${ids.tenantId}/`,
    userTenantId: ids.tenantId,
    userName: ids.clientId,
    upn: null,
  };

  /** The run a path names, after checking the workspace and the experiment the path gives. */
  const lookup = (p: RunParams): RunRef => {
    requireWorkspace(ctx, p);
    const missing = (): ArmError => new ArmError(404, 'UserError', `Run ${p.runId} was not found`);
    const inExperiment = (job: JobRecord): boolean =>
      (p.experimentName === undefined || p.experimentName === job.experimentName) &&
      (p.experimentId === undefined || sameName(p.experimentId, experimentId(ctx, job.experimentName)));
    const job = findJob(ctx, p.runId);
    if (job) {
      if (!inExperiment(job)) throw missing();
      return { job };
    }
    const now = ctx.now();
    for (const candidate of ctx.store.state.jobs) {
      if (!inExperiment(candidate)) continue;
      const step = jobSteps(ctx, candidate).find((s) => s.runId === p.runId);
      if (step && stepState(candidate, step, now)) return { job: candidate, step };
    }
    throw missing();
  };

  const computeOf = (ref: RunRef, target: string | null): JsonObject | null => {
    if (!target) return null;
    const c = liveCompute(ctx, target);
    const held = ref.job.computes?.find((x) => sameName(x.name, target))?.nodes ?? 1;
    const finetune = ref.step ? /finetune/i.test(ref.step.step) : true;
    return {
      target,
      targetType: 'AmlCompute',
      vmSize: c ? computeScale(c).vmSize : null,
      instanceType: c ? computeScale(c).vmSize : null,
      instanceCount: finetune ? held : 1,
      gpuCount: null,
      priority: 'Dedicated',
      region: ids.location,
    };
  };

  const errorOf = (ref: RunRef, f: RunFacts): JsonObject | null => {
    const failure = ref.job.failure;
    if (!f.failed || !failure) return null;
    return {
      error: {
        code: failure.code,
        message: failure.message,
        details: (failure.details ?? []).map((d) => ({ code: d.code, message: d.message, details: [] })),
      },
      time: f.endedAt !== undefined ? isoTime(f.endedAt) : null,
      componentName: 'PipelineRunner',
    };
  };

  const common = (ref: RunRef, f: RunFacts): JsonObject => {
    const duration = f.startedAt !== undefined ? (f.endedAt ?? ctx.now()) - f.startedAt : undefined;
    return {
      runNumber: Math.floor(f.createdAt / 1000),
      rootRunId: ref.job.name,
      createdBy: user,
      userId: oid,
      error: errorOf(ref, f),
      warnings: null,
      revision: f.revision,
      statusRevision: f.revision,
      runUuid: stableGuid(`runuuid:${f.runId}`),
      parentRunUuid: f.parentRunId ? stableGuid(`runuuid:${f.parentRunId}`) : null,
      rootRunUuid: stableGuid(`runuuid:${ref.job.name}`),
      hasVirtualParent: false,
      lastStartTimeUtc: null,
      currentComputeTime: null,
      computeDuration: duration !== undefined ? timeSpan(duration) : null,
      effectiveStartTimeUtc: null,
      lastModifiedBy: user,
      lastModifiedUtc: isoTime(f.modifiedAt),
      duration: duration !== undefined ? timeSpan(duration) : null,
      runId: f.runId,
      parentRunId: f.parentRunId,
      experimentId: experimentId(ctx, ref.job.experimentName),
      status: f.status,
      startTimeUtc: f.startedAt !== undefined ? isoTime(f.startedAt) : null,
      endTimeUtc: f.endedAt !== undefined ? isoTime(f.endedAt) : null,
      dataContainerId: `dcid.${f.runId}`,
      target: f.target,
      tags: f.tags,
      properties: f.properties,
      parameters: {},
      services: {},
      inputDatasets: [],
      outputDatasets: [],
      runDefinition: null,
      runTypeV2: {
        orchestrator: ref.step ? 'Execution' : null,
        traits: [],
        attribution: ref.step ? 'ExecutionStep' : 'PipelineRun',
        computeType: ref.step && f.target ? 'AmlCompute' : null,
      },
      settings: {},
      computeRequest: null,
      compute: computeOf(ref, f.target),
      inputs: {},
      outputs: {},
    };
  };

  const renderRun = (ref: RunRef, f: RunFacts): JsonObject => ({
    ...common(ref, f),
    createdUtc: isoTime(f.createdAt),
    token: null,
    tokenExpiryTimeUtc: null,
    cancelationReason: null,
    options: { generateDataContainerIdIfNotSpecified: true },
    isVirtual: false,
    displayName: f.displayName,
    name: null,
    description: null,
    hidden: false,
    runType: f.runType,
    actionUris: {},
    scriptName: null,
    uniqueChildRunComputeTargets: ref.step
      ? []
      : [...new Set(jobSteps(ctx, ref.job).flatMap((s) => (s.compute ? [s.compute] : [])))],
    jobSpecification: null,
    primaryMetricName: null,
    createdFrom: null,
    cancelUri: null,
    completeUri: null,
    diagnosticsUri: null,
    retainForLifetimeOfWorkspace: false,
    queueingInfo: null,
    activeChildRunId: null,
  });

  /** The run's log files: name → SAS URL of the blob (the root run's log, once the job has one). */
  const logFiles = async (ref: RunRef): Promise<Record<string, string>> => {
    const blob = ctx.blob;
    if (ref.step || !blob) return {};
    await syncJobLog(ctx, ref.job);
    const expires = new Date(Date.now() + SAS_LIFETIME_MS);
    const out: Record<string, string> = {};
    for (const item of await blob.listArtifacts(`${runContainer(ref.job.name)}/`)) {
      const path = item.name.slice(runContainer(ref.job.name).length + 1);
      if (path.startsWith('user_logs/') || path.startsWith('logs/'))
        out[path] = await blob.artifactReadUrl(item.name, expires);
    }
    return out;
  };

  const renderDetails = async (ref: RunRef, f: RunFacts): Promise<JsonObject> => ({
    ...common(ref, f),
    createdTimeUtc: isoTime(f.createdAt),
    logFiles: await logFiles(ref),
    jobCost: {
      chargedCpuCoreSeconds: null,
      chargedCpuMemoryMegabyteSeconds: null,
      chargedGpuSeconds: null,
      chargedNodeUtilizationSeconds: null,
    },
    currentAttemptId: 1,
  });

  const factsOrMissing = (ref: RunRef, runId: string): RunFacts => {
    const f = facts(ref, ctx.now());
    if (!f) throw new ArmError(404, 'UserError', `Run ${runId} was not found`);
    return f;
  };

  for (const scope of ['', '/experiments/:experimentName', '/experimentids/:experimentId']) {
    const runPath = `${WS}${scope}/runs/:runId`;

    app.get<{ Params: RunParams }>(runPath, ROUTE, async (req) => {
      const ref = lookup(req.params);
      if (!ref.step) await syncJobLog(ctx, ref.job);
      return renderRun(ref, factsOrMissing(ref, req.params.runId));
    });

    app.get<{ Params: RunParams }>(`${runPath}/details`, ROUTE, async (req) => {
      const ref = lookup(req.params);
      return renderDetails(ref, factsOrMissing(ref, req.params.runId));
    });

    app.get<{ Params: RunParams }>(`${runPath}/children`, ROUTE, (req) => {
      const ref = lookup(req.params);
      const now = ctx.now();
      const children = ref.step
        ? []
        : jobSteps(ctx, ref.job).flatMap((step) => {
            const child: RunRef = { job: ref.job, step };
            const f = facts(child, now);
            return f ? [renderRun(child, f)] : [];
          });
      return page(req, children);
    });
  }

  // ---- artifacts (azureml-mlflow's RunArtifactsClient) ----------------------------------------

  const artifacts = async (ref: RunRef, runId: string): Promise<{ path: string; blobName: string }[]> => {
    const blob = ctx.blob;
    if (!blob) return [];
    if (!ref.step) await syncJobLog(ctx, ref.job);
    const prefix = `${runContainer(runId)}/`;
    return (await blob.listArtifacts(prefix)).map((b) => ({ path: b.name.slice(prefix.length), blobName: b.name }));
  };

  const artifactItem = (ref: RunRef, runId: string, path: string): JsonObject => ({
    artifactId: `${runContainer(runId)}/${path}`,
    origin: 'ExperimentRun',
    container: `dcid.${runId}`,
    path,
    etag: null,
    createdTime: isoTime(ref.step?.start ?? ref.job.createdAt),
    dataPath: { dataStoreName: ARTIFACT_DATASTORE, relativePath: `${runContainer(runId)}/${path}`, sqlDataPath: null },
    tags: {},
  });

  for (const scope of ['/experiments/:experimentName', '/experimentids/:experimentId']) {
    const base = `${WS}${scope}/runs/:runId/artifacts`;

    app.get<{ Params: RunParams }>(base, ROUTE, async (req) => {
      const ref = lookup(req.params);
      const runId = req.params.runId;
      return {
        value: (await artifacts(ref, runId)).map((a) => artifactItem(ref, runId, a.path)),
        continuationToken: null,
        nextLink: null,
      };
    });

    app.get<{ Params: RunParams }>(`${base}/path`, ROUTE, async (req) => {
      const ref = lookup(req.params);
      const runId = req.params.runId;
      const folder = (queryParam(req.query, 'path') ?? '').replace(/^\/+|\/+$/g, '');
      const under = (await artifacts(ref, runId)).filter((a) => folder === '' || a.path.startsWith(`${folder}/`));
      return { value: under.map((a) => artifactItem(ref, runId, a.path)), continuationToken: null, nextLink: null };
    });

    app.get<{ Params: RunParams }>(`${base}/contentinfo`, ROUTE, async (req) => {
      const ref = lookup(req.params);
      const runId = req.params.runId;
      const path = (queryParam(req.query, 'path') ?? '').replace(/^\/+/, '');
      const found = (await artifacts(ref, runId)).find((a) => a.path === path);
      const blob = ctx.blob;
      if (!found || !blob)
        throw new ArmError(404, 'UserError', `Artifact ${path} was not found in container dcid.${runId}`);
      return {
        contentUri: await blob.artifactReadUrl(found.blobName, new Date(Date.now() + SAS_LIFETIME_MS)),
        origin: 'ExperimentRun',
        container: `dcid.${runId}`,
        path,
        tags: {},
      };
    });
  }

  /** `$top` items per page; `$continuationtoken` is the offset, and nextLink carries it. */
  function page(req: FastifyRequest, items: JsonObject[]): JsonObject {
    const topText = queryParam(req.query, '$top');
    const top = topText === undefined ? DEFAULT_PAGE : Number(topText);
    if (!Number.isInteger(top) || top < 1) throw new ArmError(400, 'UserError', '$top must be a positive integer.');
    const tokenText = queryParam(req.query, '$continuationtoken');
    const offset = tokenText === undefined ? 0 : Number(Buffer.from(tokenText, 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0)
      throw new ArmError(400, 'UserError', 'The continuation token is not valid.');
    const value = items.slice(offset, offset + top);
    if (offset + top >= items.length) return { value, continuationToken: null, nextLink: null };
    const token = Buffer.from(String(offset + top)).toString('base64url');
    const [path = '', query = ''] = req.url.split('?', 2);
    const kept = query.split('&').filter((p) => p !== '' && !/^(\$|%24)continuationtoken=/i.test(p));
    const next = [...kept, `$continuationtoken=${token}`].join('&');
    return { value, continuationToken: token, nextLink: `${ctx.baseUrl()}${path}?${next}` };
  }
}
