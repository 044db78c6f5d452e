// The cost after a run, from what Azure reports: each training job's nodes from when it got its compute to
// when it ended (its root run in RunHistory), and each deployment's instances from its creation to the
// endpoint's deletion, at the table's list price. Pure: the measurements come from the measureCost activity.
import { priceOf, type PriceTable } from './priceTable';
import type { ActualCost, MeasuredDeployment, MeasuredJob, PriceBasis } from './types';

export interface JobTimeline {
  jobName: string;
  vmSize: string;
  nodes: number;
  startedAt: string;
  endedAt: string;
}

export interface DeploymentLifetime {
  name: string;
  instanceType: string;
  instances: number;
  createdAt: string;
  deletedAt: string;
}

const round = (x: number, digits = 6): number => Number(x.toFixed(digits));
const seconds = (from: string, to: string): number => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
/** A sum of parts, or null when any part has no price. */
const total = (xs: readonly (number | null)[]): number | null =>
  xs.some((x) => x === null) ? null : round(sum(xs as number[]));

export function actualRunCost(
  measured: { jobs: readonly JobTimeline[]; deployments: readonly DeploymentLifetime[]; notes?: readonly string[] },
  table: PriceTable,
  region: string,
): ActualCost {
  const notes = [...(measured.notes ?? [])];
  const rate = (vmSize: string): number | null => {
    const price = priceOf(table, vmSize, region);
    if (!price)
      notes.push(`no list price for ${vmSize} in ${region} in the price table (${table.snapshot}): not priced`);
    return price?.usdPerHour ?? null;
  };
  const jobs: MeasuredJob[] = measured.jobs.map((j) => {
    const nodeSeconds = round(seconds(j.startedAt, j.endedAt) * j.nodes, 3);
    const usdPerHour = rate(j.vmSize);
    return {
      ...j,
      nodeSeconds,
      usdPerHour,
      usd: usdPerHour === null ? null : round((nodeSeconds / 3600) * usdPerHour),
    };
  });
  const deployments: MeasuredDeployment[] = measured.deployments.map((d) => {
    const instanceSeconds = round(seconds(d.createdAt, d.deletedAt) * d.instances, 3);
    const usdPerHour = rate(d.instanceType);
    return {
      ...d,
      instanceSeconds,
      usdPerHour,
      usd: usdPerHour === null ? null : round((instanceSeconds / 3600) * usdPerHour),
    };
  });
  const training = {
    jobs,
    nodeSeconds: round(sum(jobs.map((j) => j.nodeSeconds)), 3),
    usd: total(jobs.map((j) => j.usd)),
  };
  const endpoint = {
    deployments,
    instanceSeconds: round(sum(deployments.map((d) => d.instanceSeconds)), 3),
    usd: total(deployments.map((d) => d.usd)),
  };
  const prices: PriceBasis = {
    currency: 'USD',
    region,
    priceType: table.priceType,
    snapshot: table.snapshot,
    source: table.source,
  };
  return { totalUsd: total([training.usd, endpoint.usd]), training, endpoint, prices, notes };
}
