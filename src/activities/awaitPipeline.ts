// Step 6. Follows the job to a terminal state, for hours if need be: one GET per poll interval, with
// heartbeats in between so a crashed worker is noticed within the heartbeat timeout and the retry
// simply resumes following the same job (it never resubmits). A failed job is non-retryable.
import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import type { JobOutcome } from './types';
import { classified, RunFailure } from '../azure/errors';
import { pause, withHeartbeat } from './heartbeat';

/** azure-ai-ml's terminal set (RunHistoryConstants). */
const TERMINAL = new Set(['Completed', 'Failed', 'Canceled', 'NotResponding', 'Paused']);

export function makeAwaitPipeline(deps: ActivityDeps) {
  const { config, arm } = deps;
  return async function awaitPipeline(jobName: string): Promise<JobOutcome> {
    return classified('awaitPipeline', async () => {
      const ctx = Context.current();
      let status = (ctx.info.heartbeatDetails as { status?: string } | undefined)?.status;
      for (;;) {
        // The GET can wait its turn in the worker's ARM budget for longer than the heartbeat timeout when
        // hundreds of runs poll at once (bench/scale: at 1,000 runs, attempts timed out and were retried
        // while queued); heartbeating meanwhile keeps a waiting follower from looking like a dead one.
        const job = await withHeartbeat(
          (signal) => arm.jobs.get(config.resourceGroup, config.workspace, jobName, { abortSignal: signal }),
          () => (status ? { status } : undefined),
        );
        status = job.properties.status ?? 'Unknown';
        ctx.heartbeat({ status });
        if (TERMINAL.has(status)) {
          if (status === 'Completed') return { jobName, status };
          const props = job.properties.properties ?? {};
          const reason = props['azureml.error.message'] ?? props['azureml.error.code'];
          const studio = job.properties.services?.Studio?.endpoint;
          throw new RunFailure(
            'jobFailed',
            `pipeline job ${jobName} ended ${status}${reason ? `: ${reason}` : ''}. ${studio ? `Logs: ${studio}` : "Open it in Azure ML Studio for the failing step's logs"}`,
            `PipelineJob${status}`,
          );
        }
        // Jitter spreads the polls of runs that started together; the ARM budget spreads the rest.
        await pause(config.jobPollSeconds * 1000 * (0.9 + Math.random() * 0.2), { status });
      }
    });
  };
}
