// Scheduled runs, step 1. Finds a running run of this service (its task queue) that trains the same
// thing (same FineTuneContentKey), whoever started it, so a schedule tick defers to it instead of
// paying for a second GPU job; a workflow of another application carrying the key is not one. Read-only.
import { activityInfo } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { findActiveRun as findRunning } from '../config/visibility';

export function makeFindActiveRun(deps: ActivityDeps) {
  return async function findActiveRun(contentKey: string): Promise<string | null> {
    return (await findRunning(await deps.temporal(), contentKey, activityInfo().taskQueue)) ?? null;
  };
}
