// RunHistory, the workspace's data plane for runs (raw REST: the ARM SDK has no such operation): a pipeline
// job is a run whose start is when it got its compute and whose end is when it finished, with the compute it
// ran on (size, node count). ARM's job resource has neither time, so the measured cost of training reads
// them here. The service's base URL comes from the workspace's discovery document (its `history` entry),
// as azure-ai-ml finds it.
import type { AzureRestClient } from './rest';
import { isNotFound } from './errors';

/** The part of a RunHistory run the measured cost reads. */
export interface HistoryRun {
  runId: string;
  status?: string;
  startTimeUtc?: string | null;
  endTimeUtc?: string | null;
  target?: string | null;
  compute?: { target?: string | null; vmSize?: string | null; instanceCount?: number | null } | null;
}

/** https://<region>.api.azureml.ms from a discovery document, or from the MLflow tracking URI's host. */
export async function historyBaseUrl(
  rest: AzureRestClient,
  workspace: { discoveryUrl?: string; mlFlowTrackingUri?: string },
): Promise<string | undefined> {
  if (workspace.discoveryUrl) {
    try {
      const doc = await rest.get<{ history?: unknown }>(workspace.discoveryUrl);
      if (typeof doc?.history === 'string' && doc.history !== '') return doc.history.replace(/\/+$/, '');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  const tracking = workspace.mlFlowTrackingUri?.replace(/^azureml:\/\//, 'https://');
  if (!tracking) return undefined;
  try {
    return new URL(tracking).origin;
  } catch {
    return undefined;
  }
}

export class RunHistoryClient {
  constructor(
    private readonly rest: AzureRestClient,
    /** https://<host>/history/v1.0/subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/workspaces/<ws> */
    private readonly workspaceUrl: string,
  ) {}

  static forWorkspace(
    rest: AzureRestClient,
    base: string,
    ids: { subscriptionId: string; resourceGroup: string; workspace: string },
  ): RunHistoryClient {
    const path =
      `/history/v1.0/subscriptions/${encodeURIComponent(ids.subscriptionId)}` +
      `/resourceGroups/${encodeURIComponent(ids.resourceGroup)}` +
      `/providers/Microsoft.MachineLearningServices/workspaces/${encodeURIComponent(ids.workspace)}`;
    return new RunHistoryClient(rest, `${base}${path}`);
  }

  /** The run (a job's root run has the job's name), or undefined when RunHistory does not know it. */
  async run(runId: string, signal?: AbortSignal): Promise<HistoryRun | undefined> {
    try {
      return await this.rest.get<HistoryRun>(`${this.workspaceUrl}/runs/${encodeURIComponent(runId)}`, signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
