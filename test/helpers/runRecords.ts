// What Temporal itself recorded about a run (history events, pending activities, worker identities) and
// what the emulator recorded about the Azure objects it created: the authoritative views for tests that
// kill workers or restart servers. Log lines arrive late or not at all when a process dies; these do not.
import type { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import type { RunNames } from '../../src/runSpec/names';
import type { EmulatorResources } from './localStack';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;

/** Temporal's default worker identity is `<pid>@<hostname>`: which process ran a task. */
export function isProcess(pid: number | undefined, identity: string | null | undefined): boolean {
  return pid !== undefined && typeof identity === 'string' && identity.startsWith(`${pid}@`);
}

export function eventTimeMs(event: HistoryEvent): number {
  return Number(event.eventTime?.seconds ?? 0) * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
}

/** One finished attempt of a step, as the history records it. */
export interface StepAttempt {
  step: string;
  /** The attempt that finished (earlier attempts lost with a worker leave no event of their own). */
  attempt: number;
  outcome: 'completed' | 'failed' | 'timedOut' | 'canceled';
  startedBy?: string;
  completedBy?: string;
  startedAtMs?: number;
  endedAtMs: number;
}

/** Every activity that finished, in history order, with the worker that started and completed it. */
export function stepAttempts(events: HistoryEvent[]): StepAttempt[] {
  const scheduled = new Map<string, string>();
  const started = new Map<string, HistoryEvent>();
  const out: StepAttempt[] = [];
  for (const e of events) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes)
      scheduled.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    if (e.activityTaskStartedEventAttributes)
      started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), e);
    const end =
      (e.activityTaskCompletedEventAttributes && {
        outcome: 'completed' as const,
        a: e.activityTaskCompletedEventAttributes,
      }) ||
      (e.activityTaskFailedEventAttributes && { outcome: 'failed' as const, a: e.activityTaskFailedEventAttributes }) ||
      (e.activityTaskTimedOutEventAttributes && {
        outcome: 'timedOut' as const,
        a: e.activityTaskTimedOutEventAttributes,
      }) ||
      (e.activityTaskCanceledEventAttributes && {
        outcome: 'canceled' as const,
        a: e.activityTaskCanceledEventAttributes,
      });
    if (!end) continue;
    const scheduledId = String(end.a.scheduledEventId);
    const start = started.get(scheduledId);
    out.push({
      step: scheduled.get(scheduledId) ?? '?',
      attempt: start?.activityTaskStartedEventAttributes?.attempt ?? 1,
      outcome: end.outcome,
      startedBy: start?.activityTaskStartedEventAttributes?.identity ?? undefined,
      completedBy: 'identity' in end.a ? (end.a.identity ?? undefined) : undefined,
      startedAtMs: start ? eventTimeMs(start) : undefined,
      endedAtMs: eventTimeMs(e),
    });
  }
  return out;
}

/** Workflow tasks that timed out: lost with a dead worker (START_TO_CLOSE) or left on its sticky queue (SCHEDULE_TO_START). */
export function workflowTaskTimeouts(events: HistoryEvent[]): { atMs: number; kind: string }[] {
  return events.flatMap((e) => {
    const t = e.workflowTaskTimedOutEventAttributes;
    if (!t) return [];
    return [
      {
        atMs: eventTimeMs(e),
        kind:
          Number(t.timeoutType) === 2 /* SCHEDULE_TO_START */
            ? 'schedule-to-start'
            : Number(t.timeoutType) === 1 /* START_TO_CLOSE */
              ? 'start-to-close'
              : String(t.timeoutType),
      },
    ];
  });
}

/** The first event a given worker process stamped (a workflow task or an activity it started or finished). */
export function firstEventBy(events: HistoryEvent[], pid: number | undefined): HistoryEvent | undefined {
  return events.find(
    (e) =>
      isProcess(pid, e.workflowTaskStartedEventAttributes?.identity) ||
      isProcess(pid, e.workflowTaskCompletedEventAttributes?.identity) ||
      isProcess(pid, e.activityTaskStartedEventAttributes?.identity) ||
      isProcess(pid, e.activityTaskCompletedEventAttributes?.identity),
  );
}

/** The full history so far (all pages). */
export async function historyOf(temporal: Client, runId: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await temporal.workflowService.getWorkflowExecutionHistory({
      namespace: temporal.options.namespace,
      execution: { workflowId: runId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

/**
 * Resolves with the history as soon as `until` holds for it, following new events with the server's
 * long poll (so a test reacts within milliseconds of the event, not of a polling interval).
 */
export async function awaitHistory(
  temporal: Client,
  runId: string,
  what: string,
  until: (events: HistoryEvent[]) => boolean,
  timeoutMs = 90_000,
): Promise<HistoryEvent[]> {
  const deadline = Date.now() + timeoutMs;
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  for (;;) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} in the history of ${runId}`);
    const page = await temporal.connection
      .withDeadline(Math.min(deadline, Date.now() + 25_000), () =>
        temporal.workflowService.getWorkflowExecutionHistory({
          namespace: temporal.options.namespace,
          execution: { workflowId: runId },
          nextPageToken,
          waitNewEvent: true,
        }),
      )
      .catch((err: unknown) => {
        // The long poll's own deadline: ask again.
        if (err instanceof Error && /DEADLINE_EXCEEDED|deadline/i.test(err.message)) return undefined;
        throw err;
      });
    if (!page) continue;
    events.push(...(page.history?.events ?? []));
    if (until(events)) return events;
    if (!page.nextPageToken?.length) throw new Error(`${runId} closed before ${what}`);
    nextPageToken = page.nextPageToken;
  }
}

/** True once the history records a completion of `step`. */
export function hasCompleted(step: string): (events: HistoryEvent[]) => boolean {
  return (events) => stepAttempts(events).some((a) => a.step === step && a.outcome === 'completed');
}

/** The run's pending activity of this type, if Temporal has one. */
export async function pendingActivity(
  temporal: Client,
  runId: string,
  step: string,
): Promise<PendingActivity | undefined> {
  const { raw } = await temporal.workflow.getHandle(runId).describe();
  return (raw.pendingActivities ?? []).find((a) => a.activityType?.name === step);
}

/** Whether a pending activity is running on the given process and has heartbeated there. */
export function runningOn(pending: PendingActivity | undefined, pid: number | undefined): boolean {
  return (
    Number(pending?.state) === 2 /* PENDING_ACTIVITY_STATE_STARTED */ &&
    isProcess(pid, pending?.lastWorkerIdentity) &&
    pending?.lastHeartbeatTime != null
  );
}

/** The pay-once and billing-safety facts of one run, from the emulator's records. */
export function azureRecordOf(all: EmulatorResources, names: RunNames) {
  const endpoints = all.endpoints.filter((e) => e.name === names.endpointName);
  return {
    jobs: all.jobs.filter((j) => j.name === names.jobName).length,
    modelVersions: all.models.filter((m) => m.jobName === names.jobName).length,
    endpointsCreated: endpoints.length,
    liveEndpoints: endpoints.filter((e) => e.state !== 'Gone').length,
    liveDeployments: all.deployments.filter((d) => d.endpoint === names.endpointName && d.state !== 'Gone').length,
  };
}

/** One status of a job as the emulator records it (`statusHistory` in GET /_emulator/resources). */
export interface JobStatusChange {
  status: string;
  /** When the job entered it, on the emulator's clock (ISO time). */
  at: string;
}

/**
 * A job's walk as the emulator records it: each status the job has had, with the milliseconds of emulator
 * time from the job's creation to the start of that status. Read from the record after the fact, so no
 * status is missed however seldom (or late) the test looked.
 */
export function jobWalk(job: { createdAt?: unknown; statusHistory?: unknown } | undefined): [string, number][] {
  if (!job || typeof job.createdAt !== 'string' || !Array.isArray(job.statusHistory))
    throw new Error(`not an emulator job record with a status history: ${JSON.stringify(job)}`);
  const created = Date.parse(job.createdAt);
  return (job.statusHistory as JobStatusChange[]).map((c) => [c.status, Date.parse(c.at) - created]);
}

/** When (emulator time, ms) the job reached its terminal status, from its record; undefined while it runs. */
export function jobEndedAtMs(job: { name?: unknown; statusHistory?: unknown } | undefined): number | undefined {
  const last = Array.isArray(job?.statusHistory) ? (job.statusHistory as JobStatusChange[]).at(-1) : undefined;
  return last && ['Completed', 'Failed', 'Canceled'].includes(last.status) ? Date.parse(last.at) : undefined;
}
