// What belongs to this service in a namespace that other applications share. Every run operation of the
// typed client (and so of the CLI and the HTTP API) reads a run through describeServiceRun, and every
// schedule operation checks isRetrainingSchedule or isJanitorSchedule, so an id that names anything else
// is answered exactly like an id nobody uses: "no such run" / "no such schedule" (404, exit 5).
//
// The rule for a run: its workflow type is one of the service's run types AND it runs on the service's
// task queue. Both are facts of the execution itself (no search attribute to register or to trust), runs
// started before this check existed qualify, and the pair is what makes it this service's: a workflow
// of type fineTune on this task queue is executed by this service's workers and by nobody else. Nothing
// a caller of the client, CLI or API can send chooses either (the client always starts `fineTune` on its
// own queue); a party that can start workflows in the namespace directly can fake any marker, a search
// attribute included, so none would be stronger.
//
// The rule for a retraining schedule: its action starts `scheduledFineTune` on the service's task queue
// under the workflow id `ftsched-<schedule id>`, and its memo marks it `kind: retraining`; all of which
// RetrainingSchedules.create writes and nothing else does. The janitor's schedule starts `janitor`.
import {
  WorkflowNotFoundError,
  type Client,
  type ScheduleDescription,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { JANITOR_SCHEDULE_ID, SCHEDULED_WORKFLOW_PREFIX } from '../workflows/definitions';
import type { fineTune } from '../workflows/fineTune';
import { RunNotFoundError } from './errors';
import { FINE_TUNE_WORKFLOW_TYPE } from '../config/visibility';

/** The workflow types that are runs (what get, events, cancel, resume, list accept). */
export const RUN_WORKFLOW_TYPES: readonly string[] = [FINE_TUNE_WORKFLOW_TYPE];
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const SCHEDULE_MEMO_KEY = 'ftflow';
export const SCHEDULED_WORKFLOW_TYPE = 'scheduledFineTune';
export const JANITOR_WORKFLOW_TYPE = 'janitor';
/** Schedule ids a retraining schedule may not take. */
export const RESERVED_SCHEDULE_IDS: readonly string[] = [JANITOR_SCHEDULE_ID];

export function isServiceRun(execution: { type: string; taskQueue: string }, taskQueue: string): boolean {
  return RUN_WORKFLOW_TYPES.includes(execution.type) && execution.taskQueue === taskQueue;
}

export interface ServiceRun {
  description: WorkflowExecutionDescription;
  /** A handle on exactly the execution that was checked (not "whatever runs under this id later"). */
  handle: WorkflowHandle<typeof fineTune>;
}

/** The run's latest execution, if the id names a run of this service; otherwise RunNotFoundError. */
export async function describeServiceRun(temporal: Client, taskQueue: string, runId: string): Promise<ServiceRun> {
  if (!RUN_ID_PATTERN.test(runId)) throw new RunNotFoundError(runId);
  let description: WorkflowExecutionDescription;
  try {
    description = await temporal.workflow.getHandle(runId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(runId);
    throw err;
  }
  if (!isServiceRun(description, taskQueue)) throw new RunNotFoundError(runId);
  return { description, handle: temporal.workflow.getHandle<typeof fineTune>(runId, description.runId) };
}

/** Created by RetrainingSchedules.create for this task queue (see the rule above). */
export function isRetrainingSchedule(d: ScheduleDescription, taskQueue: string): boolean {
  const memo = d.memo?.[SCHEDULE_MEMO_KEY];
  return (
    d.action.type === 'startWorkflow' &&
    d.action.workflowType === SCHEDULED_WORKFLOW_TYPE &&
    d.action.taskQueue === taskQueue &&
    d.action.workflowId === `${SCHEDULED_WORKFLOW_PREFIX}${d.scheduleId}` &&
    memo !== null &&
    typeof memo === 'object' &&
    (memo as { kind?: unknown }).kind === 'retraining' &&
    !RESERVED_SCHEDULE_IDS.includes(d.scheduleId)
  );
}

/** The janitor's schedule: its action starts the janitor workflow. */
export function isJanitorSchedule(d: ScheduleDescription): boolean {
  return d.action.type === 'startWorkflow' && d.action.workflowType === JANITOR_WORKFLOW_TYPE;
}
