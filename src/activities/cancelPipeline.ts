// Step 6, when the run is cancelled: asks Azure to cancel the job and waits until Azure says it is
// terminal, so no GPU job outlives a cancelled run. Idempotent: a terminal job is left as it is.
// Every failure is retried until it succeeds.
import type { ActivityDeps } from './deps';
import type { JobOutcome } from './types';
import { isNotFound, retriedUntilDone } from '../azure/errors';
import { pause, withHeartbeat } from './heartbeat';
import { MAX_JOB_ATTEMPTS, jobNameForAttempt } from '../runSpec/names';
import { TERMINAL_JOB_STATUSES } from '../azure/jobStatus';

export function makeCancelPipeline(deps: ActivityDeps) {
  const { config, arm } = deps;
  /** Cancels every job of the run (each attempt's name, until the first that does not exist). */
  return async function cancelPipeline(runJobName: string): Promise<JobOutcome> {
    let last: JobOutcome = { jobName: runJobName, status: 'NotSubmitted' };
    for (let attempt = 1; attempt <= MAX_JOB_ATTEMPTS; attempt++) {
      const outcome = await cancelOne(jobNameForAttempt(runJobName, attempt));
      if (outcome.status === 'NotSubmitted') break;
      last = outcome;
    }
    return last;
  };

  function cancelOne(jobName: string): Promise<JobOutcome> {
    return retriedUntilDone('cancelPipeline', async () => {
      const status = async (): Promise<string | undefined> => {
        try {
          const job = await arm.jobs.get(config.resourceGroup, config.workspace, jobName);
          return job.properties.status ?? 'Unknown';
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      };
      let current = await status();
      if (current === undefined) return { jobName, status: 'NotSubmitted' };
      if (!TERMINAL_JOB_STATUSES.has(current)) {
        await withHeartbeat(async () => {
          const poller = await arm.jobs.beginCancel(config.resourceGroup, config.workspace, jobName, {
            updateIntervalInMs: config.lroPollMs,
          });
          await poller.pollUntilDone();
        });
        current = await status();
        while (current !== undefined && !TERMINAL_JOB_STATUSES.has(current)) {
          await pause(Math.min(config.jobPollSeconds * 1000, 5000), { status: current });
          current = await status();
        }
      }
      return { jobName, status: current ?? 'Deleted' };
    });
  }
}
