// Azure ML's job events as Event Grid delivers them, read into what the job watcher needs: which job
// changed and to what status. Both delivery schemas (Event Grid's own and CloudEvents 1.0) are parsed
// and checked by Microsoft's @azure/eventgrid deserializer; this file only maps them. A pipeline job is
// the root run of its experiment, so a RunStatusChanged whose runId is a followed job's name is that
// job's; events of other runs (pipeline steps, jobs finetune-flow did not tag) are ignored.
import { EventGridDeserializer, isSystemEvent } from '@azure/eventgrid';
import type { JobEvent } from '../config/jobEvents';
import { RUN_TAG } from './tags';

export const RUN_STATUS_CHANGED = 'Microsoft.MachineLearningServices.RunStatusChanged';
export const RUN_COMPLETED = 'Microsoft.MachineLearningServices.RunCompleted';
export const SUBSCRIPTION_VALIDATION = 'Microsoft.EventGrid.SubscriptionValidationEvent';

/**
 * The statuses worth a read at once: a terminal state ends the follower's wait, Running starts the live
 * training figures. Other changes (NotStarted, Queued, Preparing, Finalizing, ...) change nothing the run
 * acts on soon: the next polling cycle shows them. At 1,000 jobs finishing within minutes of each other,
 * Finalizing would double the wakes just when the Completed ones need the read allowance.
 */
export const WAKE_STATUSES: ReadonlySet<string> = new Set([
  'Running',
  'Completed',
  'Failed',
  'Canceled',
  'NotResponding',
  'Paused',
]);

export type Delivery =
  | { kind: 'validation'; validationCode: string }
  | {
      kind: 'events';
      /** The jobs to wake, once each (the last status given for a job in the delivery). */
      events: JobEvent[];
      /** Events that were not a job status change, or not worth a read. */
      ignored: number;
    };

/** Where an event's fields sit in either schema. */
interface AnyEvent {
  type: string;
  subject?: string;
  data: unknown;
}

const deserializer = new EventGridDeserializer();

/** A POST in the Event Grid schema: an array of events, or the subscription validation event. */
export async function readEventGridDelivery(body: unknown): Promise<Delivery> {
  const events = await deserializer.deserializeEventGridEvents(asRecordOrArray(body));
  const validation = events.find((e) => isSystemEvent(SUBSCRIPTION_VALIDATION, e));
  if (validation && isSystemEvent(SUBSCRIPTION_VALIDATION, validation))
    return { kind: 'validation', validationCode: validation.data.validationCode };
  return collect(events.map((e) => ({ type: e.eventType, subject: e.subject, data: e.data })));
}

/** A POST in the CloudEvents 1.0 schema (structured mode: one event, or a batch). */
export async function readCloudEventsDelivery(body: unknown): Promise<Delivery> {
  const events = await deserializer.deserializeCloudEvents(asRecordOrArray(body));
  return collect(events.map((e) => ({ type: e.type, subject: e.subject, data: e.data })));
}

/** The job an Azure ML run event is about, and its status; undefined for anything else. */
export function jobEventOf(event: AnyEvent): JobEvent | undefined {
  if (event.type !== RUN_STATUS_CHANGED && event.type !== RUN_COMPLETED) return undefined;
  const data = typeof event.data === 'object' && event.data !== null ? (event.data as Record<string, unknown>) : {};
  const tags = data['runTags'];
  // Only jobs finetune-flow tagged (a pipeline's step runs carry no tag of ours).
  if (typeof tags === 'object' && tags !== null && !(RUN_TAG in tags)) return undefined;
  const jobName = stringOf(data['runId']) ?? runIdFromSubject(event.subject);
  if (!jobName) return undefined;
  const status = event.type === RUN_COMPLETED ? 'Completed' : stringOf(data['runStatus']);
  return { jobName, ...(status !== undefined ? { status } : {}) };
}

/** `experiments/<experiment id>/runs/<run id>` → the run id. */
export function runIdFromSubject(subject: string | undefined): string | undefined {
  const match = /^experiments\/[^/]+\/runs\/([^/]+)$/.exec(subject ?? '');
  return match?.[1];
}

function collect(events: AnyEvent[]): Delivery {
  const byJob = new Map<string, JobEvent>();
  for (const e of events) {
    const job = jobEventOf(e);
    if (job && (job.status === undefined || WAKE_STATUSES.has(job.status))) byJob.set(job.jobName, job);
  }
  return { kind: 'events', events: [...byJob.values()], ignored: events.length - byJob.size };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The deserializer takes a JSON text, an object or an array; anything else is refused as it would be. */
function asRecordOrArray(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) throw new TypeError('the delivery is not a JSON object or array');
  return body as Record<string, unknown>;
}
