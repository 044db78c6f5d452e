// What callers read about a run's training beyond its record: the loss curve (MLflow's metric history,
// paged) and the tail of the job's log (user_logs/std_log.txt, through RunHistory's run details and the
// SAS URL it hands out). Both are read from Azure on request, never while the run runs, so they cost
// nothing per poll; they need the workspace's address and a credential (the worker's variables).
import type { TokenCredential } from '@azure/core-auth';
import { createArmClient, type ArmClient } from '../azure/arm';
import type { AzureConfig } from '../azure/config';
import { createCredential } from '../azure/credentials';
import { MlflowClient, trackingBaseUrl } from '../azure/mlflow';
import { AzureRestClient } from '../azure/rest';
import { trainingRun, type LiveTraining, type MetricsEntry } from '../azure/liveTraining';
import type { JobFollowDetails } from '../activities/types';
import { invalid } from './errors';

/** The curves `metrics` returns unless asked for others: what the finetune step logs per step or epoch. */
export const DEFAULT_SERIES = ['loss', 'eval_loss', 'learning_rate', 'epoch'] as const;
export const MAX_SERIES_POINTS = 1000;

export interface MetricSeries {
  metric: string;
  points: { step: number; value: number; timestamp: string }[];
}

export interface MetricsPage {
  object: 'list';
  jobName: string;
  /** The MLflow run the series come from (the fine-tune step's run). */
  mlflowRunId?: string;
  data: MetricSeries[];
  /** Pass as `pageToken` for the next points of every series that has more; null at the end. */
  nextPageToken: string | null;
}

export interface LogTail {
  jobName: string;
  file: string;
  /** The last `lines` lines (fewer when the log is shorter); empty before the job has a log. */
  lines: string[];
  /** Whether the log had more lines than were returned. */
  truncated: boolean;
}

/** The figures a follower heartbeats or a step returns, kept only when they have the expected shape. */
export function followDetailsOf(value: unknown): JobFollowDetails | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
  const training =
    v.training !== null && typeof v.training === 'object' && typeof (v.training as LiveTraining).readAt === 'string'
      ? (v.training as LiveTraining)
      : undefined;
  const metricsLog = Array.isArray(v.metricsLog)
    ? (v.metricsLog as unknown[]).filter(
        (e): e is MetricsEntry => e !== null && typeof e === 'object' && typeof (e as MetricsEntry).step === 'number',
      )
    : undefined;
  const out: JobFollowDetails = {};
  if (str(v.status)) out.status = str(v.status);
  if (str(v.statusSince)) out.statusSince = str(v.statusSince);
  if (str(v.studioUrl)) out.studioUrl = str(v.studioUrl);
  if (training) out.training = training;
  if (metricsLog && metricsLog.length > 0) out.metricsLog = metricsLog;
  return out;
}

function encodeToken(cursors: Record<string, string>): string {
  return Buffer.from(JSON.stringify({ v: 1, c: cursors })).toString('base64url');
}

function decodeToken(token: string): Record<string, string> {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; c?: unknown };
    if (parsed.v !== 1 || parsed.c === null || typeof parsed.c !== 'object') throw new Error('shape');
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(parsed.c as Record<string, unknown>)) {
      if (typeof val !== 'string') throw new Error('shape');
      out[k] = val;
    }
    return out;
  } catch {
    throw invalid('pageToken', 'is not a page token this service handed out');
  }
}

/** Last `n` lines of a text (a trailing newline does not count as an empty line). */
export function tailLines(text: string, n: number): { lines: string[]; truncated: boolean } {
  const all = text.split(/\r?\n/);
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  return { lines: all.slice(Math.max(0, all.length - n)), truncated: all.length > n };
}

/**
 * A storage SAS URL (https://<account>.blob.<suffix>/<container>/<blob>?<sas>) sent to the configured blob
 * service URL instead (FTFLOW_BLOB_ENDPOINT: local stacks, where the account's host name does not resolve).
 */
export function viaBlobEndpoint(url: string, override: string | undefined): string {
  if (!override) return url;
  const u = new URL(url);
  if (!/^[a-z0-9]+\.blob\./.test(u.hostname)) return url;
  return `${override.replace(/\/+$/, '')}${u.pathname}${u.search}`;
}

export class TrainingReader {
  private readonly arm: ArmClient;
  private readonly rest: AzureRestClient;
  private base?: Promise<string>;

  constructor(
    private readonly config: AzureConfig,
    credential: TokenCredential = createCredential(config),
  ) {
    this.arm = createArmClient(config, credential);
    this.rest = new AzureRestClient(credential);
  }

  /** The workspace's data-plane base (MLflow's tracking URI, without /mlflow/v1.0...). */
  private trackingBase(): Promise<string> {
    if (!this.base) {
      this.base = this.arm.workspaces.get(this.config.resourceGroup, this.config.workspace).then((ws) => {
        if (!ws.mlFlowTrackingUri) throw new Error(`workspace ${this.config.workspace} reports no MLflow tracking URI`);
        return trackingBaseUrl(ws.mlFlowTrackingUri);
      });
      this.base.catch(() => (this.base = undefined));
    }
    return this.base;
  }

  private async experimentOf(jobName: string): Promise<string> {
    const job = await this.arm.jobs.get(this.config.resourceGroup, this.config.workspace, jobName);
    return job.properties.experimentName ?? 'Default';
  }

  /** Series per metric, `limit` points each per page, oldest step first. */
  async metrics(
    jobName: string,
    opts: { metrics?: string[]; limit?: number; pageToken?: string } = {},
  ): Promise<MetricsPage> {
    const limit = opts.limit ?? 500;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SERIES_POINTS)
      throw invalid('limit', `must be an integer from 1 to ${MAX_SERIES_POINTS}`);
    const keys = opts.metrics && opts.metrics.length > 0 ? [...new Set(opts.metrics)] : [...DEFAULT_SERIES];
    for (const k of keys)
      if (!/^[\w./ -]{1,250}$/.test(k)) throw invalid('metric', `"${k}" is not a metric name MLflow accepts`);
    const cursors = opts.pageToken !== undefined ? decodeToken(opts.pageToken) : undefined;
    const mlflow = new MlflowClient(this.rest, await this.trackingBase());
    const runs = await mlflow.jobRuns(await this.experimentOf(jobName), jobName);
    const run = trainingRun(runs, jobName);
    if (!run)
      return { object: 'list', jobName, data: keys.map((metric) => ({ metric, points: [] })), nextPageToken: null };
    const next: Record<string, string> = {};
    const data: MetricSeries[] = [];
    for (const metric of keys) {
      // On a later page only the series that had more go on.
      if (cursors && !(metric in cursors)) continue;
      const page = await mlflow.metricHistory(run.info.run_id, metric, {
        maxResults: limit,
        pageToken: cursors?.[metric],
      });
      data.push({
        metric,
        points: page.points.map((p) => ({
          step: p.step,
          value: p.value,
          timestamp: new Date(p.timestamp).toISOString(),
        })),
      });
      if (page.nextPageToken) next[metric] = page.nextPageToken;
    }
    return {
      object: 'list',
      jobName,
      mlflowRunId: run.info.run_id,
      data,
      nextPageToken: Object.keys(next).length > 0 ? encodeToken(next) : null,
    };
  }

  /** The last `lines` lines of the job's user_logs/std_log.txt. */
  async logs(jobName: string, opts: { lines?: number } = {}): Promise<LogTail> {
    const n = opts.lines ?? 100;
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw invalid('lines', 'must be an integer from 1 to 10000');
    const file = 'user_logs/std_log.txt';
    const history = (await this.trackingBase())
      .replace('/mlflow/v1.0/', '/history/v1.0/')
      .replace('/mlflow/v2.0/', '/history/v1.0/');
    const details = await this.rest.get<{ logFiles?: Record<string, string> }>(
      `${history}/runs/${encodeURIComponent(jobName)}/details`,
    );
    const url = details.logFiles?.[file];
    if (!url) return { jobName, file, lines: [], truncated: false };
    // A SAS URL carries its own authorisation: no bearer token goes to the storage account.
    const res = await fetch(viaBlobEndpoint(url, this.config.blobEndpointOverride));
    if (!res.ok) throw new Error(`reading ${file} of job ${jobName} answered ${res.status}`);
    return { jobName, file, ...tailLines(await res.text(), n) };
  }
}
