// Decodes every payload of a fetched history with the client's codecs, so code that reads payloads
// straight from history (run events, heartbeat details, the recorded input) works with encryption on.
import type { Payload, PayloadCodec } from '@temporalio/common';

function isPayload(value: unknown): value is Payload {
  if (typeof value !== 'object' || value === null) return false;
  const m = (value as { metadata?: unknown }).metadata;
  return typeof m === 'object' && m !== null && 'encoding' in m;
}

/** Runs the codecs' decode (last codec first) over one payload. */
export async function decodePayload(codecs: readonly PayloadCodec[], payload: Payload): Promise<Payload> {
  let out = [payload];
  for (const codec of [...codecs].reverse()) out = await codec.decode(out);
  return out[0] ?? payload;
}

/** Replaces, in place, every payload found anywhere in `value` with its decoded form. */
export async function decodePayloadsIn<T>(codecs: readonly PayloadCodec[], value: T): Promise<T> {
  if (codecs.length === 0) return value;
  const visit = async (node: unknown): Promise<void> => {
    if (typeof node !== 'object' || node === null || node instanceof Uint8Array) return;
    const entries: [string | number, unknown][] = Array.isArray(node)
      ? node.map((v, i) => [i, v])
      : Object.entries(node);
    for (const [k, v] of entries) {
      if (isPayload(v)) (node as Record<string | number, unknown>)[k] = await decodePayload(codecs, v);
      else await visit(v);
    }
  };
  await visit(value);
  return value;
}
