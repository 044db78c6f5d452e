// The job event relay: carries the job events the API received from Azure (Event Grid) to every worker,
// whichever process received them and wherever the follower runs, without an HTTP path into the workers
// and without touching any run's history. The API signals batches in; each worker holds an update that
// waits for events after its cursor. A window of the last events is kept; the relay continues as new when
// its history grows, carrying the window and the sequence. Runs no activity.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  JOB_EVENTS_SIGNAL,
  NEXT_JOB_EVENTS_UPDATE,
  type JobEvent,
  type JobEventRelayState,
  type NextJobEventsReply,
  type NextJobEventsRequest,
  type RelayedJobEvent,
} from '../config/jobEvents';

export const jobEventsSignal = defineSignal<[JobEvent[]]>(JOB_EVENTS_SIGNAL);
export const nextJobEventsUpdate = defineUpdate<NextJobEventsReply, [NextJobEventsRequest]>(NEXT_JOB_EVENTS_UPDATE);

/** Events kept for workers that fall behind (a worker further behind is told to poll everything). */
const WINDOW = 2000;
/** History events before continuing as new (a batch costs about ten with one worker waiting). */
const HISTORY_LIMIT = 5000;

export async function jobEventRelay(state: JobEventRelayState = { seq: 0, events: [] }): Promise<void> {
  let seq = state.seq;
  let events: RelayedJobEvent[] = state.events;
  let closing = false;

  setHandler(jobEventsSignal, (batch) => {
    for (const e of batch) {
      seq += 1;
      events.push({ jobName: e.jobName, ...(e.status !== undefined ? { status: e.status } : {}), seq });
    }
    if (events.length > WINDOW) events = events.slice(-WINDOW);
  });

  setHandler(nextJobEventsUpdate, async ({ after }) => {
    // -1 (a worker that just started): the cursor to wait from, at once.
    if (after < 0) return { events: [], next: seq, gap: false };
    // A cursor from a relay that started over: from now on.
    const from = after > seq ? seq : after;
    await condition(() => seq > from || closing);
    const oldest = events[0]?.seq ?? seq + 1;
    return { events: events.filter((e) => e.seq > from), next: seq, gap: seq > from && oldest > from + 1 };
  });

  const limit = state.historyLimit ?? HISTORY_LIMIT;
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > limit);
  // Waiting workers get what there is and ask the next run; signals in between are carried over.
  closing = true;
  await condition(allHandlersFinished);
  await continueAsNew<typeof jobEventRelay>({
    seq,
    events,
    ...(state.historyLimit !== undefined ? { historyLimit: state.historyLimit } : {}),
  });
}
