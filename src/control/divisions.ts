// Housekeeping workflows (janitor sweeps, retraining schedule ticks) start in a namespace division of their
// own, so the Temporal UI's default list shows runs only (src/config/searchAttributes.ts, NAMESPACE_DIVISION).
// Temporal accepts the attribute from clients today but calls it internal; a server that refuses it gets the
// same workflows without it (listed, as before) rather than no janitor at all.
import type { SearchAttributePair } from '@temporalio/common';
import { NAMESPACE_DIVISION } from '../config/searchAttributes';

/** Whether the server refused the TemporalNamespaceDivision attribute (it names it in its error). */
export function refusedDivision(err: unknown): boolean {
  return err instanceof Error && err.message.includes(NAMESPACE_DIVISION.name);
}

/**
 * Calls `start` with the division's search attribute, or, if the server refuses that attribute, once more
 * without it.
 */
export async function inDivision<T>(division: string, start: (sa: SearchAttributePair[]) => Promise<T>): Promise<T> {
  try {
    return await start([{ key: NAMESPACE_DIVISION, value: division }]);
  } catch (err) {
    if (!refusedDivision(err)) throw err;
    return start([]);
  }
}
