// The billing meter: billable seconds of every endpoint, deployment (× its instance count over
// time) and compute node (a cluster bills its minimum nodes from creation to deletion, plus the
// nodes a job holds from the start of Preparing until the job ends; min 0 and idle = nothing).
// All figures come from the stored timestamps, so they match the times clients observed.
import { goneAt } from './clock';
import { isoTime, type EmulatorContext } from './context';
import { asString } from './json';
import { computeResourceId } from './arm/computes';
import { deploymentArmId, endpointArmId } from './arm/onlineEndpoints';
import {
  capacityTimeline,
  computeScale,
  computeVcpus,
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

export function billingReport(ctx: EmulatorContext) {
  const now = ctx.now();
  const s = ctx.store.state;
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
    };
  });
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    now: isoTime(now),
    endpoints,
    deployments,
    computes,
    totals: {
      endpointSeconds: sum(endpoints.map((e) => e.seconds)),
      deploymentSeconds: sum(deployments.map((d) => d.seconds)),
      deploymentInstanceSeconds: sum(deployments.map((d) => d.instanceSeconds)),
      computeNodeSeconds: sum(computes.map((c) => c.nodeSeconds)),
    },
  };
}
