// A run's webhook deliveries as run events: the run's history names the notification workflows it started
// (one per event), and each of their histories holds every attempt (src/workflows/webhookNotification.ts):
// one event per attempt (webhook.delivered, webhook.failed, webhook.refused, webhook.skipped) and one when a
// delivery gave up. What an attempt recorded is the status code and the duration: never the receiver's body.
import type { PayloadConverter } from '@temporalio/common';
import type {
  DeliveryAttempt,
  WebhookNotificationInput,
  WebhookNotificationReport,
  WebhookTarget,
} from '../webhooks/events';
import { hostOf } from '../webhooks/events';
import { WEBHOOK_NOTIFICATION_WORKFLOW_TYPE } from '../webhooks/registry';
import { decodeFirst, eventTimestamp, type History, type RunEvent, type RunEventType } from './events';

/** The notification workflows a run's execution started: their workflow ids and (once started) run ids. */
export function notificationsOf(history: History): { workflowId: string; runId?: string }[] {
  const found = new Map<string, string | undefined>();
  for (const event of history.events ?? []) {
    const initiated = event.startChildWorkflowExecutionInitiatedEventAttributes;
    if (initiated?.workflowType?.name === WEBHOOK_NOTIFICATION_WORKFLOW_TYPE && initiated.workflowId)
      found.set(initiated.workflowId, undefined);
    const started = event.childWorkflowExecutionStartedEventAttributes;
    const id = started?.workflowExecution?.workflowId;
    if (started && id && found.has(id)) found.set(id, started.workflowExecution?.runId ?? undefined);
  }
  return [...found.entries()].map(([workflowId, runId]) => ({ workflowId, ...(runId ? { runId } : {}) }));
}

const EVENT_OF: Record<DeliveryAttempt['outcome'], { type: RunEventType; level: RunEvent['level'] }> = {
  delivered: { type: 'webhook.delivered', level: 'info' },
  failed: { type: 'webhook.failed', level: 'warn' },
  refused: { type: 'webhook.refused', level: 'error' },
  removed: { type: 'webhook.skipped', level: 'warn' },
};

/** One notification's history as run events; their ids start with the event's message id. */
export function webhookEventsFromHistory(history: History, converter: PayloadConverter): RunEvent[] {
  const out: RunEvent[] = [];
  const decode = <T>(payloads: Parameters<typeof decodeFirst>[1]): T | undefined => decodeFirst<T>(converter, payloads);
  const events = history.events ?? [];
  const start = events[0]?.workflowExecutionStartedEventAttributes;
  const input = decode<WebhookNotificationInput>(start?.input);
  if (!input) return out;
  // The message id names the event (run execution and sequence): ids stay unique across notifications.
  const prefix = input.messageId;
  const attempts = new Map<string, { target: WebhookTarget; attempt: number }>();
  const perTarget = new Map<string, number>();

  for (const event of events) {
    const eventId = String(event.eventId ?? out.length);
    let n = 0;
    const add = (type: RunEventType, level: RunEvent['level'], message: string, data: Record<string, unknown>) =>
      out.push({
        id: `${prefix}.${eventId}.${n++}`,
        object: 'fine_tune.event',
        createdAt: eventTimestamp(event),
        level,
        type,
        message,
        data: { messageId: input.messageId, event: input.type, ...data },
      });
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'deliverWebhook') {
      const args = decode<{ target: WebhookTarget }>(scheduled.input);
      if (args?.target) {
        const attempt = (perTarget.get(args.target.label) ?? 0) + 1;
        perTarget.set(args.target.label, attempt);
        attempts.set(eventId, { target: args.target, attempt });
      }
      continue;
    }
    const completed = event.activityTaskCompletedEventAttributes;
    const failed = event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    const scheduledId = String(completed?.scheduledEventId ?? failed?.scheduledEventId ?? '');
    const which = attempts.get(scheduledId);
    if (which && (completed || failed)) {
      const { target, attempt } = which;
      const host = hostOf(target.url);
      const result = completed ? decode<DeliveryAttempt>(completed.result) : undefined;
      const outcome = result?.outcome ?? 'failed';
      const { type, level } = EVENT_OF[outcome];
      const how =
        result?.status !== undefined
          ? `${result.status} in ${result.durationMs} ms`
          : (result?.error ?? 'the attempt could not run');
      const verb = { delivered: 'delivered', failed: 'failed', refused: 'refused', removed: 'skipped' }[outcome];
      add(type, level, `webhook ${input.type} to ${target.label} (${host}) ${verb}: ${how} (attempt ${attempt})`, {
        endpoint: target.label,
        host,
        attempt,
        outcome,
        ...(result?.status !== undefined ? { status: result.status } : {}),
        ...(result ? { durationMs: result.durationMs, signatures: result.signatures } : {}),
        ...(result?.error ? { error: result.error } : {}),
      });
      continue;
    }
    const closed = event.workflowExecutionCompletedEventAttributes;
    if (closed) {
      const report = decode<WebhookNotificationReport>(closed.result);
      for (const t of report?.targets ?? [])
        if (t.outcome === 'gave-up')
          add(
            'webhook.gave_up',
            'error',
            `webhook ${input.type} to ${t.label} (${t.host}) gave up after ${t.attempts} attempts`,
            { endpoint: t.label, host: t.host, attempts: t.attempts },
          );
    }
  }
  return out;
}
