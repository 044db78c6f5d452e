// Janitor, step 2. Says for each run id whether that run is still running, has closed, or does not
// exist in this namespace (any more). Read-only; a Temporal error fails the attempt and is retried.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ActivityDeps } from './deps';
import type { RunState } from './types';

export function makeDescribeRuns(deps: ActivityDeps) {
  return async function describeRuns(runIds: string[]): Promise<RunState[]> {
    const client = await deps.temporal();
    return Promise.all(
      runIds.map(async (runId): Promise<RunState> => {
        try {
          const d = await client.workflow.getHandle(runId).describe();
          const status = d.status.name;
          return {
            runId,
            state: status === 'RUNNING' ? 'running' : 'closed',
            status,
            closedAt: d.closeTime?.toISOString(),
          };
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return { runId, state: 'not-found' };
          throw err;
        }
      }),
    );
  };
}
