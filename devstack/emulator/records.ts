// Derived facts about stored records, shared by the ARM routes, quotas, billing and MLflow: a job's
// timeline and the nodes it holds on its clusters, a compute's node count over time, a deployment's
// instance count over time. Pure functions of the records and "now".
import { goneAt, JOB_PHASES, jobEndedAt, phaseStart, type JobTimeline } from './clock';
import { asNumber, asObject, asString } from './json';
import type { ComputeRecord, DeploymentRecord, JobRecord } from './store';
import { findVmSize } from './vmCatalog';

export function jobTimeline(j: JobRecord): JobTimeline {
  return {
    createdAt: j.createdAt,
    phases: j.phaseDurations ?? JOB_PHASES.map(() => j.phaseMs),
    failAt: j.failure ? (j.failAt ?? { phase: 'Preparing', fraction: 1 }) : undefined,
    cancelRequestedAt: j.cancelRequestedAt,
    cancelMs: j.cancelMs,
  };
}

export interface NodeAllocation {
  compute: string;
  job: string;
  nodes: number;
  /** Nodes are allocated when the job starts Preparing... */
  start: number;
  /** ...and released when it reaches a terminal state (undefined: still held). */
  end: number | undefined;
}

/** The nodes a job holds (or held) on each of its clusters, as of `now`. */
export function jobAllocations(j: JobRecord, now: number): NodeAllocation[] {
  const t = jobTimeline(j);
  const start = phaseStart(t, 'Preparing');
  const end = jobEndedAt(t, now);
  const cancelledBefore = j.cancelRequestedAt !== undefined && j.cancelRequestedAt <= start;
  if (now < start || cancelledBefore || (end !== undefined && end <= start)) return [];
  return (j.computes ?? []).map((c) => ({ compute: c.name, job: j.name, nodes: c.nodes, start, end }));
}

export function computeScale(c: ComputeRecord): { vmSize: string; minNodes: number; maxNodes: number } {
  const inner = asObject(c.properties['properties']) ?? {};
  const scale = asObject(inner['scaleSettings']) ?? {};
  return {
    vmSize: asString(inner['vmSize']) ?? '',
    minNodes: asNumber(scale['minNodeCount']) ?? 0,
    maxNodes: asNumber(scale['maxNodeCount']) ?? 0,
  };
}

export function computeVcpus(c: ComputeRecord): { family: string; vCPUs: number } | undefined {
  const size = findVmSize(computeScale(c).vmSize);
  return size ? { family: size.family, vCPUs: size.vCPUs } : undefined;
}

/** The allocations that land on this compute record (same name, inside its lifetime). */
export function allocationsOn(c: ComputeRecord, jobs: readonly JobRecord[], now: number): NodeAllocation[] {
  const end = goneAt(c.lifecycle, now) ?? Infinity;
  return jobs
    .flatMap((j) => jobAllocations(j, now))
    .filter(
      (a) => a.compute.toLowerCase() === c.name.toLowerCase() && a.start >= c.lifecycle.createdAt && a.start < end,
    );
}

/** Node count of a cluster at time t: its minimum plus what running jobs hold, up to its maximum. */
export function nodesAt(c: ComputeRecord, allocations: readonly NodeAllocation[], t: number): number {
  const { minNodes, maxNodes } = computeScale(c);
  const held = allocations
    .filter((a) => a.start <= t && (a.end === undefined || t < a.end))
    .reduce((n, a) => n + a.nodes, 0);
  return Math.min(Math.max(maxNodes, minNodes), minNodes + held);
}

export interface NodeInterval {
  start: number;
  end: number;
  nodes: number;
}

/** The cluster's node count as a step function over its lifetime up to `now`. */
export function nodeTimeline(c: ComputeRecord, jobs: readonly JobRecord[], now: number): NodeInterval[] {
  const from = c.lifecycle.createdAt;
  const to = goneAt(c.lifecycle, now) ?? now;
  if (to <= from) return [];
  const allocations = allocationsOn(c, jobs, now);
  const cuts = new Set<number>([from, to]);
  for (const a of allocations) {
    if (a.start > from && a.start < to) cuts.add(a.start);
    if (a.end !== undefined && a.end > from && a.end < to) cuts.add(a.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out: NodeInterval[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i] ?? 0;
    const end = points[i + 1] ?? 0;
    const nodes = nodesAt(c, allocations, start);
    const last = out[out.length - 1];
    if (last && last.nodes === nodes && last.end === start) last.end = end;
    else if (nodes > 0) out.push({ start, end, nodes });
  }
  return out;
}

export function deploymentCapacity(d: DeploymentRecord): number {
  return asNumber(d.sku['capacity']) ?? 1;
}

/** Instance count over the deployment's lifetime up to `now`. */
export function capacityTimeline(d: DeploymentRecord, now: number): NodeInterval[] {
  const from = d.lifecycle.createdAt;
  const to = goneAt(d.lifecycle, now) ?? now;
  const history =
    d.capacityHistory && d.capacityHistory.length > 0
      ? d.capacityHistory
      : [[from, deploymentCapacity(d)] as [number, number]];
  const out: NodeInterval[] = [];
  history.forEach(([at, capacity], i) => {
    const start = Math.max(from, at);
    const end = Math.min(to, history[i + 1]?.[0] ?? to);
    if (end > start) out.push({ start, end, nodes: capacity });
  });
  return out;
}

export function instanceVcpus(instanceType: string | undefined): { family: string; vCPUs: number } | undefined {
  const size = instanceType ? findVmSize(instanceType) : undefined;
  return size ? { family: size.family, vCPUs: size.vCPUs } : undefined;
}

/** Seconds covered by a step function, weighted by its value. */
export function weightedSeconds(intervals: readonly NodeInterval[]): number {
  return intervals.reduce((s, i) => s + ((i.end - i.start) / 1000) * i.nodes, 0);
}
