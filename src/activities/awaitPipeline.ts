// Step 6. Follows the job to a terminal state, for hours if need be, with heartbeats meanwhile so a crashed
// worker is noticed within the heartbeat timeout and the retry simply resumes following the same job (it
// never resubmits). The first read is its own GET; after that the worker's job watcher reads the job once
// per poll interval, in one Jobs_List walk for all the runs it follows. A failed job is non-retryable.
//
// While the job trains the follower also reads its MLflow runs (one runs/search, at most once per
// FTFLOW_METRICS_POLL_SECONDS, only in Running and Finalizing) and publishes what they say (step of total,
// epoch, losses, learning rate, ETA, GPU time) in its heartbeat details: the client reads them from the
// pending activity, so following a job adds no event to the workflow history however long it trains.
// The bounded `metrics` entries travel in the heartbeat and, at the end, in the step's result.
import { Context } from '@temporalio/activity';
import type { JobBase } from '@azure/arm-machinelearning';
import type { ActivityDeps } from './deps';
import type { JobFollowDetails, JobOutcome } from './types';
import { classified, RunFailure } from '../azure/errors';
import { appendEntry, liveFromRuns, type LiveTraining, type MetricsEntry } from '../azure/liveTraining';
import { withHeartbeat } from './heartbeat';

/** azure-ai-ml's terminal set (RunHistoryConstants). */
const TERMINAL = new Set(['Completed', 'Failed', 'Canceled', 'NotResponding', 'Paused']);
/** The states in which MLflow has something to say about the training. */
const TRAINING = new Set(['Running', 'Finalizing']);

export function makeAwaitPipeline(deps: ActivityDeps) {
  const { config, arm } = deps;
  return async function awaitPipeline(jobName: string): Promise<JobOutcome> {
    return classified('awaitPipeline', async () => {
      const ctx = Context.current();
      // A retried attempt starts from what the last one heartbeated: the live figures and entries survive.
      const previous = (ctx.info.heartbeatDetails as JobFollowDetails | undefined) ?? {};
      let status = previous.status;
      let statusSince = previous.statusSince;
      let studioUrl = previous.studioUrl;
      let training: LiveTraining | undefined = previous.training;
      let metricsLog: MetricsEntry[] = Array.isArray(previous.metricsLog) ? previous.metricsLog : [];
      let lastMetricsRead = 0;
      const metricsEveryMs = (config.metricsPollSeconds ?? 0) * 1000;
      const details = (): JobFollowDetails | undefined =>
        status
          ? {
              status,
              ...(statusSince ? { statusSince } : {}),
              ...(studioUrl ? { studioUrl } : {}),
              ...(training ? { training } : {}),
              ...(metricsLog.length > 0 ? { metricsLog } : {}),
            }
          : undefined;
      const read = (signal: AbortSignal) =>
        arm.jobs.get(config.resourceGroup, config.workspace, jobName, { abortSignal: signal });
      /** One runs/search when the cadence allows; a failed read only costs this poll its figures. */
      const readTraining = async (job: JobBase, signal: AbortSignal): Promise<void> => {
        if (!(metricsEveryMs > 0) || !TRAINING.has(status ?? '') || typeof deps.mlflow !== 'function') return;
        if (Date.now() - lastMetricsRead < metricsEveryMs) return;
        const experiment = job.properties.experimentName;
        if (!experiment) return;
        lastMetricsRead = Date.now();
        try {
          const mlflow = await deps.mlflow();
          const runs = await mlflow.liveRuns(experiment, jobName, signal);
          if (runs.length === 0) return;
          training = liveFromRuns(runs, jobName, Date.now());
          metricsLog = appendEntry(metricsLog, training);
        } catch {
          // Live figures are a courtesy: the job's status, not its metrics, decides the step.
        }
      };
      // The first read is this attempt's own; the watcher's cycles give the later ones.
      let fromWatcher = false;
      for (;;) {
        // Heartbeats go on while the read waits: for its turn in the worker's ARM budget, or for the
        // watcher's next cycle (bench/scale: at 1,000 runs, attempts timed out while queued without it).
        let job = await withHeartbeat(
          (signal) => (fromWatcher ? deps.jobs.next(jobName, signal) : read(signal)),
          details,
        );
        const now = job.properties.status ?? 'Unknown';
        if (now !== status || !statusSince) statusSince = new Date().toISOString();
        status = now;
        studioUrl = job.properties.services?.Studio?.endpoint ?? studioUrl;
        await withHeartbeat((signal) => readTraining(job, signal), details);
        ctx.heartbeat(details());
        if (TERMINAL.has(status)) {
          if (status === 'Completed')
            return {
              jobName,
              status,
              ...(studioUrl ? { studioUrl } : {}),
              ...(training ? { training } : {}),
              ...(metricsLog.length > 0 ? { metricsLog } : {}),
            };
          // The watcher's copy may come from a list page: read the job itself for the failure's details.
          if (fromWatcher) job = await withHeartbeat(read, details);
          const props = job.properties.properties ?? {};
          const reason = props['azureml.error.message'] ?? props['azureml.error.code'];
          const studio = job.properties.services?.Studio?.endpoint;
          throw new RunFailure(
            'jobFailed',
            `pipeline job ${jobName} ended ${status}${reason ? `: ${reason}` : ''}. ${studio ? `Logs: ${studio}` : "Open it in Azure ML Studio for the failing step's logs"}`,
            `PipelineJob${status}`,
          );
        }
        fromWatcher = true;
      }
    });
  };
}
