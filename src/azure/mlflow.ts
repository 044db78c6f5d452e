// MLflow tracking REST (data plane) of the workspace: the metrics a pipeline job's runs logged.
import type { AzureRestClient } from './rest';
import { isNotFound } from './errors';
import type { MlflowMetric, MlflowRun } from './liveTraining';
import { jobRunsFilter, runIdFilter } from './trainingPlan';

/** One page of a metric's history (metrics/get-history), oldest step first. */
export interface MetricHistoryPage {
  points: { step: number; value: number; timestamp: number }[];
  nextPageToken?: string;
}

export interface JobMetrics {
  /** Final value of each metric (training child run first, then the root run). */
  final: Record<string, number>;
  runsSeen: number;
}

/** azureml://<host>/mlflow/v1.0/... → https://<host>/mlflow/v1.0/... (without query). */
export function trackingBaseUrl(mlFlowTrackingUri: string): string {
  return mlFlowTrackingUri
    .replace(/^azureml:\/\//, 'https://')
    .replace(/\?.*$/, '')
    .replace(/\/+$/, '');
}

export class MlflowClient {
  /** Experiment ids by name: an experiment never changes its id, so each is looked up once. */
  private readonly experiments = new Map<string, string>();

  constructor(
    private readonly rest: AzureRestClient,
    private readonly baseUrl: string,
  ) {}

  private url(path: string): string {
    return `${this.baseUrl}/api/2.0/mlflow/${path}`;
  }

  async experimentId(name: string): Promise<string | undefined> {
    try {
      const res = await this.rest.get<{ experiment?: { experiment_id?: string } }>(
        this.url(`experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`),
      );
      return res.experiment?.experiment_id;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** experimentId, remembered once found (a live follower asks again and again). */
  async cachedExperimentId(name: string): Promise<string | undefined> {
    const known = this.experiments.get(name);
    if (known !== undefined) return known;
    const id = await this.experimentId(name);
    if (id !== undefined) this.experiments.set(name, id);
    return id;
  }

  /** Whether the experiment's id is known already (a lookup costs a read). */
  knowsExperiment(name: string): boolean {
    return this.experiments.has(name);
  }

  /** Every run matching `filter` in the experiment, with their latest metric values, page by page. */
  async searchRuns(
    experimentId: string,
    filter: string,
    opts: { maxResults?: number; signal?: AbortSignal; onPage?: () => void } = {},
  ): Promise<MlflowRun[]> {
    const runs: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.rest.post<{ runs?: MlflowRun[]; next_page_token?: string }>(
        this.url('runs/search'),
        {
          experiment_ids: [experimentId],
          filter,
          max_results: opts.maxResults ?? 100,
          ...(pageToken ? { page_token: pageToken } : {}),
        },
        opts.signal,
      );
      opts.onPage?.();
      runs.push(...(page.runs ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return runs;
  }

  /** The runs with these ids (`attributes.run_id IN (...)`), in as few searches as MLflow's pages allow. */
  runsById(
    experimentId: string,
    runIds: readonly string[],
    opts: { signal?: AbortSignal; onPage?: () => void } = {},
  ): Promise<MlflowRun[]> {
    return this.searchRuns(experimentId, runIdFilter(runIds), { ...opts, maxResults: Math.max(1, runIds.length) });
  }

  /** One page of a metric's history in a run (MLflow's own paging: `max_results` and `page_token`). */
  async metricHistory(
    runId: string,
    key: string,
    opts: { maxResults?: number; pageToken?: string } = {},
  ): Promise<MetricHistoryPage> {
    const query = new URLSearchParams({ run_id: runId, metric_key: key, max_results: String(opts.maxResults ?? 1000) });
    if (opts.pageToken) query.set('page_token', opts.pageToken);
    const res = await this.rest.get<{ metrics?: MlflowMetric[]; next_page_token?: string }>(
      this.url(`metrics/get-history?${query.toString()}`),
    );
    const points = (res.metrics ?? [])
      .filter((m) => Number.isFinite(m.value))
      .map((m) => ({ step: m.step ?? 0, value: m.value, timestamp: m.timestamp ?? 0 }))
      .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    return { points, ...(res.next_page_token ? { nextPageToken: res.next_page_token } : {}) };
  }

  /** Every run of a pipeline job by its experiment's name; none while the experiment does not exist yet. */
  async jobRuns(experimentName: string, jobName: string): Promise<MlflowRun[]> {
    const experimentId = await this.cachedExperimentId(experimentName);
    return experimentId === undefined ? [] : this.runsOfJob(experimentId, jobName);
  }

  /** Every run of a pipeline job (the pipeline's own and one per step). */
  runsOfJob(
    experimentId: string,
    jobName: string,
    opts: { signal?: AbortSignal; onPage?: () => void } = {},
  ): Promise<MlflowRun[]> {
    return this.searchRuns(experimentId, jobRunsFilter(jobName), opts);
  }

  /** The job's final metrics as the notebook's sibling recipe reads them: the run logging `epoch` is training. */
  async jobMetrics(experimentName: string, jobName: string): Promise<JobMetrics> {
    const experimentId = await this.experimentId(experimentName);
    if (experimentId === undefined) return { final: {}, runsSeen: 0 };
    const runs = await this.runsOfJob(experimentId, jobName);
    const ordered = [...runs].sort((a, b) => rank(b, jobName) - rank(a, jobName));
    const final: Record<string, number> = {};
    for (const run of ordered) {
      for (const m of run.data?.metrics ?? []) {
        if (!(m.key in final) && Number.isFinite(m.value)) final[m.key] = m.value;
      }
    }
    return { final, runsSeen: runs.length };
  }
}

function rank(run: MlflowRun, jobName: string): number {
  const hasEpoch = run.data?.metrics?.some((m) => m.key === 'epoch') ?? false;
  return (hasEpoch ? 2 : 0) + (run.info.run_id === jobName ? 1 : 0);
}
