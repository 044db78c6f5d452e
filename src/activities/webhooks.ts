// Webhooks: who hears an event (the run's API key's registered endpoints, read from its registry workflow, and
// the run spec's own), and one delivery attempt, signed with the endpoint's active secrets (derived here from
// the operator key, never passed through Temporal). Reads, and one POST per call: the message id makes a
// repeated attempt (a retry after a worker died mid-request) the same message to the receiver.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { subscribedEvents, type RunWebhook, type WebhookEventType } from '../runSpec/notifications';
import { postWebhook } from '../webhooks/deliver';
import type { DeliveryAttempt, WebhookTarget, WebhookTargets } from '../webhooks/events';
import { registryWorkflowId, webhookEndpointsQuery, type RegisteredWebhook } from '../webhooks/registry';
import { activeRefs, missingKeyMessage, type SecretRef } from '../webhooks/secrets';
import { webhookHeaders } from '../webhooks/signing';
import type { ActivityDeps } from './deps';

export const WEBHOOK_USER_AGENT = 'finetune-flow-webhooks/1';

export interface WebhookAudienceInput {
  owner?: string;
  runWebhooks: RunWebhook[];
}

export interface WebhookTargetsInput extends WebhookAudienceInput {
  runId: string;
  type: WebhookEventType;
}

export interface DeliverWebhookInput {
  target: WebhookTarget;
  messageId: string;
  body: string;
}

/** The owner's registered endpoints; none when the owner never registered one. */
async function registeredEndpoints(deps: ActivityDeps, owner: string | undefined): Promise<RegisteredWebhook[]> {
  if (owner === undefined) return [];
  const handle = (await deps.temporal()).workflow.getHandle(registryWorkflowId(owner));
  try {
    return await handle.query(webhookEndpointsQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return [];
    throw err;
  }
}

export function makeWebhookAudience(deps: ActivityDeps) {
  /** The event types anyone listens to for this run: the run sends no notification for the others. */
  return async function webhookAudience(input: WebhookAudienceInput): Promise<WebhookEventType[]> {
    const heard = new Set<WebhookEventType>();
    for (const e of await registeredEndpoints(deps, input.owner))
      for (const t of subscribedEvents(e.events)) heard.add(t);
    for (const w of input.runWebhooks) for (const t of subscribedEvents(w.events)) heard.add(t);
    return [...heard];
  };
}

export function makeWebhookTargets(deps: ActivityDeps) {
  /** The endpoints that hear this event, and the worker's delivery settings. */
  return async function webhookTargets(input: WebhookTargetsInput): Promise<WebhookTargets> {
    const targets: WebhookTarget[] = [];
    for (const e of await registeredEndpoints(deps, input.owner)) {
      if (input.owner !== undefined && subscribedEvents(e.events).includes(input.type))
        targets.push({ ref: { kind: 'registered', owner: input.owner, endpointId: e.id }, url: e.url, label: e.id });
    }
    input.runWebhooks.forEach((w, index) => {
      if (subscribedEvents(w.events).includes(input.type))
        targets.push({ ref: { kind: 'run', runId: input.runId, index }, url: w.url, label: `run:${index}` });
    });
    const { schedule, attemptTimeoutMs } = deps.webhooks;
    return { targets, schedule, attemptTimeoutMs };
  };
}

export function makeDeliverWebhook(deps: ActivityDeps) {
  /** One attempt; its result (never the receiver's body) is recorded in the notification's history. */
  return async function deliverWebhook(input: DeliverWebhookInput): Promise<DeliveryAttempt> {
    const { target } = input;
    const now = new Date();
    const failed = (outcome: DeliveryAttempt['outcome'], error: string): DeliveryAttempt => ({
      outcome,
      error,
      durationMs: 0,
      sentAt: now.toISOString(),
      signatures: 0,
    });
    const settings = deps.webhooks;
    if (!settings.secrets) return failed('failed', `this worker cannot sign: ${missingKeyMessage()}`);
    let refs: SecretRef[];
    let url = target.url;
    if (target.ref.kind === 'registered') {
      const { owner, endpointId } = target.ref;
      const endpoint = (await registeredEndpoints(deps, owner)).find((e) => e.id === endpointId);
      if (!endpoint) return failed('removed', `endpoint ${endpointId} was removed`);
      refs = activeRefs(endpoint.secrets, now);
      url = endpoint.url;
    } else {
      refs = [settings.secrets.runRef(target.ref.runId, target.ref.index)];
    }
    let secrets: string[];
    try {
      secrets = refs.map((r) => settings.secrets!.secretOf(r));
    } catch (err) {
      return failed('failed', (err as Error).message);
    }
    if (secrets.length === 0) return failed('failed', `endpoint ${target.label} has no active secret`);
    const ctx = Context.current();
    const timestamp = Math.floor(Date.now() / 1000);
    return postWebhook({
      url,
      body: input.body,
      headers: webhookHeaders(secrets, input.messageId, timestamp, input.body, WEBHOOK_USER_AGENT),
      policy: settings.policy,
      timeoutMs: settings.attemptTimeoutMs,
      signatures: secrets.length,
      onWait: () => ctx.heartbeat(),
    });
  };
}
