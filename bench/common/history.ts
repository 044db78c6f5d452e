// Figures read from a workflow's event history (what Temporal itself recorded, not our logs).
//
// Billable actions, as this project counts them (a Temporal Cloud estimate from the history alone):
//   workflow started (1) + activity attempts (each scheduled activity once, plus its retries: the
//   attempt number of its last start) + timers started + search-attribute upserts + signals received
//   + updates accepted or rejected + markers other than SDK patch markers (local activities).
// Not in the history, so not counted here: activity heartbeats that reach the server, queries, and
// actions of the client (benches read those from the server's `action` metric; see serverMetrics.ts).
import type { temporal } from '@temporalio/proto';
import { optionalTsToMs } from '@temporalio/common/lib/time';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActionCounts {
  workflowStarted: number;
  activityAttempts: number;
  timers: number;
  searchAttributeUpserts: number;
  signals: number;
  updates: number;
  markers: number;
  total: number;
}

export interface ActivityTiming {
  activityType: string;
  /** Attempt number of the last start (1 = no retry). */
  attempt: number;
  scheduledMs: number;
  startedMs?: number;
  closedMs?: number;
  outcome: 'completed' | 'failed' | 'timedOut' | 'cancelled' | 'open';
}

export function eventTimeMs(e: HistoryEvent): number {
  return optionalTsToMs(e.eventTime) ?? NaN;
}

/** Every activity of the history: when it was scheduled, started (last attempt) and closed. */
export function activityTimings(events: readonly HistoryEvent[]): ActivityTiming[] {
  const byScheduled = new Map<string, ActivityTiming>();
  for (const e of events) {
    const id = String(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      byScheduled.set(id, {
        activityType: scheduled.activityType?.name ?? '?',
        attempt: 0,
        scheduledMs: eventTimeMs(e),
        outcome: 'open',
      });
      continue;
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const t = byScheduled.get(String(started.scheduledEventId));
      if (t) {
        t.startedMs = eventTimeMs(e);
        t.attempt = started.attempt ?? 1;
      }
      continue;
    }
    const closed: [string | undefined, ActivityTiming['outcome']] | undefined = e.activityTaskCompletedEventAttributes
      ? [String(e.activityTaskCompletedEventAttributes.scheduledEventId), 'completed']
      : e.activityTaskFailedEventAttributes
        ? [String(e.activityTaskFailedEventAttributes.scheduledEventId), 'failed']
        : e.activityTaskTimedOutEventAttributes
          ? [String(e.activityTaskTimedOutEventAttributes.scheduledEventId), 'timedOut']
          : e.activityTaskCanceledEventAttributes
            ? [String(e.activityTaskCanceledEventAttributes.scheduledEventId), 'cancelled']
            : undefined;
    if (closed) {
      const t = byScheduled.get(closed[0] ?? '');
      if (t) {
        t.closedMs = eventTimeMs(e);
        t.outcome = closed[1];
      }
    }
  }
  return [...byScheduled.values()];
}

/** The billable actions the history shows (definition at the top of this file). */
export function countActions(events: readonly HistoryEvent[]): ActionCounts {
  const c: ActionCounts = {
    workflowStarted: 0,
    activityAttempts: 0,
    timers: 0,
    searchAttributeUpserts: 0,
    signals: 0,
    updates: 0,
    markers: 0,
    total: 0,
  };
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes) c.workflowStarted++;
    else if (e.timerStartedEventAttributes) c.timers++;
    else if (e.upsertWorkflowSearchAttributesEventAttributes) c.searchAttributeUpserts++;
    else if (e.workflowExecutionSignaledEventAttributes) c.signals++;
    else if (e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateRejectedEventAttributes)
      c.updates++;
    else if (e.markerRecordedEventAttributes && e.markerRecordedEventAttributes.markerName !== 'core_patch')
      c.markers++;
  }
  // An activity that never started still cost its scheduling; one that was retried, each attempt.
  for (const t of activityTimings(events)) c.activityAttempts += Math.max(1, t.attempt);
  c.total =
    c.workflowStarted + c.activityAttempts + c.timers + c.searchAttributeUpserts + c.signals + c.updates + c.markers;
  return c;
}

/**
 * Workflow tasks that timed out or failed and were tried again: each adds three events (the task's
 * scheduled, started and timed-out/failed) that a task done at once does not. On a machine too loaded to
 * answer a workflow task within its timeout they vary from run to run, whatever the workflow does.
 */
export function workflowTaskRetries(events: readonly HistoryEvent[]): number {
  return events.filter((e) => e.workflowTaskTimedOutEventAttributes || e.workflowTaskFailedEventAttributes).length;
}

/** Workflow tasks completed (each is a round trip worker ↔ server; not billed, but load). */
export function workflowTasks(events: readonly HistoryEvent[]): number {
  return events.filter((e) => e.workflowTaskCompletedEventAttributes).length;
}

/** The decoded result of the first completed activity of this type (JSON payloads; undefined otherwise). */
export function activityResult(events: readonly HistoryEvent[], activityType: string): unknown {
  const types = new Map<string, string>();
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) types.set(String(e.eventId), scheduled.activityType?.name ?? '');
    const done = e.activityTaskCompletedEventAttributes;
    if (!done || types.get(String(done.scheduledEventId)) !== activityType) continue;
    const payload = done.result?.payloads?.[0];
    const encoding = payload?.metadata?.['encoding'];
    if (!payload?.data || !encoding || Buffer.from(encoding).toString() !== 'json/plain') return undefined;
    return JSON.parse(Buffer.from(payload.data).toString('utf8')) as unknown;
  }
  return undefined;
}
