// Step 6. Follows the job to a terminal state, for hours if need be, with heartbeats meanwhile so a crashed
// worker is noticed within the heartbeat timeout and the retry simply resumes following the same job (it
// never resubmits). The first read is its own GET; after that the worker's job watcher reads the job with
// all the others it follows (src/azure/jobWatcher.ts) and answers when its status changes. A failed job is
// non-retryable.
//
// While the job trains (Running, Finalizing) the follower has the worker's training watcher read its MLflow
// figures along with every other followed job's (src/azure/trainingWatcher.ts: batched, at most once per
// FTFLOW_METRICS_POLL_SECONDS, within a share of the worker's reads) and publishes the latest (step of
// total, epoch, losses, learning rate, ETA, GPU time) in its heartbeat details: the client reads them from
// the pending activity, so following a job adds no event to the workflow history however long it trains.
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
      let figuresReadAt = 0;
      let following = false;
      const live = (config.metricsPollSeconds ?? 0) > 0 ? deps.training : undefined;
      /** The watcher's newest snapshot of the job's training, once it is followed, becomes the live figures. */
      const refreshFigures = (): void => {
        const snapshot = following ? live?.latest(jobName) : undefined;
        if (!snapshot || snapshot.readAt <= figuresReadAt || snapshot.runs.length === 0) return;
        figuresReadAt = snapshot.readAt;
        training = liveFromRuns(snapshot.runs, jobName, snapshot.readAt);
        metricsLog = appendEntry(metricsLog, training);
      };
      // Every heartbeat, also those sent while a read waits, carries the newest figures (no I/O of its own).
      const details = (): JobFollowDetails | undefined => {
        refreshFigures();
        return status
          ? {
              status,
              ...(statusSince ? { statusSince } : {}),
              ...(studioUrl ? { studioUrl } : {}),
              ...(training ? { training } : {}),
              ...(metricsLog.length > 0 ? { metricsLog } : {}),
            }
          : undefined;
      };
      const read = (signal: AbortSignal) =>
        arm.jobs.get(config.resourceGroup, config.workspace, jobName, { abortSignal: signal });
      /** Once the job trains, the worker's training watcher reads its figures with every other job's. */
      const followTraining = (job: JobBase): void => {
        const experiment = job.properties.experimentName;
        if (!live || following || !TRAINING.has(status ?? '') || !experiment) return;
        live.follow(jobName, experiment);
        following = true;
      };
      // The first read is this attempt's own; the watcher's cycles give the later ones.
      let fromWatcher = false;
      try {
        for (;;) {
          // Heartbeats go on while the read waits: for its turn in the worker's ARM budget, or for the
          // watcher's next cycle (bench/scale: at 1,000 runs, attempts timed out while queued without it).
          let job = await withHeartbeat(
            (signal) => (fromWatcher ? deps.jobs.next(jobName, signal, status) : read(signal)),
            details,
          );
          const now = job.properties.status ?? 'Unknown';
          if (now !== status || !statusSince) statusSince = new Date().toISOString();
          status = now;
          studioUrl = job.properties.services?.Studio?.endpoint ?? studioUrl;
          followTraining(job);
          ctx.heartbeat(details());
          if (TERMINAL.has(status)) {
            if (status === 'Completed') {
              refreshFigures();
              return {
                jobName,
                status,
                ...(studioUrl ? { studioUrl } : {}),
                ...(training ? { training } : {}),
                ...(metricsLog.length > 0 ? { metricsLog } : {}),
              };
            }
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
      } finally {
        if (following) live?.unfollow(jobName);
      }
    });
  };
}
