// What a webhook delivery carries: the payload (Standard Webhooks' { type, timestamp, data } shape), the
// message id receivers de-duplicate on (the same on every retry of one event to every endpoint), and the
// types the run, the notification workflow and the delivery activity pass each other. Pure and free of
// Node built-ins: the workflows build payloads with it.
import type { RunWebhook, WebhookEventType } from '../runSpec/notifications';

export type { WebhookEventType } from '../runSpec/notifications';

/** What a run's event says; fields are present when the event has them. */
export interface WebhookEventData {
  /** The run id (the workflow id; the same across a resume). */
  runId: string;
  /** Temporal's id of the run's execution that sent the event (a resume starts a new one). */
  executionId: string;
  /** running, succeeded, failed, cancelled. */
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  /** Why it ended: succeeded, failed, cancelled, quality-gate-failed, training-budget-exceeded. */
  outcome?: string;
  /** registry/name of the base model. */
  model: string;
  /** Hugging Face id or "files". */
  dataset: string;
  /** run.step.completed: the step, and what it did in a few words. */
  step?: string;
  detail?: string;
  /** run.failed, run.cancelled: what ended it. */
  error?: string;
  metrics?: Record<string, number>;
  registeredModel?: { name: string; version: string };
  /** endpoint.ready, endpoint.deleted. */
  endpoint?: { name: string; scoringUri?: string; expiresAt?: string; deleted?: boolean };
}

/** The JSON body of every delivery. */
export interface WebhookPayload {
  type: WebhookEventType;
  /** When the event happened (ISO 8601), not when it was sent. */
  timestamp: string;
  data: WebhookEventData;
}

/**
 * The `webhook-id` of an event: made from the run's execution and the event's place in it, so every retry
 * (and a retry after a worker crash) carries the same id.
 */
export function messageIdFor(executionId: string, seq: number): string {
  return `msg_${executionId.replace(/[^A-Za-z0-9]/g, '')}_${seq}`;
}

/** The workflow id of an event's notification: under the run id, never mistaken for a run (runs start "ft-"). */
export function notificationWorkflowId(runId: string, executionId: string, seq: number): string {
  return `ftwh-${runId}-${executionId}-${seq}`;
}

/** Who an endpoint belongs to and how to find its secret: registered by an API key, or named by the run spec. */
export type WebhookTargetRef =
  { kind: 'registered'; owner: string; endpointId: string } | { kind: 'run'; runId: string; index: number };

export interface WebhookTarget {
  ref: WebhookTargetRef;
  url: string;
  /** How events and logs name it: the endpoint id (we_...) or run:<index>. */
  label: string;
}

/** Exponential backoff between attempts (src/webhooks/backoff.ts). */
export interface RetrySchedule {
  firstDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** No attempt starts later than this after the first one. */
  giveUpAfterMs: number;
}

/** What the run hands the notification workflow: the event, ready to send, and where its endpoints are found. */
export interface WebhookNotificationInput {
  runId: string;
  executionId: string;
  messageId: string;
  type: WebhookEventType;
  /** The payload as sent and signed, byte for byte on every attempt. */
  body: string;
  /** The API key whose registered endpoints hear of the run. */
  owner?: string;
  /** The run spec's own endpoints. */
  runWebhooks: RunWebhook[];
}

/** What webhookTargets answers: the endpoints that hear this event and the worker's delivery settings. */
export interface WebhookTargets {
  targets: WebhookTarget[];
  schedule: RetrySchedule;
  /** One attempt's request timeout. */
  attemptTimeoutMs: number;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'refused' | 'removed';

/** One attempt, as the delivery activity reports it (recorded in history: no response body, no secret). */
export interface DeliveryAttempt {
  outcome: DeliveryOutcome;
  /** The HTTP status, when an answer came. */
  status?: number;
  durationMs: number;
  /** What went wrong, in our words (never the receiver's). */
  error?: string;
  /** When the attempt was sent (ISO). */
  sentAt: string;
  /** How many signatures it carried (2 during a rotation's overlap). */
  signatures: number;
}

export interface TargetReport {
  label: string;
  host: string;
  outcome: 'delivered' | 'gave-up' | 'refused' | 'removed';
  attempts: number;
}

export interface WebhookNotificationReport {
  messageId: string;
  type: WebhookEventType;
  targets: TargetReport[];
}

/** The host (and port) of a URL, for events and logs: never its path or query, which may carry tokens. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
