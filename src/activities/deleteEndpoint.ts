// Step 11, ALWAYS. Deletes the run's endpoint (its deployments go with it) and confirms it is gone.
// Idempotent: an endpoint that does not exist counts as deleted. Every failure is retried until it succeeds.
// An attempt heartbeats that it found the endpoint before deleting it, so a retry after a crash (which may
// find it gone) still reports that it existed: the run's record and its billed-seconds metric depend on it.
// It also reads what the deployments were (size, instances, creation) before deleting and when the deletion
// was seen complete: what the endpoint cost (src/activities/measureCost.ts) is measured from those.
import type { ActivityDeps } from './deps';
import type { DeleteEndpointResult, EndpointBilling } from './types';
import { isNotFound, retriedUntilDone } from '../azure/errors';
import { Context } from '@temporalio/activity';
import { pause, withHeartbeat } from './heartbeat';

/** The longest between two looks at a deletion in progress. */
const DELETION_POLL_MS = 1000;

/** What a deleteEndpoint attempt heartbeats: whether it (or an attempt before it) found the endpoint, and its deployments. */
interface DeleteProgress {
  existed: boolean;
  deployments?: EndpointBilling['deployments'];
}

function progressBefore(details: unknown): DeleteProgress {
  if (typeof details !== 'object' || details === null) return { existed: false };
  const d = details as Partial<DeleteProgress>;
  return { existed: d.existed === true, ...(Array.isArray(d.deployments) ? { deployments: d.deployments } : {}) };
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
      const progress = progressBefore(Context.current().info.heartbeatDetails);
      const exists = async (): Promise<boolean> => {
        try {
          await arm.onlineEndpoints.get(rg, ws, endpointName);
          return true;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      };
      const billing = (deletedAt: number, seen: EndpointBilling['deletedAtSeen']): EndpointBilling | undefined =>
        progress.deployments
          ? { deployments: progress.deployments, deletedAt: new Date(deletedAt).toISOString(), deletedAtSeen: seen }
          : undefined;
      return withHeartbeat(
        async () => {
          if (!(await exists())) {
            // Gone already: deleted by an earlier attempt of this step (its deployments in the heartbeat), or never made.
            const found = billing(Date.now(), 'by a later attempt');
            return { endpointName, existed: progress.existed, deleted: true, ...(found ? { billing: found } : {}) };
          }
          progress.existed = true;
          progress.deployments ??= await deploymentsOf(deps, endpointName);
          Context.current().heartbeat(progress);
          const poller = await arm.onlineEndpoints.beginDelete(rg, ws, endpointName, {
            updateIntervalInMs: config.lroPollMs,
          });
          // Polled every second (or FTFLOW_LRO_POLL_MS when shorter) rather than at the Retry-After Azure sends: the
          // moment the deletion is seen complete is when the deployments stopped billing, as closely as this step
          // can tell (a second over an endpoint's quarter of an hour at least).
          while (!poller.isDone()) {
            await poller.poll();
            if (!poller.isDone()) await pause(Math.min(config.lroPollMs, DELETION_POLL_MS), progress);
          }
          await poller.pollUntilDone();
          let goneAt = Date.now();
          // Confirm with a read: the delete LRO finishing is not proof enough for billing.
          while (await exists()) {
            await pause(Math.min(config.lroPollMs, 5000), progress);
            goneAt = Date.now();
          }
          const found = billing(goneAt, 'when the deletion was seen complete');
          return { endpointName, existed: true, deleted: true, ...(found ? { billing: found } : {}) };
        },
        () => progress,
        { startNow: false },
      );
    });
  };
}

/** The endpoint's deployments as they are billed: instance type, instance count and creation time. */
async function deploymentsOf(deps: ActivityDeps, endpointName: string): Promise<EndpointBilling['deployments']> {
  const out: EndpointBilling['deployments'] = [];
  for await (const d of deps.arm.onlineDeployments.list(
    deps.config.resourceGroup,
    deps.config.workspace,
    endpointName,
  )) {
    const props = d.properties as { instanceType?: string };
    const createdAt = d.systemData?.createdAt;
    out.push({
      name: d.name ?? 'unknown',
      instanceType: props.instanceType ?? 'unknown',
      instances: d.sku?.capacity ?? 1,
      createdAt: createdAt ? new Date(createdAt).toISOString() : new Date().toISOString(),
    });
  }
  return out;
}
