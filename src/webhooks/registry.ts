// The per-key webhook registry: one long-lived workflow per API key (`ftflow-webhooks-<key id>`) holds that
// key's endpoints, changed by updates and read by a query. Its messages and types live here, below both the
// workflow (src/workflows/webhookRegistry.ts) and the code that reads it (the client's control layer, the
// delivery activities). Pure and free of Node built-ins.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { WebhookEventType } from '../runSpec/notifications';
import type { SecretRef } from './secrets';

export const WEBHOOK_REGISTRY_WORKFLOW_TYPE = 'webhookRegistry';
export const WEBHOOK_NOTIFICATION_WORKFLOW_TYPE = 'webhookNotification';

/** An owner is an API key id: the keys file's rule. */
export const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const OWNER_RULE =
  'an owner is an API key id: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Endpoints one key may register, at most (an operator may lower it: FTFLOW_WEBHOOK_MAX_ENDPOINTS). */
export const MAX_ENDPOINTS_PER_OWNER = 100;
/** How long a rotated-out secret may keep signing, at most: 7 days. */
export const MAX_ROTATION_OVERLAP_SECONDS = 7 * 24 * 3600;
/** By default a rotated-out secret keeps signing beside the new one for 24 hours. */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

export function registryWorkflowId(owner: string): string {
  return `ftflow-webhooks-${owner}`;
}

/** An endpoint as the registry keeps it: its secret only as references (src/webhooks/secrets.ts). */
export interface RegisteredWebhook {
  /** "we_" and 20 random characters. */
  id: string;
  url: string;
  /** The events it names; undefined: every event but the opt-in ones. */
  events?: WebhookEventType[];
  description?: string;
  createdAt: string;
  /** The current secret first; after a rotation, the previous one with its expiresAt. */
  secrets: SecretRef[];
}

export interface WebhookRegistryInput {
  owner: string;
  endpoints: RegisteredWebhook[];
}

export interface AddWebhookRequest {
  endpoint: RegisteredWebhook;
  /** The most endpoints the owner may have (the operator's limit). */
  limit: number;
}

export interface RotateWebhookSecretRequest {
  id: string;
  secret: SecretRef;
  /** The previous secret keeps signing this long beside the new one. */
  overlapSeconds: number;
}

export const webhookEndpointsQuery = defineQuery<RegisteredWebhook[]>('webhookEndpoints');
export const addWebhookUpdate = defineUpdate<RegisteredWebhook, [AddWebhookRequest]>('addWebhook');
export const removeWebhookUpdate = defineUpdate<RegisteredWebhook, [string]>('removeWebhook');
export const rotateWebhookSecretUpdate = defineUpdate<RegisteredWebhook, [RotateWebhookSecretRequest]>(
  'rotateWebhookSecret',
);

/** Failure types of the registry's updates, which the control layer maps to not-found and conflict. */
export const REGISTRY_FAILURE = {
  notFound: 'WebhookNotFound',
  limit: 'WebhookLimitReached',
  invalid: 'InvalidWebhookChange',
} as const;
