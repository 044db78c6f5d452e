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
import { msNumberToTs, msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';
import { RunSpecError, parseRunSpec, type RunSpec } from '../runSpec/schema';
import { runContentKey } from '../runSpec/contentKey';
import { SCHEDULED_WORKFLOW_PREFIX, type FineTuneOptions, type ScheduledFineTuneInput } from '../workflows/definitions';
import { ENV } from '../config/env';
import { DIVISIONS } from '../config/searchAttributes';
import { tickStaticMetadata } from '../workflows/uiText';
import { inDivision } from './divisions';
import { ControlError, ScheduleExistsError, ScheduleNotFoundError, invalid } from './errors';
import { RESERVED_SCHEDULE_IDS, SCHEDULE_MEMO_KEY, SCHEDULED_WORKFLOW_TYPE, isRetrainingSchedule } from './ownership';
import { reportScheduleAction, type ScheduleActionReport } from './scheduleActions';

export { SCHEDULE_MEMO_KEY, SCHEDULED_WORKFLOW_TYPE } from './ownership';
export const SCHEDULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The operator's minimum time between two ticks of a retraining schedule (a duration; "0" for none). */
export const SCHEDULE_MIN_INTERVAL_ENV = ENV.scheduleMinInterval;
export const DEFAULT_SCHEDULE_MIN_INTERVAL = '5 minutes';

/** Parses a minimum interval setting; throws naming the variable when it is not a duration. */
export function parseMinInterval(value: string | undefined, where: string = SCHEDULE_MIN_INTERVAL_ENV): number {
  const text = value === undefined || value.trim() === '' ? DEFAULT_SCHEDULE_MIN_INTERVAL : value.trim();
  let ms: number;
  try {
    ms = msToNumber(text as Duration);
  } catch {
    ms = NaN;
  }
  if (!Number.isFinite(ms) || ms < 0)
    throw new Error(`${where} must be a duration such as "5m" or "1 hour", or "0" for no minimum (got "${text}")`);
  return ms;
}

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
  /** From (inclusive). */
  start: Date;
  /** To (inclusive). */
  end: Date;
  /** Default: the schedule's own policy (with skip, only the first of many overdue ticks runs). */
  overlap?: OverlapPolicy;
  /** How long to wait for the schedule to act on every tick before reporting; default 10 s. */
  waitSeconds?: number;
}

export interface TriggerOptions {
  /** How long to wait for the schedule to act on the tick before reporting; default 10 s. */
  waitSeconds?: number;
}

export type { ScheduleActionReport } from './scheduleActions';

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

function waitMs(field: string, seconds: number | undefined): number {
  if (seconds === undefined) return 10_000;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 300)
    throw invalid(field, 'must be a number of seconds from 0 to 300');
  return seconds * 1000;
}

/** The smallest gap between consecutive times, in ms (Infinity for fewer than two). */
function smallestGap(times: Date[]): number {
  let gap = Infinity;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i].getTime() - times[i - 1].getTime());
  return gap;
}

export interface RetrainingSchedulesOptions {
  /** The minimum time between two ticks, in ms; default 5 minutes (FTFLOW_SCHEDULE_MIN_INTERVAL). */
  minIntervalMs?: number;
}

export class RetrainingSchedules {
  private readonly minIntervalMs: number;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    opts: RetrainingSchedulesOptions = {},
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? parseMinInterval(undefined);
  }

  private tooOften(field: 'every' | 'cron', gapMs: number): ControlError {
    return invalid(
      field,
      `ticks would come ${formatEvery(gapMs)} apart; a retraining schedule's ticks must be at least ${formatEvery(this.minIntervalMs)} apart (the operator's ${SCHEDULE_MIN_INTERVAL_ENV})`,
    );
  }

  async create(opts: RetrainingScheduleOptions): Promise<RetrainingSchedule> {
    checkScheduleId(opts.scheduleId);
    if (RESERVED_SCHEDULE_IDS.includes(opts.scheduleId))
      throw invalid('scheduleId', `${opts.scheduleId} is reserved for the service's own schedule; choose another id`);
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
    if (opts.timezone !== undefined && opts.cron === undefined)
      throw invalid('timezone', 'applies to cron only (an interval does not depend on the time zone)');
    if (opts.every !== undefined) {
      const every = msToNumber(duration('every', opts.every));
      if (every < this.minIntervalMs) throw this.tooOften('every', every);
    }
    if (opts.cron !== undefined && opts.cron.trim() === '')
      throw invalid('cron', 'is empty; give a cron expression such as "0 3 * * 1"');
    const scheduleSpec: ScheduleSpec =
      opts.every !== undefined
        ? { intervals: [{ every: duration('every', opts.every) }] }
        : { cronExpressions: [opts.cron ?? ''], timezone: opts.timezone };
    const contentKey = runContentKey(spec);
    const input: ScheduledFineTuneInput = { scheduleId: opts.scheduleId, spec, options: opts.options };
    const memo: ScheduleMemo = { kind: 'retraining', contentKey, every: opts.every, cron: opts.cron };
    // A cron's spacing is known once Temporal has compiled it: such a schedule is created paused, its next
    // ticks are read, and it is deleted if they come too often, or unpaused as asked.
    const checkCron = opts.cron !== undefined;
    const paused = opts.paused ?? false;
    const policies = {
      overlap: overlapPolicy(opts.overlap),
      catchupWindow: duration('catchupWindow', opts.catchupWindow ?? DEFAULT_CATCHUP_WINDOW),
      pauseOnFailure: opts.pauseOnFailure ?? false,
    };
    try {
      // A tick starts in the schedule ticks' namespace division: the default workflow list shows the run it
      // starts, not the tick beside it (src/control/divisions.ts).
      await inDivision(DIVISIONS.scheduleTicks, (typedSearchAttributes) =>
        this.client.schedule.create({
          scheduleId: opts.scheduleId,
          spec: scheduleSpec,
          action: {
            type: 'startWorkflow',
            workflowType: SCHEDULED_WORKFLOW_TYPE,
            args: [input],
            taskQueue: this.taskQueue,
            // The server appends each tick's time: ftsched-<schedule>-<time>; its run is ft-<schedule>-<time>.
            workflowId: `${SCHEDULED_WORKFLOW_PREFIX}${opts.scheduleId}`,
            typedSearchAttributes,
            ...tickStaticMetadata(opts.scheduleId, spec),
          },
          policies,
          memo: { [SCHEDULE_MEMO_KEY]: memo },
          state: { paused: paused || checkCron, note: opts.note },
        }),
      );
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) throw new ScheduleExistsError(opts.scheduleId);
      // The SDK turns the server's INVALID_ARGUMENT into a TypeError: a cron or time zone it cannot read.
      if (err instanceof TypeError && opts.cron !== undefined) {
        const field = opts.timezone !== undefined && /time ?zone|location/i.test(err.message) ? 'timezone' : 'cron';
        throw invalid(field, `${err.message.replace(/^invalid schedule spec:\s*/i, '')}`);
      }
      throw err;
    }
    if (checkCron) {
      const handle = this.client.schedule.getHandle(opts.scheduleId);
      const next = (await handle.describe()).info.nextActionTimes;
      const gap = smallestGap(next);
      if (next.length === 0 || gap < this.minIntervalMs) {
        await handle.delete();
        throw next.length === 0
          ? invalid('cron', 'never comes: the expression matches no future time')
          : this.tooOften('cron', gap);
      }
      if (!paused) await handle.unpause(opts.note ?? '');
    }
    return this.describe(opts.scheduleId);
  }

  /** The retraining schedules of this service (not the janitor's, not other applications'). */
  async list(): Promise<RetrainingSchedule[]> {
    const ids: string[] = [];
    for await (const s of this.client.schedule.list()) {
      if (s.action?.type === 'startWorkflow' && s.action.workflowType === SCHEDULED_WORKFLOW_TYPE)
        ids.push(s.scheduleId);
    }
    // Describe each (the summaries lack the task queue, policies and counters); describe() leaves out what
    // is not this service's. A schedule deleted meanwhile is skipped.
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
    return toRetrainingSchedule(await this.call(scheduleId, async (_h, d) => d));
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
   * ALLOW_ALL), and reports what the schedule did with it: started, skipped (a tick is still running and
   * the policy is skip) or buffered.
   */
  async trigger(scheduleId: string, opts: TriggerOptions = {}): Promise<ScheduleActionReport> {
    const wait = waitMs('waitSeconds', opts.waitSeconds);
    return this.call(scheduleId, async (h, before) => {
      await h.trigger(before.policies.overlap);
      return reportScheduleAction(h, before, {
        action: 'trigger',
        overlap: overlapName(before.policies.overlap),
        requested: 1,
        waitMs: wait,
        runIdOf: tickRunId,
      });
    });
  }

  /**
   * Runs the schedule's ticks from start to end, both included (e.g. those missed while it was paused),
   * and reports what the schedule did with them.
   */
  async backfill(scheduleId: string, opts: BackfillOptions): Promise<ScheduleActionReport> {
    if (!(opts.start.getTime() < opts.end.getTime())) throw invalid('start', 'must be before end');
    const overlap = opts.overlap !== undefined ? overlapPolicy(opts.overlap) : undefined;
    const wait = waitMs('waitSeconds', opts.waitSeconds);
    return this.call(scheduleId, async (h, before) => {
      // The ticks a backfill of [start, end] runs: the schedule's matching times after start - 1 ms.
      const matching = await this.client.workflowService.listScheduleMatchingTimes({
        namespace: this.client.options.namespace,
        scheduleId,
        startTime: msNumberToTs(opts.start.getTime() - 1),
        endTime: msNumberToTs(opts.end.getTime()),
      });
      await h.backfill({ start: opts.start, end: opts.end, overlap });
      return reportScheduleAction(h, before, {
        action: 'backfill',
        overlap: overlapName(overlap ?? before.policies.overlap),
        requested: matching.startTime?.length ?? 0,
        waitMs: wait,
        runIdOf: tickRunId,
      });
    });
  }

  /** Deletes the schedule; a tick that is running goes on (cancel its run to stop it). */
  async delete(scheduleId: string): Promise<void> {
    await this.call(scheduleId, (h) => h.delete());
  }

  /**
   * Every operation on one schedule: only a retraining schedule of this service is found; the janitor's
   * schedule and other applications' schedules are "no such schedule", as a missing one is.
   */
  private async call<T>(
    scheduleId: string,
    body: (handle: ScheduleHandle, description: ScheduleDescription) => Promise<T>,
  ): Promise<T> {
    checkScheduleId(scheduleId);
    const handle = this.client.schedule.getHandle(scheduleId);
    try {
      const description = await handle.describe();
      if (!isRetrainingSchedule(description, this.taskQueue)) throw new ScheduleNotFoundError(scheduleId);
      return await body(handle, description);
    } catch (err) {
      if (err instanceof SdkScheduleNotFoundError) throw new ScheduleNotFoundError(scheduleId);
      throw err;
    }
  }
}

/** The run a retraining tick starts: ftsched-<schedule>-<time> starts ft-<schedule>-<time>. */
function tickRunId(tickId: string): string {
  return `ft-${tickId.startsWith(SCHEDULED_WORKFLOW_PREFIX) ? tickId.slice(SCHEDULED_WORKFLOW_PREFIX.length) : tickId}`;
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
