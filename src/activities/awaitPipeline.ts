// Step 6. Follows the job to a terminal state, for hours if need be, with heartbeats meanwhile so a crashed
// worker is noticed within the heartbeat timeout and the retry simply resumes following the same job (it
// never resubmits). The first read is its own GET; after that the worker's job watcher reads the job once
// per poll interval, in one Jobs_List walk for all the runs it follows. A failed job is non-retryable.
import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import type { JobOutcome } from './types';
import { classified, RunFailure } from '../azure/errors';
import { withHeartbeat } from './heartbeat';

/** azure-ai-ml's terminal set (RunHistoryConstants). */
const TERMINAL = new Set(['Completed', 'Failed', 'Canceled', 'NotResponding', 'Paused']);

export function makeAwaitPipeline(deps: ActivityDeps) {
  const { config, arm } = deps;
  return async function awaitPipeline(jobName: string): Promise<JobOutcome> {
    return classified('awaitPipeline', async () => {
      const ctx = Context.current();
      let status = (ctx.info.heartbeatDetails as { status?: string } | undefined)?.status;
      const read = (signal: AbortSignal) =>
        arm.jobs.get(config.resourceGroup, config.workspace, jobName, { abortSignal: signal });
      // The first read is this attempt's own; the watcher's cycles give the later ones.
      let fromWatcher = false;
      for (;;) {
        // Heartbeats go on while the read waits: for its turn in the worker's ARM budget, or for the
        // watcher's next cycle (bench/scale: at 1,000 runs, attempts timed out while queued without it).
        let job = await withHeartbeat(
          (signal) => (fromWatcher ? deps.jobs.next(jobName, signal) : read(signal)),
          () => (status ? { status } : undefined),
        );
        status = job.properties.status ?? 'Unknown';
        ctx.heartbeat({ status });
        if (TERMINAL.has(status)) {
          if (status === 'Completed') return { jobName, status };
          // The watcher's copy may come from a list page: read the job itself for the failure's details.
          if (fromWatcher) job = await withHeartbeat(read, () => ({ status }));
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
