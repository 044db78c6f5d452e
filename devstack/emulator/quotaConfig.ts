// The quota limits an emulator is started with (options.quotas) and the arithmetic on them alone; quota.ts
// measures usage against them. Apart so that the options (and the context that holds them) do not depend on
// the usage code, which reads the context.

export interface QuotaConfig {
  /** Dedicated vCPU limit per VM family (family names as the vmSizes API gives them). */
  familyVcpus: Record<string, number>;
  /** Limit of families not named in familyVcpus. */
  defaultFamilyVcpus: number;
  /** "Total Cluster Dedicated Regional vCPUs". */
  totalRegionalVcpus: number;
  /** Compute clusters per region ("Clusters"). */
  maxClusters: number;
  /** Online endpoints per subscription and region. */
  maxEndpoints: number;
  /** Online deployments per endpoint. */
  maxDeploymentsPerEndpoint: number;
  /** Extra instances reserved for upgrades, in percent of the requested instance count. */
  upgradeReservePercent: number;
}

export const DEFAULT_QUOTAS: QuotaConfig = {
  familyVcpus: {},
  defaultFamilyVcpus: 96,
  totalRegionalVcpus: 400,
  maxClusters: 200,
  maxEndpoints: 50,
  maxDeploymentsPerEndpoint: 20,
  upgradeReservePercent: 20,
};

export const QUOTA_TROUBLESHOOTING = 'https://aka.ms/oe-tsg#error-outofquota';

export function checkQuotaConfig(q: QuotaConfig): void {
  const counts: [string, number][] = [
    ['defaultFamilyVcpus', q.defaultFamilyVcpus],
    ['totalRegionalVcpus', q.totalRegionalVcpus],
    ['maxClusters', q.maxClusters],
    ['maxEndpoints', q.maxEndpoints],
    ['maxDeploymentsPerEndpoint', q.maxDeploymentsPerEndpoint],
    ['upgradeReservePercent', q.upgradeReservePercent],
    ...Object.entries(q.familyVcpus).map(([f, v]): [string, number] => [`familyVcpus.${f}`, v]),
  ];
  for (const [name, v] of counts) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new Error(`emulator: quotas.${name} must be an integer >= 0`);
  }
}

export function familyLimit(q: QuotaConfig, family: string): number {
  const hit = Object.entries(q.familyVcpus).find(([f]) => f.toLowerCase() === family.toLowerCase());
  return hit ? hit[1] : q.defaultFamilyVcpus;
}

/** Instances a deployment of `capacity` reserves quota for. */
export function reservedInstances(q: QuotaConfig, capacity: number): number {
  return Math.ceil((capacity * (100 + q.upgradeReservePercent)) / 100);
}
