// Scheduled runs, step 1. Finds a running run that trains the same thing (same FineTuneContentKey),
// whoever started it, so a schedule tick defers to it instead of paying for a second GPU job. Read-only.
import type { ActivityDeps } from './deps';
import { findActiveRun as findRunning } from '../control/visibility';

export function makeFindActiveRun(deps: ActivityDeps) {
  return async function findActiveRun(contentKey: string): Promise<string | null> {
    return (await findRunning(await deps.temporal(), contentKey)) ?? null;
  };
}
