// Azure's own waits within one way, on the emulator's clock: the time its job took (created → ended),
// and its long-running operations took (a compute, endpoint or deployment provisioning, an update of
// an endpoint or deployment, a deletion). Wall time minus their union is what the client itself
// spent: process start and imports, its own work, its HTTP round trips, and how late it noticed that a
// wait had ended (its polling).
import type { EmulatorRequest, EmulatorResources } from '../common';

export type WaitKind = 'job' | 'provisioning' | 'deletion';

export interface WaitInterval {
  kind: WaitKind;
  what: string;
  startMs: number;
  endMs: number;
}

export interface AzureWaits {
  /** The union of every interval (overlaps counted once), seconds. */
  totalSeconds: number;
  /** The union per kind, seconds (kinds can overlap one another, so these may add up to more). */
  byKind: Record<WaitKind, number>;
  intervals: WaitInterval[];
}

const at = (iso: string | null | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);

/** An update PUT on an endpoint or a deployment (the creating PUT is the resource's createdAt). */
const ENDPOINT_PUT = /\/onlineEndpoints\/[^/]+(\/deployments\/[^/]+)?$/i;

/**
 * The intervals of Azure's waits that began within [fromMs, toMs]: `provisionMs` is the emulator clock's
 * provisioning duration (GET /_emulator/clock), the same for creates and updates.
 */
export function azureWaitIntervals(
  resources: EmulatorResources,
  requests: readonly EmulatorRequest[],
  provisionMs: number,
  fromMs: number,
  toMs: number,
): WaitInterval[] {
  const within = (ms: number | undefined): ms is number => ms !== undefined && ms >= fromMs && ms <= toMs;
  const out: WaitInterval[] = [];
  for (const job of resources.jobs) {
    const created = at(job.createdAt);
    if (within(created)) out.push({ kind: 'job', what: job.name, startMs: created, endMs: at(job.endedAt) ?? toMs });
  }
  const lifetimes = [
    ...(resources.computes ?? []).map((c) => ({ ...c, what: `compute ${c.name}` })),
    ...resources.endpoints.map((e) => ({ ...e, what: `endpoint ${e.name}` })),
    ...(resources.deployments ?? []).map((d) => ({ ...d, what: `deployment ${d.endpoint}/${d.name}` })),
  ];
  for (const r of lifetimes) {
    const created = at(r.createdAt);
    if (within(created))
      out.push({ kind: 'provisioning', what: r.what, startMs: created, endMs: created + provisionMs });
    const deleting = at(r.deleteRequestedAt);
    if (within(deleting))
      out.push({ kind: 'deletion', what: r.what, startMs: deleting, endMs: at(r.deletedAt) ?? toMs });
  }
  // Updates (traffic, a deployment's new settings): the second and later PUTs on the same resource.
  const seen = new Set<string>();
  for (const q of requests) {
    if (q.method !== 'PUT' || q.status >= 300 || !ENDPOINT_PUT.test(q.path)) continue;
    const key = q.path.toLowerCase();
    const first = !seen.has(key);
    seen.add(key);
    const t = Date.parse(q.time);
    if (!first && within(t))
      out.push({ kind: 'provisioning', what: `update ${q.path}`, startMs: t, endMs: t + provisionMs });
  }
  return out.map((i) => ({ ...i, endMs: Math.min(i.endMs, toMs) }));
}

/** Length of the union of intervals, ms. */
export function unionMs(intervals: readonly { startMs: number; endMs: number }[]): number {
  const sorted = [...intervals].filter((i) => i.endMs > i.startMs).sort((a, b) => a.startMs - b.startMs);
  let total = 0;
  let start = -Infinity;
  let end = -Infinity;
  for (const i of sorted) {
    if (i.startMs > end) {
      if (end > start) total += end - start;
      start = i.startMs;
      end = i.endMs;
    } else {
      end = Math.max(end, i.endMs);
    }
  }
  if (end > start) total += end - start;
  return total;
}

export function azureWaits(intervals: WaitInterval[]): AzureWaits {
  const byKind = (kind: WaitKind) => unionMs(intervals.filter((i) => i.kind === kind)) / 1000;
  return {
    totalSeconds: unionMs(intervals) / 1000,
    byKind: { job: byKind('job'), provisioning: byKind('provisioning'), deletion: byKind('deletion') },
    intervals,
  };
}
