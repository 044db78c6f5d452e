// Where a run's files live in the workspace artifact store (workspaceartifactstore, the storage
// account's `azureml` container): ExperimentRun/dcid.<run>/, the job's `default` output. A job's log,
// user_logs/std_log.txt there, is written when a reader asks for it (RunHistory, the artifact
// listings), never on a timer: its text is a function of the clock (runs.ts), so the blob holds the log
// as of the last read. Writes for one job are serialised, each with the text of its own moment.
import type { BlobAccess } from './blob';

/** The run's folder in the artifact store. */
export function runContainer(runId: string): string {
  return `ExperimentRun/dcid.${runId}`;
}

/** The log a run writes, as a path inside its folder. */
export const RUN_LOG = 'user_logs/std_log.txt';

/** The job's `default` output: its folder in the artifact store, as Azure ML names it. */
export function defaultOutputUri(jobName: string): string {
  return `azureml://datastores/workspaceartifactstore/${runContainer(jobName)}`;
}

export class JobLogs {
  private readonly written = new Map<string, string>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly blob: BlobAccess | undefined) {}

  /** Whether logs are written anywhere (no Azurite: no artifact store). */
  get enabled(): boolean {
    return this.blob !== undefined;
  }

  /** The log blob's name in the artifact store. */
  static blobName(runId: string): string {
    return `${runContainer(runId)}/${RUN_LOG}`;
  }

  /** Writes the job's log as `render()` gives it now, unless the blob already holds that text. */
  sync(jobName: string, render: () => string): Promise<void> {
    const blob = this.blob;
    if (!blob) return Promise.resolve();
    const previous = this.chains.get(jobName) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const text = render();
        if (this.written.get(jobName) === text) return;
        await blob.writeArtifact(JobLogs.blobName(jobName), text);
        this.written.set(jobName, text);
      });
    this.chains.set(jobName, next);
    return next;
  }
}
