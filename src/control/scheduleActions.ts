// What a schedule did with the ticks a trigger or a backfill asked for. Temporal answers a trigger or a
// backfill as soon as it has queued the request; the schedule then starts each tick, skips it (overlap
// policy: a tick is still running), or buffers it until the running tick ends. Its description counts all
// three (actions taken, skipped for overlap, buffer size), so the report is the difference between the
// description read just before the request and the ones read after it, until every requested tick is
// accounted for or the wait runs out. A tick the schedule itself takes in the same moment would be
// counted too: the reports of a paused schedule, or of one whose next tick is not due, are exact.
import type { ScheduleDescription, ScheduleHandle } from '@temporalio/client';

export type ScheduleActionOutcome = 'started' | 'skipped' | 'buffered' | 'mixed' | 'none' | 'pending';

export interface StartedTick {
  scheduledAt: string;
  takenAt: string;
  /** The tick's workflow id. */
  tickId: string;
  /** The run a retraining tick starts (unless it defers to a running run of the same content). */
  runId?: string;
}

export interface ScheduleActionReport {
  scheduleId: string;
  object: 'fine_tune.schedule_action';
  action: 'trigger' | 'backfill';
  /** The overlap policy the schedule applied. */
  overlap: string;
  /** Ticks asked for: 1 for a trigger, the schedule's ticks between start and end for a backfill. */
  requested: number;
  /** Ticks the schedule started. */
  started: number;
  /** Ticks skipped by the overlap policy (a tick was running), or dropped from a full buffer. */
  skipped: number;
  /** Ticks waiting in the schedule's buffer; each starts when the running tick ends. */
  buffered: number;
  startedTicks: StartedTick[];
  /** False when the schedule had not accounted for every requested tick when the wait ran out. */
  settled: boolean;
  outcome: ScheduleActionOutcome;
  message: string;
}

interface Counters {
  taken: number;
  skipped: number;
  buffered: number;
  recent: Set<string>;
}

function counters(d: ScheduleDescription): Counters {
  return {
    taken: d.info.numActionsTaken,
    skipped: d.info.numActionsSkippedOverlap + Number(d.raw.info?.bufferDropped ?? 0),
    buffered: Number(d.raw.info?.bufferSize ?? 0),
    recent: new Set(d.info.recentActions.map((a) => `${a.action.workflow.workflowId}@${a.scheduledAt.getTime()}`)),
  };
}

export interface ReportOptions {
  action: ScheduleActionReport['action'];
  overlap: string;
  requested: number;
  /** How long to wait for the schedule to account for every tick; default 10 s. */
  waitMs?: number;
  /** The run a started tick belongs to, if the schedule's ticks start runs. */
  runIdOf?: (tickId: string) => string | undefined;
}

/** Reads the schedule until the requested ticks are accounted for (or the wait ends) and reports. */
export async function reportScheduleAction(
  handle: ScheduleHandle,
  before: ScheduleDescription,
  opts: ReportOptions,
): Promise<ScheduleActionReport> {
  const start = counters(before);
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  let after: ScheduleDescription;
  let settled: boolean;
  for (let pause = 50; ; pause = Math.min(500, pause * 2)) {
    after = await handle.describe();
    const now = counters(after);
    const accounted =
      now.taken - start.taken + (now.skipped - start.skipped) + Math.max(0, now.buffered - start.buffered);
    settled = accounted >= opts.requested;
    if (settled || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
  }
  const end = counters(after);
  const started = end.taken - start.taken;
  const skipped = end.skipped - start.skipped;
  const buffered = Math.max(0, end.buffered - start.buffered);
  const startedTicks = after.info.recentActions
    .filter((a) => !start.recent.has(`${a.action.workflow.workflowId}@${a.scheduledAt.getTime()}`))
    .map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      tickId: a.action.workflow.workflowId,
      runId: opts.runIdOf?.(a.action.workflow.workflowId),
    }));
  const outcome: ScheduleActionOutcome =
    opts.requested === 0
      ? 'none'
      : started + skipped + buffered === 0
        ? 'pending'
        : skipped === 0 && buffered === 0
          ? 'started'
          : started === 0 && buffered === 0
            ? 'skipped'
            : started === 0 && skipped === 0
              ? 'buffered'
              : 'mixed';
  return {
    scheduleId: before.scheduleId,
    object: 'fine_tune.schedule_action',
    action: opts.action,
    overlap: opts.overlap,
    requested: opts.requested,
    started,
    skipped,
    buffered,
    startedTicks,
    settled,
    outcome,
    message: describeOutcome(opts, { started, skipped, buffered, settled, outcome }, opts.waitMs ?? 10_000),
  };
}

function describeOutcome(
  opts: ReportOptions,
  r: Pick<ScheduleActionReport, 'started' | 'skipped' | 'buffered' | 'settled' | 'outcome'>,
  waitMs: number,
): string {
  const what = opts.action === 'trigger' ? 'the triggered tick' : `${opts.requested} backfilled tick(s)`;
  if (r.outcome === 'none') return 'no tick of the schedule falls in that range: nothing started';
  if (r.outcome === 'pending')
    return `the schedule had not acted on ${what} after ${Math.round(waitMs / 1000)} s; describe it later to see what it did`;
  const parts = [
    r.started > 0 ? `${r.started} started` : '',
    r.buffered > 0 ? `${r.buffered} buffered (each starts when the running tick ends)` : '',
    r.skipped > 0 ? `${r.skipped} skipped (a tick is still running; overlap policy ${opts.overlap})` : '',
  ].filter((p) => p !== '');
  const unsettled = r.settled ? '' : `; the rest not yet acted on after ${Math.round(waitMs / 1000)} s`;
  return `${what}: ${parts.join(', ')}${unsettled}`;
}

/** What the CLI exits with for a report: something started or will start: 0; nothing: EXIT_NOTHING_STARTED. */
export function startedSomething(report: ScheduleActionReport): boolean {
  return report.started > 0 || report.buffered > 0;
}
