// The Temporal dev server's Prometheus metrics (`temporal server start-dev --metrics-port N`): the
// server's own `action` counter (what it would bill, by action type) and request counts per operation.
// Counters are cumulative since the server started; benches read them before and after and subtract.

export type MetricTotals = Map<string, number>;

/** Sums `metric{...namespace="<ns>"...}` by the value of `byLabel`. */
export async function scrapeCounter(
  metricsUrl: string,
  metric: string,
  byLabel: string,
  namespace = 'default',
): Promise<MetricTotals> {
  const res = await fetch(metricsUrl);
  if (!res.ok) throw new Error(`GET ${metricsUrl}: ${res.status}`);
  const text = await res.text();
  const totals: MetricTotals = new Map();
  const line = new RegExp(`^${metric}\\{([^}]*)\\}\\s+([0-9.eE+-]+)$`);
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (labels['namespace'] !== namespace) continue;
    const key = labels[byLabel] ?? '';
    totals.set(key, (totals.get(key) ?? 0) + Number(m[2]));
  }
  return totals;
}

/** after - before, per key (keys only in `after` count from 0). */
export function diffTotals(before: MetricTotals, after: MetricTotals): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
