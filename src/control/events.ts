// What happened in a run, as a list of events read from its workflow histories (every execution of the
// run id, so a resumed run shows its first attempt too). Each event's id is made of the execution and
// the history event it comes from, so ids never change and serve as cursors.
import type { PayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type {
  CollectedMetrics,
  DeleteEndpointResult,
  JobOutcome,
  RegisteredModel,
  StagedDataset,
  SubmittedJob,
  ValidatedCompute,
  ResolvedModel,
  DeployedEndpoint,
} from '../activities/types';
import { metricsLine } from '../azure/liveTraining';

export type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
export type HistoryEvent = NonNullable<History['events']>[number];
type Failure = NonNullable<NonNullable<HistoryEvent['activityTaskFailedEventAttributes']>['failure']>;
type Payloads = NonNullable<NonNullable<HistoryEvent['activityTaskCompletedEventAttributes']>['result']>;

/** The first payload of an activity's result or a child's input, decoded; undefined when absent or undecodable. */
export function decodeFirst<T>(converter: PayloadConverter, payloads: Payloads | null | undefined): T | undefined {
  const first = payloads?.payloads?.[0];
  if (!first) return undefined;
  try {
    return converter.fromPayload<T>(first);
  } catch {
    return undefined;
  }
}

export type RunEventType =
  | 'run.started'
  | 'run.resumed'
  | 'run.cancel_requested'
  | 'run.succeeded'
  | 'run.failed'
  | 'run.cancelled'
  | 'run.terminated'
  | 'run.timed_out'
  | 'step.started'
  | 'step.completed'
  | 'step.failed'
  | 'step.cancelled'
  | 'step.timed_out'
  | 'job.submitted'
  | 'job.status'
  | 'metrics'
  | 'warning'
  | 'note'
  | 'endpoint.lifetime'
  // Webhook deliveries (src/control/webhookEvents.ts): one per attempt, and one when a delivery gave up.
  | 'webhook.delivered'
  | 'webhook.failed'
  | 'webhook.refused'
  | 'webhook.skipped'
  | 'webhook.gave_up';

export interface RunEvent {
  /** `<execution>.<history event>.<n>`: stable, and the cursor for the next page (`after`). */
  id: string;
  object: 'fine_tune.event';
  createdAt: string;
  level: 'info' | 'warn' | 'error';
  type: RunEventType;
  message: string;
  step?: string;
  data?: Record<string, unknown>;
}

/** Activities of a run that are not steps (webhooks: who listens), left out of its events. */
const INTERNAL_ACTIVITIES = new Set(['webhookAudience']);

/** The message of the innermost failure: "Activity task failed" wraps the reason. */
export function failureMessage(failure: Failure | null | undefined): string {
  let f = failure;
  while (f?.cause) f = f.cause;
  return f?.message ?? failure?.message ?? 'unknown failure';
}

/** A history event's time, ISO. */
export function eventTimestamp(event: HistoryEvent): string {
  const t = event.eventTime;
  const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
  return new Date(ms).toISOString();
}

/** Turns one execution's history into events. `resumed` marks an execution that restarted a closed run. */
export function eventsFromHistory(
  history: History,
  executionId: string,
  converter: PayloadConverter,
  resumed: boolean,
): RunEvent[] {
  const out: RunEvent[] = [];
  const activityNames = new Map<string, string>();
  const prefix = executionId.slice(0, 8);
  const decode = <T>(payloads: Payloads | null | undefined): T | undefined => decodeFirst<T>(converter, payloads);

  for (const event of history.events ?? []) {
    const eventId = String(event.eventId ?? out.length);
    const createdAt = eventTimestamp(event);
    let n = 0;
    const add = (
      type: RunEventType,
      message: string,
      extra: Partial<Pick<RunEvent, 'level' | 'step' | 'data'>> = {},
    ) => {
      out.push({
        id: `${prefix}.${eventId}.${n++}`,
        object: 'fine_tune.event',
        createdAt,
        level: extra.level ?? 'info',
        type,
        message,
        step: extra.step,
        data: extra.data,
      });
    };

    if (event.workflowExecutionStartedEventAttributes) {
      add(
        resumed ? 'run.resumed' : 'run.started',
        resumed ? 'run resumed: each step adopts what Azure already has' : 'run started',
      );
    } else if (event.workflowExecutionCancelRequestedEventAttributes) {
      add('run.cancel_requested', 'cancellation requested: cleanup runs before the run ends', { level: 'warn' });
    } else if (event.activityTaskScheduledEventAttributes) {
      const name = event.activityTaskScheduledEventAttributes.activityType?.name ?? 'activity';
      // Asking who listens to webhooks is not a step; the deliveries are events of their own.
      if (INTERNAL_ACTIVITIES.has(name)) continue;
      activityNames.set(eventId, name);
      add('step.started', `${name} started`, { step: name });
    } else if (event.activityTaskCompletedEventAttributes) {
      const attrs = event.activityTaskCompletedEventAttributes;
      if (!activityNames.has(String(attrs.scheduledEventId))) continue;
      const step = activityNames.get(String(attrs.scheduledEventId)) ?? 'activity';
      describeCompletion(step, decode<unknown>(attrs.result), add);
    } else if (event.activityTaskFailedEventAttributes) {
      const attrs = event.activityTaskFailedEventAttributes;
      if (!activityNames.has(String(attrs.scheduledEventId))) continue;
      const step = activityNames.get(String(attrs.scheduledEventId)) ?? 'activity';
      add('step.failed', `${step} failed: ${failureMessage(attrs.failure)}`, { step, level: 'error' });
    } else if (event.activityTaskCanceledEventAttributes) {
      const step = activityNames.get(String(event.activityTaskCanceledEventAttributes.scheduledEventId)) ?? 'activity';
      add('step.cancelled', `${step} cancelled`, { step, level: 'warn' });
    } else if (event.activityTaskTimedOutEventAttributes) {
      const attrs = event.activityTaskTimedOutEventAttributes;
      if (!activityNames.has(String(attrs.scheduledEventId))) continue;
      const step = activityNames.get(String(attrs.scheduledEventId)) ?? 'activity';
      add('step.timed_out', `${step} timed out: ${failureMessage(attrs.failure)}`, { step, level: 'error' });
    } else if (event.workflowExecutionUpdateCompletedEventAttributes) {
      const value = decode<{ expiresAt?: string | null }>(
        event.workflowExecutionUpdateCompletedEventAttributes.outcome?.success,
      );
      if (value)
        add(
          'endpoint.lifetime',
          value.expiresAt ? `endpoint kept alive until ${value.expiresAt}` : 'endpoint lifetime ended: deleting it now',
          { data: value },
        );
    } else if (event.workflowExecutionCompletedEventAttributes) {
      add('run.succeeded', 'run succeeded');
    } else if (event.workflowExecutionFailedEventAttributes) {
      add('run.failed', `run failed: ${failureMessage(event.workflowExecutionFailedEventAttributes.failure)}`, {
        level: 'error',
      });
    } else if (event.workflowExecutionCanceledEventAttributes) {
      add('run.cancelled', 'run cancelled; cleanup finished', { level: 'warn' });
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      const reason = event.workflowExecutionTerminatedEventAttributes.reason;
      add(
        'run.terminated',
        `run terminated${reason ? `: ${reason}` : ''}; no cleanup ran (the janitor deletes what it left)`,
        { level: 'error' },
      );
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      add('run.timed_out', 'run timed out; no cleanup ran (the janitor deletes what it left)', { level: 'error' });
    }
  }
  return out;
}

type Add = (type: RunEventType, message: string, extra?: Partial<Pick<RunEvent, 'level' | 'step' | 'data'>>) => void;

/**
 * Adds a step's completion, with what its result says in a few words, and the parts of the result
 * worth an event of their own: the job, its status, metrics, warnings.
 */
function describeCompletion(step: string, result: unknown, add: Add): void {
  const done = (detail?: string, data?: Record<string, unknown>) =>
    add('step.completed', `${step} completed${detail ? `: ${detail}` : ''}`, { step, data });
  const warnings = (list: string[] | undefined) => {
    for (const w of list ?? []) add('warning', w, { step, level: 'warn' });
  };
  if (result === undefined || result === null) return done();
  switch (step) {
    case 'resolveModel': {
      const model = result as ResolvedModel;
      done(`${model.name} v${model.version}`);
      return warnings(model.sizes?.warnings);
    }
    case 'validateCompute': {
      const compute = result as ValidatedCompute;
      done(`${compute.name} ${compute.vmSize}, ${compute.gpusPerNode} GPU(s) per node`);
      return warnings(compute.warnings);
    }
    case 'stageDataset': {
      const data = result as StagedDataset;
      const reused = Boolean(data.train?.reused && data.test?.reused && data.scoring?.reused);
      return done(
        `train ${data.train?.rows} rows, test ${data.test?.rows} rows${reused ? ' (already staged: nothing uploaded)' : ''}`,
        {
          train: data.train?.uri,
          test: data.test?.uri,
          reused,
        },
      );
    }
    case 'submitPipeline': {
      const job = result as SubmittedJob;
      done(job.jobName);
      add(
        'job.submitted',
        job.adopted ? `job ${job.jobName} adopted (it already existed)` : `job ${job.jobName} submitted`,
        {
          step,
          data: { jobName: job.jobName, adopted: job.adopted, displayName: job.displayName },
        },
      );
      for (const note of job.notes ?? []) add('note', note, { step });
      return warnings(job.warnings);
    }
    case 'awaitPipeline':
    case 'cancelPipeline': {
      const outcome = result as JobOutcome;
      done(outcome.status);
      // The follower's bounded `metrics` entries travel in its result: no history event of their own.
      for (const entry of Array.isArray(outcome.metricsLog) ? outcome.metricsLog : [])
        if (typeof entry.step === 'number')
          add('metrics', metricsLine(entry), { step, data: { ...entry, jobName: outcome.jobName } });
      return add('job.status', `job ${outcome.jobName} ${outcome.status}`, {
        step,
        data: {
          jobName: outcome.jobName,
          status: outcome.status,
          ...(outcome.studioUrl ? { studioUrl: outcome.studioUrl } : {}),
        },
      });
    }
    case 'collectMetrics': {
      const metrics = (result as CollectedMetrics).metrics ?? {};
      const shown = Object.entries(metrics)
        .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
        .join(' ');
      done(`${Object.keys(metrics).length} metrics`);
      return add('metrics', `metrics: ${shown || 'none logged'}`, { step, data: metrics });
    }
    case 'registerModel': {
      const model = result as RegisteredModel;
      return done(`${model.name}:${model.version}${model.adopted ? ' (adopted)' : ''}`, {
        name: model.name,
        version: model.version,
        adopted: model.adopted,
      });
    }
    case 'deployEndpoint': {
      const endpoint = result as DeployedEndpoint;
      return done(`${endpoint.endpointName} serving${endpoint.adopted ? ' (adopted)' : ''}`, {
        endpointName: endpoint.endpointName,
        adopted: endpoint.adopted,
      });
    }
    case 'deleteEndpoint': {
      const deletion = result as DeleteEndpointResult;
      return done(
        deletion.existed
          ? `${deletion.endpointName} deleted, confirmed gone`
          : `${deletion.endpointName}: nothing to delete`,
      );
    }
    default:
      return done();
  }
}

export interface EventPage {
  data: RunEvent[];
  hasMore: boolean;
  /** The id to pass as `after` for the next page (the last event of this page). */
  lastId: string | null;
}

/** A page of events after the cursor (oldest first); an unknown cursor is the caller's error. */
export function pageEvents(all: RunEvent[], after: string | undefined, limit: number): EventPage | undefined {
  let start = 0;
  if (after !== undefined) {
    const index = all.findIndex((e) => e.id === after);
    if (index < 0) return undefined;
    start = index + 1;
  }
  const data = all.slice(start, start + limit);
  return {
    data,
    hasMore: start + limit < all.length,
    lastId: data.length > 0 ? data[data.length - 1].id : (after ?? null),
  };
}

/** The result of the last completed attempt of `step` in one execution's history (undefined if none). */
export function stepResultFromHistory(history: History, converter: PayloadConverter, step: string): unknown {
  const names = new Map<string, string>();
  let found: unknown;
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) names.set(String(event.eventId), scheduled.activityType?.name ?? '');
    const done = event.activityTaskCompletedEventAttributes;
    if (done && names.get(String(done.scheduledEventId)) === step) found = decodeFirst<unknown>(converter, done.result);
  }
  return found;
}
