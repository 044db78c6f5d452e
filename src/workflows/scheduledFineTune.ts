// A retraining schedule's tick: defer to a running run that trains the same thing, or start the run
// as a child and wait for it, so the schedule's overlap policy and pause-on-failure see the real run.
import { ParentClosePolicy, executeChild, log, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { FINETUNE_SEARCH_ATTRIBUTES as SA } from '../config/searchAttributes';
import { runContentKey } from '../runSpec/contentKey';
import {
  RUN_MEMO_KEY,
  SCHEDULED_WORKFLOW_PREFIX,
  type RunMemo,
  type ScheduledFineTuneInput,
  type ScheduledFineTuneResult,
} from './definitions';
import { fineTune } from './fineTune';
import { summarizedActivities } from './activityOptions';
import { withLaterDefaults } from './compat';
import { runStaticMetadata } from './uiText';

const { findActiveRun } = summarizedActivities({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** The run id of a tick: the tick's own id (schedule id + time, set by the server) under the runs' prefix. */
export function scheduledRunId(tickWorkflowId: string): string {
  return `ft-${tickWorkflowId.startsWith(SCHEDULED_WORKFLOW_PREFIX) ? tickWorkflowId.slice(SCHEDULED_WORKFLOW_PREFIX.length) : tickWorkflowId}`;
}

export async function scheduledFineTune(input: ScheduledFineTuneInput): Promise<ScheduledFineTuneResult> {
  const { spec, scheduleId } = input;
  const contentKey = runContentKey(spec);
  const running = await findActiveRun(contentKey);
  if (running !== null) {
    log.info('a run training the same model and data is running; this tick defers to it', {
      runId: running,
      contentKey,
    });
    setCurrentDetails(`**Deferred** to ${running}, which trains the same model and data`);
    return { scheduleId, runId: running, outcome: 'deferred' };
  }
  const runId = scheduledRunId(workflowInfo().workflowId);
  const memo: RunMemo = { spec, options: input.options, source: 'schedule', scheduleId };
  setCurrentDetails(`**Running** ${runId} and waiting for it (the schedule's overlap policy sees this tick running)`);
  await executeChild(fineTune, {
    workflowId: runId,
    // The run's summary and details in the UI, as a run started by the client gets them (metadata of the
    // start command, not a command of its own: ticks in flight replay unchanged).
    ...runStaticMetadata(withLaterDefaults(spec), { startedBy: { source: 'schedule', scheduleId } }),
    args: [{ spec, options: input.options }],
    // Ending the tick (deleted schedule, terminated tick) cancels the run, so its cleanup still runs.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    memo: { [RUN_MEMO_KEY]: memo },
    typedSearchAttributes: [
      { key: SA.runKey, value: runId },
      { key: SA.contentKey, value: contentKey },
      { key: SA.model, value: `${spec.model.registry}/${spec.model.name}` },
      { key: SA.dataset, value: spec.dataset.source },
      { key: SA.status, value: 'running' },
    ],
  });
  return { scheduleId, runId, outcome: 'succeeded' };
}
