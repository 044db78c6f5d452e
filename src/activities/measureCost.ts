// What the run cost, measured after it from Azure's own records: each of its jobs' nodes from when the job
// got its compute to when it ended (its root run in RunHistory: startTimeUtc, endTimeUtc, compute), and the
// endpoint's deployments from their creation to the deletion deleteEndpoint saw complete, at the price
// table's list prices (src/cost/actual.ts). Reads only; idempotent. A job RunHistory does not know (never
// submitted, or never started) costs nothing and is left out.
import type { ActivityDeps } from './deps';
import type { MeasureCostInput } from './types';
import type { ActualCost } from '../cost/types';
import { classified } from '../azure/errors';
import { actualRunCost, type DeploymentLifetime, type JobTimeline } from '../cost/actual';

export function makeMeasureCost(deps: ActivityDeps) {
  return async function measureCost(input: MeasureCostInput): Promise<ActualCost> {
    return classified('measureCost', async () => {
      const notes: string[] = [];
      const jobs: JobTimeline[] = [];
      if (input.jobNames.length > 0) {
        const history = await deps.runHistory();
        for (const jobName of input.jobNames) {
          const run = await history.run(jobName);
          if (!run?.startTimeUtc) continue; // never got its compute: no node was billed
          const vmSize = run.compute?.vmSize ?? input.vmSize;
          if (!vmSize) {
            notes.push(`job ${jobName}: RunHistory gives no VM size and the run knows none: not priced`);
            continue;
          }
          if (!run.endTimeUtc) notes.push(`job ${jobName} had not ended when it was measured: counted until now`);
          jobs.push({
            jobName,
            vmSize,
            nodes: Math.max(1, run.compute?.instanceCount ?? 1),
            startedAt: run.startTimeUtc,
            endedAt: run.endTimeUtc ?? new Date().toISOString(),
          });
        }
      }
      const billing = input.endpoint?.billing;
      const deployments: DeploymentLifetime[] = (billing?.deployments ?? []).map((d) => ({
        ...d,
        deletedAt: billing?.deletedAt ?? d.createdAt,
      }));
      if (billing?.deletedAtSeen === 'by a later attempt')
        notes.push(
          'the deletion was seen by a later attempt of deleteEndpoint (its worker was lost): the end is late by up to that retry',
        );
      else if (input.endpoint?.existed && !billing)
        notes.push('the endpoint existed but what it ran on was not read: its cost is not counted');
      notes.push('the cluster idling before it scales down (nodeIdleTimeBeforeScaleDown) is not counted');
      return actualRunCost({ jobs, deployments, notes }, deps.prices, input.location);
    });
  };
}
