// The billing meter: billable seconds of every endpoint, deployment (× its instance count over
// time) and compute node (a cluster bills its minimum nodes from creation to deletion, plus the
// nodes a job holds from the start of Preparing until the job ends; min 0 and idle = nothing), and
// per job the node-seconds it held on each cluster. All figures come from the stored timestamps, so they
// match the times clients observed. Each is charged at the list price of its VM size in the emulated
// region, from the product's price table (finetune-flow/cost, FTFLOW_PRICES_FILE over it): a size the
// table does not price bills null dollars, never a guess.
import { priceOf } from 'finetune-flow/cost';
import { goneAt } from './clock';
import { isoTime, sameName, type EmulatorContext } from './context';
import { asString } from './json';
import { computeResourceId } from './arm/computes';
import { deploymentArmId, endpointArmId } from './arm/onlineEndpoints';
import {
  capacityTimeline,
  computeScale,
  computeVcpus,
  jobAllocations,
  nodeTimeline,
  weightedSeconds,
  type NodeInterval,
} from './records';
import type { Lifecycle } from './clock';

export interface Lifetime {
  createdAt: string;
  deleteRequestedAt: string | null;
  deletedAt: string | null;
  /** Seconds from creation to deletion (or to now while it exists). */
  seconds: number;
}

export function lifetime(l: Lifecycle, now: number): Lifetime {
  const gone = goneAt(l, now);
  const end = gone ?? now;
  return {
    createdAt: isoTime(l.createdAt),
    deleteRequestedAt: l.deleteRequestedAt !== undefined ? isoTime(l.deleteRequestedAt) : null,
    deletedAt: gone !== undefined ? isoTime(gone) : null,
    seconds: Math.max(0, end - l.createdAt) / 1000,
  };
}

const intervalsOut = (xs: readonly NodeInterval[]) =>
  xs.map((i) => ({ start: isoTime(i.start), end: isoTime(i.end), count: i.nodes }));

const round = (x: number): number => Number(x.toFixed(6));

export function billingReport(ctx: EmulatorContext) {
  const now = ctx.now();
  const s = ctx.store.state;
  const region = ctx.config.identities.location;
  const table = ctx.config.prices;
  /** USD per hour of a size in the region, or null when the table has no price for it. */
  const rate = (vmSize: string | null | undefined): number | null =>
    vmSize ? (priceOf(table, vmSize, region)?.usdPerHour ?? null) : null;
  const usd = (seconds: number, perHour: number | null): number | null =>
    perHour === null ? null : round((seconds / 3600) * perHour);
  const endpoints = s.endpoints.map((e) => ({
    id: endpointArmId(ctx, e.name),
    name: e.name,
    uid: e.uid,
    ...lifetime(e.lifecycle, now),
  }));
  const deployments = s.deployments.map((d) => {
    const instances = capacityTimeline(d, now);
    return {
      id: deploymentArmId(ctx, d.endpointName, d.name),
      name: d.name,
      endpoint: d.endpointName,
      endpointUid: d.endpointUid,
      instanceType: asString(d.properties['instanceType']) ?? null,
      capacity: instances[instances.length - 1]?.nodes ?? 0,
      ...lifetime(d.lifecycle, now),
      instanceSeconds: weightedSeconds(instances),
      instances: intervalsOut(instances),
      usdPerHour: rate(asString(d.properties['instanceType'])),
      usd: usd(weightedSeconds(instances), rate(asString(d.properties['instanceType']))),
    };
  });
  const computes = s.computes.map((c) => {
    const nodes = nodeTimeline(c, s.jobs, now);
    const { vmSize, minNodes, maxNodes } = computeScale(c);
    return {
      id: computeResourceId(ctx, c.name),
      name: c.name,
      uid: c.uid,
      vmSize,
      vCPUs: computeVcpus(c)?.vCPUs ?? null,
      minNodes,
      maxNodes,
      ...lifetime(c.lifecycle, now),
      nodeSeconds: weightedSeconds(nodes),
      nodes: intervalsOut(nodes),
      usdPerHour: rate(vmSize),
      usd: usd(weightedSeconds(nodes), rate(vmSize)),
    };
  });
  // Each job's share: the nodes it holds on each cluster, from the start of Preparing to its end.
  const jobs = s.jobs.flatMap((j) => {
    const held = jobAllocations(j, now).map((a) => {
      const cluster = s.computes.filter((c) => sameName(c.name, a.compute)).pop();
      const vmSize = cluster ? computeScale(cluster).vmSize : null;
      const nodeSeconds = (((a.end ?? now) - a.start) / 1000) * a.nodes;
      return {
        compute: a.compute,
        vmSize,
        nodes: a.nodes,
        start: isoTime(a.start),
        end: a.end !== undefined ? isoTime(a.end) : null,
        nodeSeconds,
        usdPerHour: rate(vmSize),
        usd: usd(nodeSeconds, rate(vmSize)),
      };
    });
    if (held.length === 0) return [];
    return [
      {
        name: j.name,
        nodeSeconds: sum(held.map((h) => h.nodeSeconds)),
        usd: total(held.map((h) => h.usd)),
        computes: held,
      },
    ];
  });
  return {
    now: isoTime(now),
    prices: { currency: table.currency, region, snapshot: table.snapshot, source: table.source },
    endpoints,
    deployments,
    computes,
    jobs,
    totals: {
      endpointSeconds: sum(endpoints.map((e) => e.seconds)),
      deploymentSeconds: sum(deployments.map((d) => d.seconds)),
      deploymentInstanceSeconds: sum(deployments.map((d) => d.instanceSeconds)),
      computeNodeSeconds: sum(computes.map((c) => c.nodeSeconds)),
      // Priced resources only: what the table has no price for is listed with usd null and left out here.
      usd: round(sum([...deployments, ...computes].map((r) => r.usd ?? 0))),
    },
  };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** A sum of priced parts, or null when one has no price. */
function total(xs: readonly (number | null)[]): number | null {
  return xs.some((x) => x === null) ? null : round(sum(xs as number[]));
}
