// Runs the janitor (src/workflows/janitor.ts) now or on its schedule, and shows what it last did.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError as SdkScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowIdConflictPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import {
  JANITOR_SCHEDULE_ID,
  JANITOR_WORKFLOW_ID,
  type JanitorInput,
  type JanitorReport,
} from '../workflows/definitions';
import type { janitor } from '../workflows/janitor';
import { DIVISIONS } from '../config/searchAttributes';
import { janitorStaticMetadata } from '../workflows/uiText';
import { inDivision } from './divisions';
import { ScheduleNotFoundError } from './errors';
import { JANITOR_WORKFLOW_TYPE, isJanitorSchedule } from './ownership';
import { reportScheduleAction, type ScheduleActionReport } from './scheduleActions';
import { formatEvery } from './schedules';

export const DEFAULT_JANITOR_EVERY = '5 minutes';

export interface JanitorScheduleOptions {
  /** Default ftflow-janitor. */
  scheduleId?: string;
  /** Default every 5 minutes. */
  every?: string;
  input?: JanitorInput;
}

export interface JanitorScheduleInfo {
  scheduleId: string;
  every: string[];
  paused: boolean;
  note?: string;
  nextRuns: string[];
  recent: { tickId: string; takenAt: string }[];
  /** What the latest finished sweep did. */
  lastReport?: JanitorReport & { tickId: string };
}

export class JanitorControl {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /**
   * Sweeps now and returns the report. Concurrent callers share one sweep. Like the scheduled sweeps, it is
   * kept out of the default workflow list (its namespace division, src/control/divisions.ts).
   */
  async runNow(input: JanitorInput = {}): Promise<JanitorReport> {
    const handle = await inDivision(DIVISIONS.janitor, (typedSearchAttributes) =>
      this.client.workflow.start<typeof janitor>('janitor', {
        taskQueue: this.taskQueue,
        workflowId: `${JANITOR_WORKFLOW_ID}-now`,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        typedSearchAttributes,
        ...janitorStaticMetadata(input),
      }),
    );
    return handle.result();
  }

  /** Creates the janitor's schedule, or brings an existing one to these settings (its paused state stays). */
  async ensureSchedule(opts: JanitorScheduleOptions = {}): Promise<JanitorScheduleInfo> {
    const scheduleId = opts.scheduleId ?? JANITOR_SCHEDULE_ID;
    const every = (opts.every ?? DEFAULT_JANITOR_EVERY) as Duration;
    const input = opts.input ?? {};
    const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' as Duration };
    // Every sweep starts in the janitor's namespace division: 12 sweeps an hour stay out of the default list.
    // An existing schedule is brought to these settings too (so is one created before the division).
    await inDivision(DIVISIONS.janitor, async (typedSearchAttributes) => {
      const action: ScheduleOptionsStartWorkflowAction<typeof janitor> = {
        type: 'startWorkflow',
        workflowType: JANITOR_WORKFLOW_TYPE,
        args: [input],
        taskQueue: this.taskQueue,
        // Each tick is <schedule id>-<time>; the default schedule's ticks are ftflow-janitor-<time>.
        workflowId: scheduleId,
        typedSearchAttributes,
        ...janitorStaticMetadata(input, String(every)),
      };
      try {
        await this.client.schedule.create({ scheduleId, spec: { intervals: [{ every }] }, action, policies });
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        await this.client.schedule
          .getHandle(scheduleId)
          .update((prev) => ({ ...prev, spec: { intervals: [{ every }] }, action, policies }));
      }
    });
    return this.describeSchedule(scheduleId);
  }

  async describeSchedule(scheduleId: string = JANITOR_SCHEDULE_ID): Promise<JanitorScheduleInfo> {
    const d = await this.call(scheduleId, async (_h, description) => description);
    const running = new Set(d.info.runningActions.map((a) => a.workflow.workflowId));
    const recent = d.info.recentActions.map((a) => ({
      tickId: a.action.workflow.workflowId,
      takenAt: a.takenAt.toISOString(),
    }));
    const lastDone = [...recent].reverse().find((r) => !running.has(r.tickId));
    let lastReport: JanitorScheduleInfo['lastReport'];
    if (lastDone) {
      try {
        lastReport = {
          ...(await this.client.workflow.getHandle<typeof janitor>(lastDone.tickId).result()),
          tickId: lastDone.tickId,
        };
      } catch {
        lastReport = undefined; // that sweep failed; its history says why
      }
    }
    return {
      scheduleId,
      every: (d.spec.intervals ?? []).map((i) => formatEvery(Number(i.every))),
      paused: d.state.paused,
      note: d.state.note || undefined,
      nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
      recent,
      lastReport,
    };
  }

  /** Starts a sweep on the schedule now (skipped if one is running) and reports what the schedule did. */
  async trigger(
    scheduleId: string = JANITOR_SCHEDULE_ID,
    opts: { waitSeconds?: number } = {},
  ): Promise<ScheduleActionReport> {
    return this.call(scheduleId, async (h, before) => {
      await h.trigger(ScheduleOverlapPolicy.SKIP);
      return reportScheduleAction(h, before, {
        action: 'trigger',
        overlap: 'skip',
        requested: 1,
        waitMs: (opts.waitSeconds ?? 10) * 1000,
      });
    });
  }

  /** Pauses the sweeps (the billing safety net) until unpause; the note says why. */
  async pause(note?: string, scheduleId: string = JANITOR_SCHEDULE_ID): Promise<JanitorScheduleInfo> {
    await this.call(scheduleId, (h) => h.pause(note ?? 'janitor paused with finetune-flow'));
    return this.describeSchedule(scheduleId);
  }

  async unpause(note?: string, scheduleId: string = JANITOR_SCHEDULE_ID): Promise<JanitorScheduleInfo> {
    await this.call(scheduleId, (h) => h.unpause(note ?? 'janitor unpaused with finetune-flow'));
    return this.describeSchedule(scheduleId);
  }

  /** Operations on the janitor's schedule: a schedule of that id that does not run the janitor is not it. */
  private async call<T>(
    scheduleId: string,
    body: (handle: ScheduleHandle, description: ScheduleDescription) => Promise<T>,
  ): Promise<T> {
    const handle = this.client.schedule.getHandle(scheduleId);
    try {
      const description = await handle.describe();
      if (!isJanitorSchedule(description)) throw new ScheduleNotFoundError(scheduleId);
      return await body(handle, description);
    } catch (err) {
      if (err instanceof SdkScheduleNotFoundError) throw new ScheduleNotFoundError(scheduleId);
      throw err;
    }
  }
}
