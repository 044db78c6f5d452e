// The janitor: the safety net behind "no endpoint outlives its run". A terminated run (or one that
// timed out) runs no cleanup code, so on a schedule this lists the endpoints finetune-flow created,
// keeps those whose run still runs, and deletes the rest (and, with a TTL, any that is too old).
import { log, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { summarizedActivities } from './activityOptions';
import { summaryText } from './uiText';
import type { JanitorDecision, JanitorInput, JanitorReport } from './definitions';

const reads = summarizedActivities({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
});
// A few attempts per sweep: an endpoint Azure will not delete yet is reported and tried again by the
// next sweep, instead of holding this one open (the schedule skips ticks while one runs).
const cleanup = summarizedActivities({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

export async function janitor(input: JanitorInput = {}): Promise<JanitorReport> {
  const dryRun = input.dryRun ?? false;
  const namespace = workflowInfo().namespace;
  setCurrentDetails(`**Listing** the endpoints finetune-flow created${dryRun ? ' (dry run: nothing is deleted)' : ''}`);
  const endpoints = await reads.listTaggedEndpoints();
  const runIds = [...new Set(endpoints.map((e) => e.runId).filter((id): id is string => id !== undefined))];
  const runs = new Map((runIds.length > 0 ? await reads.describeRuns(runIds) : []).map((r) => [r.runId, r]));
  const maxAgeMs = input.maxEndpointAgeHours !== undefined ? input.maxEndpointAgeHours * 3_600_000 : undefined;

  const doomed: JanitorDecision[] = [];
  const kept: JanitorDecision[] = [];
  for (const endpoint of endpoints) {
    const { endpointName, runId } = endpoint;
    if (endpoint.namespace !== undefined && endpoint.namespace !== namespace) {
      kept.push({ endpointName, runId, reason: `run belongs to namespace ${endpoint.namespace}` });
      continue;
    }
    if (endpoint.provisioningState === 'Deleting') {
      kept.push({ endpointName, runId, reason: 'already being deleted' });
      continue;
    }
    const run = runId !== undefined ? runs.get(runId) : undefined;
    const ageMs = endpoint.createdAt !== undefined ? Date.now() - Date.parse(endpoint.createdAt) : undefined;
    if (runId === undefined) doomed.push({ endpointName, reason: 'no run tag' });
    else if (run?.state === 'closed')
      doomed.push({ endpointName, runId, reason: `run ${(run.status ?? 'closed').toLowerCase()}` });
    else if (run?.state === 'not-found') doomed.push({ endpointName, runId, reason: 'run not found' });
    else if (maxAgeMs !== undefined && ageMs !== undefined && ageMs > maxAgeMs)
      doomed.push({ endpointName, runId, reason: `older than ${input.maxEndpointAgeHours} h` });
    else kept.push({ endpointName, runId, reason: 'run is running' });
  }

  const deleted: JanitorDecision[] = [];
  const failed: JanitorDecision[] = [];
  if (dryRun) {
    deleted.push(...doomed);
  } else {
    setCurrentDetails(
      `**Deleting** ${doomed.length} endpoint(s) whose run has ended; keeping ${kept.length} of ${endpoints.length}`,
    );
    const outcomes = await Promise.allSettled(
      doomed.map((d) =>
        cleanup.deleteEndpoint.executeWithOptions(
          { summary: summaryText(`delete endpoint ${d.endpointName}: ${d.reason}`) },
          [d.endpointName],
        ),
      ),
    );
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') deleted.push(doomed[i]);
      else failed.push({ ...doomed[i], reason: `${doomed[i].reason}; delete failed: ${failureText(outcome.reason)}` });
    });
    if (deleted.length > 0)
      log.info('janitor deleted orphaned endpoints', { endpoints: deleted.map((d) => d.endpointName) });
    if (failed.length > 0)
      log.warn('janitor could not delete endpoints; the next sweep tries again', {
        endpoints: failed.map((d) => d.endpointName),
      });
  }
  setCurrentDetails(
    `**Swept** ${endpoints.length} endpoint(s): ${deleted.length} ${dryRun ? 'would be deleted' : 'deleted'}, ${kept.length} kept, ${failed.length} failed`,
  );
  return { checkedAt: new Date().toISOString(), dryRun, examined: endpoints.length, deleted, kept, failed };
}

function failureText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? err.cause.message : err.message;
}
