// Step 11, ALWAYS. Deletes the run's endpoint (its deployments go with it) and confirms it is gone.
// Idempotent: an endpoint that does not exist counts as deleted. Every failure is retried until it succeeds.
import type { ActivityDeps } from './deps';
import type { DeleteEndpointResult } from './types';
import { isNotFound, retriedUntilDone } from '../azure/errors';
import { pause, withHeartbeat } from './heartbeat';

export function makeDeleteEndpoint(deps: ActivityDeps) {
  const { config, arm } = deps;
  const rg = config.resourceGroup;
  const ws = config.workspace;
  return async function deleteEndpoint(endpointName: string): Promise<DeleteEndpointResult> {
    // Heartbeats cover the reads too: at 1,000 runs a GET can wait for the worker's ARM budget longer than
    // the heartbeat timeout (bench/scale saw 204 attempts timed out that way, each redone).
    return retriedUntilDone('deleteEndpoint', () => withHeartbeat(async () => {
      const exists = async (): Promise<boolean> => {
        try {
          await arm.onlineEndpoints.get(rg, ws, endpointName);
          return true;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      };
      if (!(await exists())) return { endpointName, existed: false, deleted: true };
      const poller = await arm.onlineEndpoints.beginDelete(rg, ws, endpointName, { updateIntervalInMs: config.lroPollMs });
      await poller.pollUntilDone();
      // Confirm with a read: the delete LRO finishing is not proof enough for billing.
      while (await exists()) await pause(Math.min(config.lroPollMs, 5000));
      return { endpointName, existed: true, deleted: true };
    }));
  };
}
