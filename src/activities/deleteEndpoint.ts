// Step 11, ALWAYS. Deletes the run's endpoint (its deployments go with it) and confirms it is gone.
// Idempotent: an endpoint that does not exist counts as deleted. Every failure is retried until it succeeds.
// An attempt heartbeats that it found the endpoint before deleting it, so a retry after a crash (which may
// find it gone) still reports that it existed: the run's record and its billed-seconds metric depend on it.
import type { ActivityDeps } from './deps';
import type { DeleteEndpointResult } from './types';
import { isNotFound, retriedUntilDone } from '../azure/errors';
import { Context } from '@temporalio/activity';
import { pause, withHeartbeat } from './heartbeat';

/** What a deleteEndpoint attempt heartbeats: whether it (or an attempt before it) found the endpoint. */
interface DeleteProgress {
  existed: boolean;
}

function foundBefore(details: unknown): boolean {
  return typeof details === 'object' && details !== null && (details as Partial<DeleteProgress>).existed === true;
}

export function makeDeleteEndpoint(deps: ActivityDeps) {
  const { config, arm } = deps;
  const rg = config.resourceGroup;
  const ws = config.workspace;
  return async function deleteEndpoint(endpointName: string): Promise<DeleteEndpointResult> {
    // Heartbeats cover the reads too: at 1,000 runs a GET can wait for the worker's ARM budget longer than
    // the heartbeat timeout (bench/scale saw 204 attempts timed out that way, each redone). The first one
    // waits an interval, so that "found it" is the first heartbeat of a quick attempt (see withHeartbeat).
    return retriedUntilDone('deleteEndpoint', async () => {
      const progress: DeleteProgress = { existed: foundBefore(Context.current().info.heartbeatDetails) };
      const exists = async (): Promise<boolean> => {
        try {
          await arm.onlineEndpoints.get(rg, ws, endpointName);
          return true;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      };
      return withHeartbeat(
        async () => {
          if (!(await exists())) return { endpointName, existed: progress.existed, deleted: true };
          progress.existed = true;
          Context.current().heartbeat(progress);
          const poller = await arm.onlineEndpoints.beginDelete(rg, ws, endpointName, {
            updateIntervalInMs: config.lroPollMs,
          });
          await poller.pollUntilDone();
          // Confirm with a read: the delete LRO finishing is not proof enough for billing.
          while (await exists()) await pause(Math.min(config.lroPollMs, 5000), progress);
          return { endpointName, existed: true, deleted: true };
        },
        () => progress,
        { startNow: false },
      );
    });
  };
}
