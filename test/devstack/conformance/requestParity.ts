// Issue 15, item 4: the product's requests match Microsoft's. The bodies azure-ai-ml sends for the seed
// notebook's cells and the bodies finetune-flow sends for the same operations, compared field by field.
// Every difference is either gone or listed in EXPLAINED with the reason it is right.

export interface LoggedWrite {
  method: string;
  path: string;
  status: number;
  userAgent?: string;
  body?: unknown;
}

/** An operation both clients make, named by method and the ARM path template (names replaced by {}). */
export function operationOf(method: string, path: string): string | undefined {
  const p = path.replace(
    /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+/i,
    '',
  );
  const rules: [RegExp, string][] = [
    [/^\/computes\/[^/]+$/i, 'computes/{name}'],
    [/^\/jobs\/[^/]+$/i, 'jobs/{id}'],
    [/^\/jobs\/[^/]+\/cancel$/i, 'jobs/{id}/cancel'],
    [/^\/models\/[^/]+\/versions\/[^/]+$/i, 'models/{name}/versions/{version}'],
    [/^\/onlineEndpoints\/[^/]+$/i, 'onlineEndpoints/{name}'],
    [/^\/onlineEndpoints\/[^/]+\/deployments\/[^/]+$/i, 'onlineEndpoints/{name}/deployments/{name}'],
    [/^\/onlineEndpoints\/[^/]+\/listKeys$/i, 'onlineEndpoints/{name}/listKeys'],
    [/^\/datastores\/[^/]+\/listSecrets$/i, 'datastores/{name}/listSecrets'],
  ];
  if (p === path) return undefined;
  for (const [pattern, name] of rules) if (pattern.test(p)) return `${method.toUpperCase()} ${name}`;
  return undefined;
}

/** `{a: {b: [1]}}` as `{'a.b[0]': 1}`; empty objects and arrays are kept as leaves. */
export function flatten(value: unknown, prefix = ''): Record<string, unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0) return { [prefix]: [] };
    return Object.assign({}, ...value.map((v, i) => flatten(v, `${prefix}[${i}]`))) as Record<string, unknown>;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return { [prefix]: {} };
    return Object.assign({}, ...entries.map(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k))) as Record<
      string,
      unknown
    >;
  }
  return { [prefix]: value };
}

export interface FieldDifference {
  operation: string;
  field: string;
  sdk: unknown;
  product: unknown;
}

/** Field by field: present in one body only, or present in both with another value. */
export function compareBodies(operation: string, sdk: unknown, product: unknown): FieldDifference[] {
  const a = flatten(sdk ?? {});
  const b = flatten(product ?? {});
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return fields
    .filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]))
    .map((field) => ({ operation, field, sdk: a[field], product: b[field] }));
}

/** A difference that is right, and why. `field` matches the flattened field name; `applies` narrows it. */
export interface Explanation {
  operation: RegExp;
  field: RegExp;
  reason: string;
  applies?: (d: FieldDifference) => boolean;
}

export function unexplained(
  differences: readonly FieldDifference[],
  explained: readonly Explanation[],
): FieldDifference[] {
  return differences.filter((d) => !explained.some((e) => e.operation.test(d.operation) && e.field.test(d.field)));
}

/** The first successful write of each operation, by client. */
export function firstWrites(requests: readonly LoggedWrite[]): Map<string, LoggedWrite> {
  const out = new Map<string, LoggedWrite>();
  for (const r of requests) {
    if (r.method === 'GET' || r.method === 'HEAD' || r.status >= 400) continue;
    const op = operationOf(r.method, r.path);
    if (op && !out.has(op)) out.set(op, r);
  }
  return out;
}
