// Step 6. Follows the job to a terminal state, for hours if need be: one GET per poll interval, with
// heartbeats in between so a crashed worker is noticed within the heartbeat timeout and the retry
// simply resumes following the same job (it never resubmits). A failed job is non-retryable.
import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import type { JobOutcome } from './types';
import { classified, RunFailure } from '../azure/errors';
import { pause } from './heartbeat';

/** azure-ai-ml's terminal set (RunHistoryConstants). */
const TERMINAL = new Set(['Completed', 'Failed', 'Canceled', 'NotResponding', 'Paused']);

export function makeAwaitPipeline(deps: ActivityDeps) {
  const { config, arm } = deps;
  return async function awaitPipeline(jobName: string): Promise<JobOutcome> {
    return classified('awaitPipeline', async () => {
      const ctx = Context.current();
      for (;;) {
        const job = await arm.jobs.get(config.resourceGroup, config.workspace, jobName, { abortSignal: ctx.cancellationSignal });
        const status = job.properties.status ?? 'Unknown';
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
