// MLflow tracking REST (data plane) of the workspace: the metrics a pipeline job's runs logged.
import type { AzureRestClient } from './rest';
import { isNotFound } from './errors';

interface MlflowMetric {
  key: string;
  value: number;
  timestamp?: number;
  step?: number;
}

interface MlflowRun {
  info: { run_id: string; status?: string };
  data?: { metrics?: MlflowMetric[]; tags?: { key: string; value: string }[] };
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

  async runsOfJob(experimentId: string, jobName: string): Promise<MlflowRun[]> {
    const runs: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.rest.post<{ runs?: MlflowRun[]; next_page_token?: string }>(this.url('runs/search'), {
        experiment_ids: [experimentId],
        filter: `tags.mlflow.rootRunId='${jobName.replace(/'/g, '')}'`,
        max_results: 100,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      runs.push(...(page.runs ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return runs;
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
