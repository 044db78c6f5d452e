// Narrowing helpers for request bodies and query strings: callers get typed values or undefined,
// never `any`.

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** A string-to-string map (ARM `tags`, `properties`); non-string values are dropped. */
export function asStringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** First value of a query parameter, matching its name case-insensitively (ARM is lenient here). */
export function queryParam(query: unknown, name: string): string | undefined {
  if (!isObject(query)) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(query)) {
    if (k.toLowerCase() !== wanted) continue;
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  }
  return undefined;
}

/** Deep copy of JSON data (records are stored by value, never shared with request bodies). */
export function cloneJson<T>(value: T): T {
  return structuredClone(value);
}
