// Quotas as Azure ML enforces them in a region of a subscription:
// - dedicated vCPUs per VM family and in total, shared by cluster nodes and managed online
//   deployments (a deployment reserves 20% extra instances for upgrades: 10 instances need quota
//   for 12). A cluster whose family quota cannot hold one node (or its minimum) fails to
//   provision with BadRequest; a deployment beyond the quota fails with OutOfQuota.
// - online endpoints per subscription (50 by default, the documented limit): beyond it the
//   endpoint fails with OutOfQuota.
// Usage and limits are what GET .../locations/{loc}/usages reports (Usages_List).
import { lifecycleState } from './clock';
import type { EmulatorContext } from './context';
import { asString } from './json';
import { allocationsOn, computeScale, computeVcpus, deploymentCapacity, instanceVcpus, nodesAt } from './records';
import { familyLimit, QUOTA_TROUBLESHOOTING, reservedInstances } from './quotaConfig';
import { familyUsageName, vmFamilies } from './vmCatalog';

export { checkQuotaConfig, DEFAULT_QUOTAS, familyLimit, QUOTA_TROUBLESHOOTING, reservedInstances } from './quotaConfig';
export type { QuotaConfig } from './quotaConfig';

export interface Usage {
  /** vCPUs in use per family (cluster nodes + deployment reservations). */
  families: Map<string, number>;
  total: number;
  clusters: number;
  endpoints: number;
}

/** What is in use now. `exclude` leaves one record out (the one being re-provisioned). */
export function currentUsage(ctx: EmulatorContext, exclude?: { deploymentUid?: string }): Usage {
  const now = ctx.now();
  const s = ctx.store.state;
  const families = new Map<string, number>();
  const add = (family: string, v: number): void => {
    families.set(family, (families.get(family) ?? 0) + v);
  };
  let clusters = 0;
  for (const c of s.computes) {
    const state = lifecycleState(c.lifecycle, now);
    if (state === 'Gone' || state === 'Failed') continue;
    clusters += 1;
    const v = computeVcpus(c);
    if (v) add(v.family, nodesAt(c, allocationsOn(c, s.jobs, now), now) * v.vCPUs);
  }
  for (const d of s.deployments) {
    if (d.uid === exclude?.deploymentUid) continue;
    const state = lifecycleState(d.lifecycle, now);
    if (state === 'Gone' || state === 'Failed') continue;
    const v = instanceVcpus(asString(d.properties['instanceType']));
    if (v) add(v.family, reservedInstances(ctx.config.quotas, deploymentCapacity(d)) * v.vCPUs);
  }
  const endpoints = s.endpoints.filter((e) => {
    const state = lifecycleState(e.lifecycle, now);
    return state !== 'Gone' && state !== 'Failed';
  }).length;
  return { families, total: [...families.values()].reduce((a, b) => a + b, 0), clusters, endpoints };
}

export interface QuotaFailure {
  code: string;
  message: string;
}

/** A new cluster must fit one node (or its minimum) in its family's and the regional quota. */
export function computeQuotaFailure(
  ctx: EmulatorContext,
  vmSize: string,
  minNodes: number,
  family: string,
  vCPUs: number,
  forcedLimit?: number,
): QuotaFailure | undefined {
  const q = ctx.config.quotas;
  const nodes = Math.max(1, minNodes);
  const need = nodes * vCPUs;
  const nodeWords = `${nodes} requested managed compute node${nodes === 1 ? '' : 's'} which maps to ${need} vCPUs`;
  const limit = forcedLimit ?? familyLimit(q, family);
  if (limit < need) {
    return {
      code: 'BadRequest',
      message: `The specified subscription has a ${familyUsageName(family).replace(' Family Cluster Dedicated vCPUs', '')} family vCPU quota of ${limit} and cannot accomodate for at least ${nodeWords} (${vmSize}). Request a quota increase for this VM family (https://learn.microsoft.com/azure/machine-learning/how-to-manage-quotas).`,
    };
  }
  if (q.totalRegionalVcpus < need) {
    return {
      code: 'BadRequest',
      message: `The specified subscription has a total vCPU quota of ${q.totalRegionalVcpus} and cannot accomodate for at least ${nodeWords} (${vmSize}).`,
    };
  }
  if (currentUsage(ctx).clusters >= q.maxClusters) {
    return {
      code: 'BadRequest',
      message: `The subscription has reached its limit of ${q.maxClusters} compute clusters in this region; delete unused clusters or request a limit increase.`,
    };
  }
  return undefined;
}

/** A deployment of `capacity` instances of `instanceType` must fit, with the upgrade reserve. */
export function deploymentQuotaFailure(
  ctx: EmulatorContext,
  instanceType: string,
  capacity: number,
  exclude?: string,
): QuotaFailure | undefined {
  const v = instanceVcpus(instanceType);
  if (!v) return undefined;
  const q = ctx.config.quotas;
  const usage = currentUsage(ctx, exclude ? { deploymentUid: exclude } : undefined);
  const need = reservedInstances(q, capacity) * v.vCPUs;
  const used = usage.families.get(v.family) ?? 0;
  const limit = familyLimit(q, v.family);
  if (used + need > limit) {
    return {
      code: 'OutOfQuota',
      message: `Not enough quota available for ${instanceType} (${familyUsageName(v.family)}): ${capacity} instance(s) plus the ${q.upgradeReservePercent}% upgrade reserve need ${need} vCPUs; ${used} of the limit of ${limit} are in use. Delete unused deployments or request a quota increase. See ${QUOTA_TROUBLESHOOTING}`,
    };
  }
  if (usage.total + need > q.totalRegionalVcpus) {
    return {
      code: 'OutOfQuota',
      message: `Not enough regional vCPU quota for ${instanceType}: ${need} more vCPUs needed, ${usage.total} of the limit of ${q.totalRegionalVcpus} are in use. See ${QUOTA_TROUBLESHOOTING}`,
    };
  }
  return undefined;
}

export function endpointQuotaFailure(ctx: EmulatorContext): QuotaFailure | undefined {
  const q = ctx.config.quotas;
  const usage = currentUsage(ctx);
  if (usage.endpoints >= q.maxEndpoints) {
    return {
      code: 'OutOfQuota',
      message: `Endpoint quota reached: the subscription has ${usage.endpoints} online endpoints in this region and its limit is ${q.maxEndpoints}. Delete unused endpoints or request an endpoint limit increase. See ${QUOTA_TROUBLESHOOTING}`,
    };
  }
  return undefined;
}

/** Usages_List: clusters, regional vCPUs and one entry per VM family. */
export function usageList(ctx: EmulatorContext, subscriptionId: string, location: string): Record<string, unknown>[] {
  const q = ctx.config.quotas;
  const usage = currentUsage(ctx);
  const base = `/subscriptions/${subscriptionId}/usages`;
  const entry = (id: string, type: string, name: string, currentValue: number, limit: number) => ({
    id,
    amlWorkspaceLocation: location,
    type: `Microsoft.MachineLearningServices/${type}/usages`,
    unit: 'Count',
    currentValue,
    limit,
    name: { value: name, localizedValue: name },
  });
  return [
    entry(base, 'totalCores', 'Clusters', usage.clusters, q.maxClusters),
    entry(base, 'dedicatedCores', 'Total Cluster Dedicated Regional vCPUs', usage.total, q.totalRegionalVcpus),
    ...vmFamilies().map((f) => {
      const name = familyUsageName(f);
      return entry(
        `${base}/${name.replace(/ /g, '_')}`,
        'vmFamily',
        name,
        usage.families.get(f) ?? 0,
        familyLimit(q, f),
      );
    }),
  ];
}

/** Nodes a job asks for on a cluster, capped by the cluster's maximum. */
export function nodesForJob(requested: number, c: Parameters<typeof computeScale>[0]): number {
  const { maxNodes } = computeScale(c);
  return Math.max(1, Math.min(requested, Math.max(1, maxNodes)));
}
