// Retraining schedules on Temporal Schedules. Each tick runs `scheduledFineTune`, which defers to a
// running run that trains the same thing or starts the run as its child and waits for it; so the
// schedule's overlap policy (default SKIP) and pause-on-failure apply to the real run.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError as SdkScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleSpec,
} from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';
import { RunSpecError, parseRunSpec, type RunSpec } from '../spec/schema';
import { runContentKey } from '../spec/contentKey';
import { SCHEDULED_WORKFLOW_PREFIX, type FineTuneOptions, type ScheduledFineTuneInput } from '../workflows/definitions';
import { ControlError, ScheduleExistsError, ScheduleNotFoundError, invalid } from './errors';

export const SCHEDULE_MEMO_KEY = 'ftflow';
export const SCHEDULED_WORKFLOW_TYPE = 'scheduledFineTune';
export const SCHEDULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The overlap policies a retraining schedule may use. TERMINATE_OTHER is left out: terminating a run skips its cleanup. */
export const OVERLAP_POLICIES = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
} as const;
export type OverlapPolicy = keyof typeof OVERLAP_POLICIES;

export const DEFAULT_CATCHUP_WINDOW = '10 minutes';

export interface RetrainingScheduleOptions {
  scheduleId: string;
  /** The run spec every tick starts (validated now, with the shared schema). */
  spec: unknown;
  /** An interval such as "7 days", "12h", "30m". Give this or `cron`. */
  every?: string;
  /** A cron expression such as "0 3 * * 1" (Mondays 03:00). */
  cron?: string;
  /** IANA time zone for `cron`; default UTC. */
  timezone?: string;
  /** What a tick does while the previous one still runs; default skip. */
  overlap?: OverlapPolicy;
  /** How far back missed ticks are caught up after an outage; default 10 minutes. */
  catchupWindow?: string;
  /** Pause the schedule when a run fails, until someone unpauses it; default false. */
  pauseOnFailure?: boolean;
  paused?: boolean;
  note?: string;
  options?: FineTuneOptions;
}

export interface ScheduleTick {
  scheduledAt: string;
  takenAt: string;
  /** The tick's workflow id; the run it started (unless it deferred to a running one) is `runId`. */
  tickId: string;
  runId: string;
}

export interface RetrainingSchedule {
  scheduleId: string;
  object: 'fine_tune.schedule';
  paused: boolean;
  note?: string;
  every: string[];
  cron: string[];
  timezone?: string;
  overlap: string;
  catchupWindowSeconds: number;
  pauseOnFailure: boolean;
  spec?: RunSpec;
  contentKey?: string;
  nextRuns: string[];
  recent: ScheduleTick[];
  runningTicks: string[];
  actionsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
  createdAt: string;
  updatedAt?: string;
}

export interface BackfillOptions {
  start: Date;
  end: Date;
  /** Default: the schedule's own policy (with skip, only the first of many overdue ticks runs). */
  overlap?: OverlapPolicy;
}

interface ScheduleMemo {
  kind: 'retraining';
  contentKey: string;
  every?: string;
  cron?: string;
}

function duration(field: string, value: string): Duration {
  let ms: number;
  try {
    ms = msToNumber(value as Duration);
  } catch {
    ms = NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0)
    throw invalid(field, `"${value}" is not a duration such as "7 days", "12h" or "30m"`);
  return value as Duration;
}

function overlapPolicy(value: string | undefined): (typeof OVERLAP_POLICIES)[OverlapPolicy] {
  if (value === undefined) return OVERLAP_POLICIES.skip;
  const policy = (OVERLAP_POLICIES as Record<string, (typeof OVERLAP_POLICIES)[OverlapPolicy]>)[value];
  if (policy === undefined) throw invalid('overlap', `must be one of ${Object.keys(OVERLAP_POLICIES).join(', ')}`);
  return policy;
}

function overlapName(policy: string | undefined): string {
  if (policy === undefined) return 'skip';
  const entry = Object.entries(OVERLAP_POLICIES).find(([, v]) => v === policy);
  return entry ? entry[0] : policy.toLowerCase();
}

/** 300000 -> "5m", 604800000 -> "7d". */
export function formatEvery(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export function checkScheduleId(scheduleId: string): void {
  if (!SCHEDULE_ID_PATTERN.test(scheduleId))
    throw invalid('scheduleId', "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
}

export class RetrainingSchedules {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async create(opts: RetrainingScheduleOptions): Promise<RetrainingSchedule> {
    checkScheduleId(opts.scheduleId);
    let spec: RunSpec;
    try {
      spec = parseRunSpec(opts.spec);
    } catch (err) {
      if (!(err instanceof RunSpecError)) throw err;
      const issues = err.issues.map((i) => ({ field: `spec.${i.field}`, message: i.message }));
      throw new ControlError('invalid', err.message, issues);
    }
    if ((opts.every === undefined) === (opts.cron === undefined))
      throw invalid('every', 'give exactly one of every (an interval) or cron');
    const scheduleSpec: ScheduleSpec =
      opts.every !== undefined
        ? { intervals: [{ every: duration('every', opts.every) }] }
        : { cronExpressions: [opts.cron ?? ''], timezone: opts.timezone };
    const contentKey = runContentKey(spec);
    const input: ScheduledFineTuneInput = { scheduleId: opts.scheduleId, spec, options: opts.options };
    const memo: ScheduleMemo = { kind: 'retraining', contentKey, every: opts.every, cron: opts.cron };
    try {
      await this.client.schedule.create({
        scheduleId: opts.scheduleId,
        spec: scheduleSpec,
        action: {
          type: 'startWorkflow',
          workflowType: SCHEDULED_WORKFLOW_TYPE,
          args: [input],
          taskQueue: this.taskQueue,
          // The server appends each tick's time: ftsched-<schedule>-<time>; its run is ft-<schedule>-<time>.
          workflowId: `${SCHEDULED_WORKFLOW_PREFIX}${opts.scheduleId}`,
        },
        policies: {
          overlap: overlapPolicy(opts.overlap),
          catchupWindow: duration('catchupWindow', opts.catchupWindow ?? DEFAULT_CATCHUP_WINDOW),
          pauseOnFailure: opts.pauseOnFailure ?? false,
        },
        memo: { [SCHEDULE_MEMO_KEY]: memo },
        state: { paused: opts.paused ?? false, note: opts.note },
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) throw new ScheduleExistsError(opts.scheduleId);
      throw err;
    }
    return this.describe(opts.scheduleId);
  }

  /** The retraining schedules of this namespace (the janitor's schedule is not one). */
  async list(): Promise<RetrainingSchedule[]> {
    const ids: string[] = [];
    for await (const s of this.client.schedule.list()) {
      if (s.action?.type === 'startWorkflow' && s.action.workflowType === SCHEDULED_WORKFLOW_TYPE)
        ids.push(s.scheduleId);
    }
    // Describe each: the summaries lack policies and counters. A schedule deleted meanwhile is skipped.
    const described = await Promise.all(
      ids
        .sort()
        .map((id) =>
          this.describe(id).catch((err: unknown) =>
            err instanceof ScheduleNotFoundError ? undefined : Promise.reject(err),
          ),
        ),
    );
    return described.filter((s): s is RetrainingSchedule => s !== undefined);
  }

  async describe(scheduleId: string): Promise<RetrainingSchedule> {
    return toRetrainingSchedule(await this.call(scheduleId, (h) => h.describe()));
  }

  async pause(scheduleId: string, note?: string): Promise<RetrainingSchedule> {
    await this.call(scheduleId, (h) => h.pause(note ?? 'paused with finetune-flow'));
    return this.describe(scheduleId);
  }

  async unpause(scheduleId: string, note?: string): Promise<RetrainingSchedule> {
    await this.call(scheduleId, (h) => h.unpause(note ?? 'unpaused with finetune-flow'));
    return this.describe(scheduleId);
  }

  /**
   * Runs a tick now, under the schedule's own overlap policy (the SDK's trigger() would default to
   * ALLOW_ALL): with skip, a trigger while a tick runs is skipped and counted.
   */
  async trigger(scheduleId: string): Promise<void> {
    await this.call(scheduleId, async (h) => {
      const d = await h.describe();
      await h.trigger(d.policies.overlap);
    });
  }

  /** Runs the ticks that fell between start and end (e.g. while the schedule was paused). */
  async backfill(scheduleId: string, opts: BackfillOptions): Promise<void> {
    if (!(opts.start.getTime() < opts.end.getTime())) throw invalid('start', 'must be before end');
    const overlap = opts.overlap !== undefined ? overlapPolicy(opts.overlap) : undefined;
    await this.call(scheduleId, (h) => h.backfill({ start: opts.start, end: opts.end, overlap }));
  }

  /** Deletes the schedule; a tick that is running goes on (cancel its run to stop it). */
  async delete(scheduleId: string): Promise<void> {
    await this.call(scheduleId, (h) => h.delete());
  }

  private async call<T>(scheduleId: string, body: (handle: ScheduleHandle) => Promise<T>): Promise<T> {
    checkScheduleId(scheduleId);
    try {
      return await body(this.client.schedule.getHandle(scheduleId));
    } catch (err) {
      if (err instanceof SdkScheduleNotFoundError) throw new ScheduleNotFoundError(scheduleId);
      throw err;
    }
  }
}

function scheduleMemo(memo: Record<string, unknown> | undefined): ScheduleMemo | undefined {
  const value = memo?.[SCHEDULE_MEMO_KEY];
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'retraining'
    ? (value as ScheduleMemo)
    : undefined;
}

export function toRetrainingSchedule(d: ScheduleDescription): RetrainingSchedule {
  const memo = scheduleMemo(d.memo);
  const input =
    d.action.workflowType === SCHEDULED_WORKFLOW_TYPE
      ? (d.action.args?.[0] as ScheduledFineTuneInput | undefined)
      : undefined;
  const tickRunId = (tickId: string) =>
    `ft-${tickId.startsWith(SCHEDULED_WORKFLOW_PREFIX) ? tickId.slice(SCHEDULED_WORKFLOW_PREFIX.length) : tickId}`;
  return {
    scheduleId: d.scheduleId,
    object: 'fine_tune.schedule',
    paused: d.state.paused,
    note: d.state.note || undefined,
    every: (d.spec.intervals ?? []).map((i) => memo?.every ?? formatEvery(Number(i.every))),
    cron: memo?.cron !== undefined ? [memo.cron] : [],
    timezone: d.spec.timezone,
    overlap: overlapName(d.policies.overlap),
    catchupWindowSeconds: Math.round(d.policies.catchupWindow / 1000),
    pauseOnFailure: d.policies.pauseOnFailure,
    spec: input?.spec,
    contentKey: memo?.contentKey,
    nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
    recent: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      tickId: a.action.workflow.workflowId,
      runId: tickRunId(a.action.workflow.workflowId),
    })),
    runningTicks: d.info.runningActions.map((a) => a.workflow.workflowId),
    actionsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    createdAt: d.info.createdAt.toISOString(),
    updatedAt: d.info.lastUpdatedAt?.toISOString(),
  };
}
