// What the API, the job event relay workflow and the workers agree on about pushed job events: the relay's
// workflow id, its signal and update names, and what one relayed event holds (docs/design.md, Job events).
// Imported by workflow code too: no Node built-ins here.

/** One relay per task queue (one deployment) carries the events from the API processes to its workers. */
export function jobEventRelayId(taskQueue: string): string {
  return `ftflow-job-event-relay-${taskQueue}`;
}
/** Signal (from the API): a batch of JobEvent. */
export const JOB_EVENTS_SIGNAL = 'jobEvents';
/** Update (from each worker): the events after a cursor, waiting until there are some. */
export const NEXT_JOB_EVENTS_UPDATE = 'nextJobEvents';

/** A job whose status changed, as an event said: a hint to read it now, never its state. */
export interface JobEvent {
  /** Azure ML job name (the pipeline's root run id). */
  jobName: string;
  /** The status the event reported, if it did. */
  status?: string;
}

export interface RelayedJobEvent extends JobEvent {
  seq: number;
}

export interface NextJobEventsRequest {
  /** The last sequence number this worker has seen; -1: only what comes from now on. */
  after: number;
}

export interface NextJobEventsReply {
  events: RelayedJobEvent[];
  /** The cursor for the next request. */
  next: number;
  /** Events after `after` were dropped from the relay's window before this worker asked: poll everything. */
  gap: boolean;
}

export interface JobEventRelayState {
  seq: number;
  events: RelayedJobEvent[];
  /** History events before continuing as new (default 5,000; tests use fewer). */
  historyLimit?: number;
}
