// MLflow tracking REST (api/2.0/mlflow) under the workspace's tracking URI, at /mlflow/v1.0 (MLflow 1
// clients) and /mlflow/v2.0 (azureml-mlflow with MLflow 2 and 3), the same handlers. A submitted job
// makes its experiment exist; once the job is Running it has a root run (run_id = job name) and a
// fine-tune child run, whose metrics appear as the compressed clock advances. A run's artifacts are
// its folder in the artifact store (the root run's: its log, user_logs/std_log.txt).
import type { FastifyInstance } from 'fastify';
import { stableGuid } from './auth';
import { jobStatus, naturalEnd, progressCutoff, runningWindow, type JobStatus } from './clock';
import { ML_PROVIDER, sameName, type EmulatorContext } from './context';
import { MlflowError } from './errors';
import { jobTimeline } from './records';
import { asArray, asNumber, asObject, asString, queryParam, type JsonObject } from './json';
import { literalInputs, trainingMetrics, type MetricPoint } from './metrics';
import type { JobRecord } from './store';
import { runContainer } from './jobLogs';
import { stepRunId, syncJobLog } from './runs';

interface MlflowParams {
  subscriptionId: string;
  resourceGroupName: string;
  workspaceName: string;
}

const WORKSPACE_PATH = `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/${ML_PROVIDER}/workspaces/:workspaceName/api/2.0/mlflow`;
/** The tracking server's API versions: v1.0 for MLflow 1 clients, v2.0 for MLflow 2 and 3. */
export const MLFLOW_PREFIXES: readonly string[] = [`/mlflow/v1.0${WORKSPACE_PATH}`, `/mlflow/v2.0${WORKSPACE_PATH}`];
const ROUTE = { config: { surface: 'mlflow' as const } };
const FINETUNE_STEP = 'chat_completion_finetune';

interface Run {
  job: JobRecord;
  runId: string;
  runName: string;
  isRoot: boolean;
  status: 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
  startTime: number;
  endTime?: number;
  tags: Record<string, string>;
  params: Record<string, string>;
}

export function experimentId(ctx: EmulatorContext, name: string): string {
  return stableGuid(`experiment:${ctx.config.identities.workspace}:${name}`);
}

function runStatus(status: JobStatus): Run['status'] {
  if (status === 'Completed') return 'FINISHED';
  if (status === 'Failed') return 'FAILED';
  if (status === 'Canceled') return 'KILLED';
  return 'RUNNING';
}

/** The runs of a job visible now: none before it reaches Running. */
function runsOf(ctx: EmulatorContext, job: JobRecord): Run[] {
  const now = ctx.now();
  const timeline = jobTimeline(job);
  const window = runningWindow(timeline);
  if (
    progressCutoff(timeline, now) < window.start ||
    (timeline.failAt !== undefined && naturalEnd(timeline) <= window.start)
  )
    return [];
  const status = jobStatus(timeline, now);
  const runState = runStatus(status);
  const finished = runState !== 'RUNNING';
  const cancelEnd = job.cancelRequestedAt !== undefined ? job.cancelRequestedAt + job.cancelMs : undefined;
  const rootEnd = finished ? (status === 'Canceled' ? cancelEnd : naturalEnd(timeline)) : undefined;
  const childEnd = finished
    ? status === 'Canceled'
      ? cancelEnd
      : Math.min(window.end, naturalEnd(timeline))
    : undefined;
  const common = {
    'mlflow.rootRunId': job.name,
    'mlflow.user': ctx.config.identities.clientId,
    'azureml.runsource': 'azureml.StepRun',
  };
  const displayName = asString(job.properties['displayName']) ?? job.name;
  return [
    {
      job,
      runId: job.name,
      runName: displayName,
      isRoot: true,
      status: runState,
      startTime: job.createdAt,
      ...(rootEnd !== undefined ? { endTime: rootEnd } : {}),
      tags: {
        ...common,
        'azureml.runsource': 'azureml.PipelineRun',
        'mlflow.runName': displayName,
        PipelineType: 'Finetune',
      },
      params: {},
    },
    {
      job,
      runId: childRunIdOf(job),
      runName: FINETUNE_STEP,
      isRoot: false,
      status: runState,
      startTime: window.start,
      ...(childEnd !== undefined ? { endTime: childEnd } : {}),
      tags: {
        ...common,
        'mlflow.parentRunId': job.name,
        'mlflow.runName': FINETUNE_STEP,
        'azureml.nodeid': FINETUNE_STEP,
        showMetricsAtRoot: 'true',
      },
      params: literalInputs(job.properties),
    },
  ];
}

function artifactUri(run: Run): string {
  return `azureml://experiments/${run.job.experimentName}/runs/${run.runId}/artifacts`;
}

function visibleMetrics(ctx: EmulatorContext, run: Run): MetricPoint[] {
  const timeline = jobTimeline(run.job);
  const cutoff = progressCutoff(timeline, ctx.now());
  return trainingMetrics(run.job.name, run.job.properties, timeline, run.job.data).filter((p) => p.timestamp <= cutoff);
}

function renderRun(ctx: EmulatorContext, run: Run): JsonObject {
  const latest = new Map<string, MetricPoint>();
  for (const p of visibleMetrics(ctx, run)) latest.set(p.key, p);
  const expId = experimentId(ctx, run.job.experimentName);
  return {
    info: {
      run_id: run.runId,
      run_uuid: run.runId,
      run_name: run.runName,
      experiment_id: expId,
      user_id: ctx.config.identities.clientId,
      status: run.status,
      start_time: run.startTime,
      ...(run.endTime !== undefined ? { end_time: run.endTime } : {}),
      artifact_uri: artifactUri(run),
      lifecycle_stage: 'active',
    },
    data: {
      metrics: [...latest.values()].map((p) => ({ key: p.key, value: p.value, timestamp: p.timestamp, step: p.step })),
      params: Object.entries(run.params).map(([key, value]) => ({ key, value })),
      tags: Object.entries(run.tags).map(([key, value]) => ({ key, value })),
    },
    inputs: {},
  };
}

/** The fine-tune child run's id of each job (a sha256 each: worth keeping at 1,000 jobs). */
const childRunIds = new WeakMap<JobRecord, string>();
function childRunIdOf(job: JobRecord): string {
  let id = childRunIds.get(job);
  if (id === undefined) {
    id = stepRunId(job.name, FINETUNE_STEP);
    childRunIds.set(job, id);
  }
  return id;
}

/**
 * The jobs whose runs can match the clauses: a clause on the root tag or on run ids names its jobs, so only
 * those jobs' runs are built (every clause is still checked on them). Without one, every job's. The answer
 * is the same as filtering every run; at 1,000 jobs it spares the emulator building 2,000 runs per search.
 */
function candidateJobs(ctx: EmulatorContext, clauses: readonly Clause[]): JobRecord[] {
  let jobs = ctx.store.state.jobs;
  for (const c of clauses) {
    const field = c.field.replace(/^(tags|tag)\./, 'tags.').replace(/^(attributes|attribute|attr|run)\./, '');
    if ((field === 'tags.mlflow.rootRunId' || field === 'tags.mlflow.parentRunId') && 'value' in c && c.op === '=')
      jobs = jobs.filter((j) => j.name === c.value);
    else if (field === 'run_id' && (('values' in c && c.op === 'IN') || ('value' in c && c.op === '='))) {
      const ids = new Set('values' in c ? c.values : [c.value]);
      jobs = jobs.filter((j) => ids.has(j.name) || ids.has(childRunIdOf(j)));
    }
  }
  return jobs;
}

function runsMatching(ctx: EmulatorContext, clauses: readonly Clause[]): Run[] {
  return candidateJobs(ctx, clauses).flatMap((j) => runsOf(ctx, j));
}

function findRun(ctx: EmulatorContext, runId: string | undefined): Run {
  if (!runId) throw new MlflowError(400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'.");
  const run = runsMatching(ctx, [{ field: 'run_id', op: '=', value: runId }]).find((r) => r.runId === runId);
  if (!run) throw new MlflowError(404, 'RESOURCE_DOES_NOT_EXIST', `Run '${runId}' not found.`);
  return run;
}

type Clause =
  { field: string; op: '=' | '!='; value: string } | { field: string; op: 'IN' | 'NOT IN'; values: string[] };

const CLAUSE =
  /^\s*([\w.]+|[\w]+\.`[^`]+`)\s*(=|!=|not\s+in\b|in\b)\s*(?:'([^']*)'|"([^"]*)"|\(([^)]*)\))\s*(?:and\b|$)/i;
/** A list takes single-quoted strings only (MLflow's parser reads a list item as a single-quoted literal). */
const LIST_ITEM = /^\s*'([^']*)'\s*(?:,|$)/;

/**
 * The subset of MLflow's search filter the flow uses: `a.b = 'v' AND ...` on tags and attributes, and
 * `attributes.run_id IN ('a', 'b')` (or NOT IN): as in MLflow, only run_id takes a list of quoted strings.
 */
function parseFilter(filter: string): Clause[] {
  const clauses: Clause[] = [];
  let rest = filter.trim();
  while (rest !== '') {
    const m = CLAUSE.exec(rest);
    if (!m?.[1] || !m[2])
      throw new MlflowError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Unsupported filter clause: ${rest.split(/\s+and\s+/i)[0]}`,
      );
    const field = m[1].replace(/`/g, '');
    const op = m[2].toUpperCase().replace(/\s+/g, ' ');
    const list = m[5];
    if (op === 'IN' || op === 'NOT IN' || list !== undefined) {
      if (field.replace(/^(attributes|attribute|attr|run)\./, '') !== 'run_id' || list === undefined)
        throw new MlflowError(
          400,
          'INVALID_PARAMETER_VALUE',
          "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
        );
      clauses.push({ field, op: op === 'IN' ? 'IN' : 'NOT IN', values: parseList(list) });
    } else {
      clauses.push({ field, op: op === '=' ? '=' : '!=', value: m[3] ?? m[4] ?? '' });
    }
    rest = rest.slice(m[0].length).trim();
  }
  return clauses;
}

/** `'a', 'b'` → ['a', 'b']; an empty list or an unquoted item is refused. */
function parseList(text: string): string[] {
  const values: string[] = [];
  let rest = text.trim();
  while (rest !== '') {
    const m = LIST_ITEM.exec(rest);
    if (!m)
      throw new MlflowError(
        400,
        'INVALID_PARAMETER_VALUE',
        `While parsing a list in the query, expected string value, punctuation, or whitespace, but got: ${rest}`,
      );
    values.push(m[1] ?? '');
    rest = rest.slice(m[0].length).trim();
  }
  if (values.length === 0)
    throw new MlflowError(
      400,
      'INVALID_PARAMETER_VALUE',
      'While parsing a list in the query, expected a non-empty list of string values',
    );
  return values;
}

function matches(run: Run, c: Clause): boolean {
  const value = clauseValue(run, c.field);
  if ('values' in c) return (value !== undefined && c.values.includes(value)) === (c.op === 'IN');
  return (value === c.value) === (c.op === '=');
}

function clauseValue(run: Run, field: string): string | undefined {
  if (field.startsWith('tags.') || field.startsWith('tag.')) return run.tags[field.slice(field.indexOf('.') + 1)];
  if (field.startsWith('params.') || field.startsWith('param.')) return run.params[field.slice(field.indexOf('.') + 1)];
  const attribute = field.replace(/^(attributes|attribute|attr|run)\./, '');
  switch (attribute) {
    case 'run_id':
      return run.runId;
    case 'run_name':
      return run.runName;
    case 'status':
      return run.status;
    default:
      throw new MlflowError(400, 'INVALID_PARAMETER_VALUE', `Unsupported filter field '${field}'.`);
  }
}

export function registerMlflowRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const checkWorkspace = (p: MlflowParams): void => {
    const ids = ctx.config.identities;
    if (
      !sameName(p.subscriptionId, ids.subscriptionId) ||
      !sameName(p.resourceGroupName, ids.resourceGroup) ||
      !sameName(p.workspaceName, ids.workspace)
    ) {
      throw new MlflowError(404, 'RESOURCE_DOES_NOT_EXIST', `Workspace '${p.workspaceName}' not found.`);
    }
  };
  const experimentNames = (): string[] => [...new Set(ctx.store.state.jobs.map((j) => j.experimentName))];
  const renderExperiment = (name: string): JsonObject => {
    const jobs = ctx.store.state.jobs.filter((j) => j.experimentName === name);
    const created = Math.min(...jobs.map((j) => j.createdAt));
    return {
      experiment_id: experimentId(ctx, name),
      name,
      artifact_location: `azureml://experiments/${name}`,
      lifecycle_stage: 'active',
      creation_time: created,
      last_update_time: Math.max(...jobs.map((j) => j.createdAt)),
      tags: [],
    };
  };

  for (const prefix of MLFLOW_PREFIXES) {
    app.get<{ Params: MlflowParams }>(`${prefix}/experiments/get-by-name`, ROUTE, (req) => {
      checkWorkspace(req.params);
      const name = queryParam(req.query, 'experiment_name');
      if (!name)
        throw new MlflowError(
          400,
          'INVALID_PARAMETER_VALUE',
          "Missing value for required parameter 'experiment_name'.",
        );
      if (!experimentNames().includes(name))
        throw new MlflowError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
      return { experiment: renderExperiment(name) };
    });

    app.get<{ Params: MlflowParams }>(`${prefix}/experiments/get`, ROUTE, (req) => {
      checkWorkspace(req.params);
      const id = queryParam(req.query, 'experiment_id');
      const name = experimentNames().find((n) => experimentId(ctx, n) === id);
      if (!name)
        throw new MlflowError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with id '${id ?? ''}'`);
      return { experiment: renderExperiment(name) };
    });

    app.post<{ Params: MlflowParams }>(`${prefix}/runs/search`, ROUTE, (req) => {
      checkWorkspace(req.params);
      const body = asObject(req.body) ?? {};
      const experimentIds = (asArray(body['experiment_ids']) ?? []).filter((x): x is string => typeof x === 'string');
      const clauses = parseFilter(asString(body['filter']) ?? '');
      const maxResults = asNumber(body['max_results']) ?? 1000;
      if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 50000) {
        throw new MlflowError(400, 'INVALID_PARAMETER_VALUE', 'max_results must be an integer between 1 and 50000.');
      }
      const offset = decodePageToken(asString(body['page_token']));
      const matching = runsMatching(ctx, clauses)
        .filter((r) => experimentIds.length === 0 || experimentIds.includes(experimentId(ctx, r.job.experimentName)))
        .filter((r) => clauses.every((c) => matches(r, c)))
        .sort((a, b) => b.startTime - a.startTime);
      const page = matching.slice(offset, offset + maxResults);
      const next =
        offset + maxResults < matching.length
          ? Buffer.from(JSON.stringify({ offset: offset + maxResults })).toString('base64')
          : undefined;
      return { runs: page.map((r) => renderRun(ctx, r)), ...(next ? { next_page_token: next } : {}) };
    });

    app.get<{ Params: MlflowParams }>(`${prefix}/runs/get`, ROUTE, (req) => {
      checkWorkspace(req.params);
      const run = findRun(ctx, queryParam(req.query, 'run_id') ?? queryParam(req.query, 'run_uuid'));
      return { run: renderRun(ctx, run) };
    });

    app.get<{ Params: MlflowParams }>(`${prefix}/metrics/get-history`, ROUTE, (req) => {
      checkWorkspace(req.params);
      const run = findRun(ctx, queryParam(req.query, 'run_id') ?? queryParam(req.query, 'run_uuid'));
      const key = queryParam(req.query, 'metric_key');
      if (!key)
        throw new MlflowError(400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'metric_key'.");
      const all = visibleMetrics(ctx, run).filter((p) => p.key === key);
      const maxResults = Number(queryParam(req.query, 'max_results') ?? '25000');
      if (!Number.isInteger(maxResults) || maxResults < 1)
        throw new MlflowError(400, 'INVALID_PARAMETER_VALUE', 'max_results must be a positive integer.');
      const offset = decodePageToken(queryParam(req.query, 'page_token'));
      const page = all.slice(offset, offset + maxResults);
      const next =
        offset + maxResults < all.length
          ? Buffer.from(JSON.stringify({ offset: offset + maxResults })).toString('base64')
          : undefined;
      return {
        metrics: page.map((p) => ({ key: p.key, value: p.value, timestamp: p.timestamp, step: p.step })),
        ...(next ? { next_page_token: next } : {}),
      };
    });

    // MLflow 3's logged models (logged-models/search, which its artifact listing calls for a path):
    // the fine-tune pipeline logs none, so every search is empty (`{}`, as MLflow's server writes an
    // empty response).
    app.post<{ Params: MlflowParams }>(`${prefix}/logged-models/search`, ROUTE, (req) => {
      checkWorkspace(req.params);
      const ids = asObject(req.body)?.['experiment_ids'];
      if (ids !== undefined && !Array.isArray(ids))
        throw new MlflowError(400, 'INVALID_PARAMETER_VALUE', 'experiment_ids must be a list.');
      return {};
    });

    // MLflow's artifacts/list: the files directly under `path` in the run's folder of the artifact store.
    app.get<{ Params: MlflowParams }>(`${prefix}/artifacts/list`, ROUTE, async (req) => {
      checkWorkspace(req.params);
      const run = findRun(ctx, queryParam(req.query, 'run_id') ?? queryParam(req.query, 'run_uuid'));
      const rootUri = artifactUri(run);
      const blob = ctx.blob;
      if (!blob) return { root_uri: rootUri };
      if (run.isRoot) await syncJobLog(ctx, run.job);
      const folder = (queryParam(req.query, 'path') ?? '').replace(/^\/+|\/+$/g, '');
      const prefixPath = `${runContainer(run.runId)}/${folder === '' ? '' : `${folder}/`}`;
      const entries = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
      for (const item of await blob.listArtifacts(prefixPath)) {
        const rest = item.name.slice(prefixPath.length);
        const [head = '', ...tail] = rest.split('/');
        const path = folder === '' ? head : `${folder}/${head}`;
        if (tail.length > 0) entries.set(path, { path, is_dir: true });
        else entries.set(path, { path, is_dir: false, file_size: item.size });
      }
      const files = [...entries.values()].sort((a, b) => a.path.localeCompare(b.path));
      return files.length > 0 ? { root_uri: rootUri, files } : { root_uri: rootUri };
    });
  }
}

function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    const offset = asNumber(asObject(parsed)?.['offset']);
    if (offset !== undefined && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw new MlflowError(400, 'INVALID_PARAMETER_VALUE', 'Invalid page_token.');
}
