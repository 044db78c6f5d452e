// An API key's webhook endpoints, for the client, the CLI and the API: add (the URL checked with a DNS lookup
// first; the secret shown once), list, get, remove, rotate a secret (the old one keeps signing for an overlap).
// They live in the key's registry workflow (src/workflows/webhookRegistry.ts), started on first use; what it
// holds of a secret is a reference, and the secret is derived here from the operator key to be shown once.
import { randomBytes } from 'node:crypto';
import {
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { ConfigError } from '../config/errors';
import { DIVISIONS } from '../config/searchAttributes';
import { summaryText } from '../workflows/uiText';
import { inDivision } from './divisions';
import { issueMessage } from '../runSpec/issueMessages';
import { WebhookEvents, WebhookUrl, subscribedEvents, type WebhookEventType } from '../runSpec/notifications';
import { describeIssue } from '../runSpec/schema';
import {
  DEFAULT_ROTATION_OVERLAP_SECONDS,
  MAX_ROTATION_OVERLAP_SECONDS,
  OWNER_PATTERN,
  OWNER_RULE,
  REGISTRY_FAILURE,
  WEBHOOK_REGISTRY_WORKFLOW_TYPE,
  addWebhookUpdate,
  registryWorkflowId,
  removeWebhookUpdate,
  rotateWebhookSecretUpdate,
  webhookEndpointsQuery,
  type RegisteredWebhook,
  type WebhookRegistryInput,
} from '../webhooks/registry';
import { missingKeyMessage, type WebhookSecrets } from '../webhooks/secrets';
import type { WebhookSettings } from '../webhooks/settings';
import { checkWebhookUrl, type Resolver } from '../webhooks/urlPolicy';
import { ControlError, invalid } from './errors';

/** What the API and the CLI show of an endpoint: never a secret, nor what it is derived from. */
export interface WebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  owner: string;
  url: string;
  /** The events it hears (the default set when it named none). */
  events: WebhookEventType[];
  description?: string;
  createdAt: string;
  /** When its current secret was made (at creation or the last rotation). */
  secretCreatedAt: string;
  /** After a rotation: until when the previous secret still signs beside the current one. */
  previousSecretExpiresAt?: string;
}

/** add() and rotateSecret(): the endpoint and its secret, shown this once. */
export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  /** whsec_...: give it to the receiver; it is not stored anywhere and cannot be shown again. */
  secret: string;
}

export const WebhookEndpointRequest = z.strictObject({
  url: WebhookUrl,
  events: WebhookEvents.optional(),
  description: z.string().max(200, 'description must be at most 200 characters').optional(),
});
export type WebhookEndpointRequest = z.input<typeof WebhookEndpointRequest>;

export interface RotateOptions {
  /** How long the previous secret keeps signing beside the new one; default 86400 (24 h), 0 to stop at once. */
  overlapSeconds?: number;
}

const ID_PATTERN = /^we_[A-Za-z0-9_-]{1,64}$/;

function viewOf(owner: string, e: RegisteredWebhook): WebhookEndpoint {
  const [current, previous] = e.secrets;
  return {
    id: e.id,
    object: 'webhook_endpoint',
    owner,
    url: e.url,
    events: [...subscribedEvents(e.events)],
    ...(e.description !== undefined ? { description: e.description } : {}),
    createdAt: e.createdAt,
    secretCreatedAt: current?.createdAt ?? e.createdAt,
    ...(previous?.expiresAt && Date.parse(previous.expiresAt) > Date.now()
      ? { previousSecretExpiresAt: previous.expiresAt }
      : {}),
  };
}

/** An update's refusal as the caller's error: no such endpoint, the limit reached, a bad change. */
function fromUpdateFailure(err: unknown, id?: string): unknown {
  if (!(err instanceof WorkflowUpdateFailedError)) return err;
  const cause = err.cause;
  const type = cause instanceof ApplicationFailure ? cause.type : undefined;
  const message = cause?.message ?? err.message;
  if (type === REGISTRY_FAILURE.notFound) return new ControlError('not-found', message || `no webhook endpoint ${id}`);
  if (type === REGISTRY_FAILURE.limit) return new ControlError('conflict', message);
  if (type === REGISTRY_FAILURE.invalid) return new ControlError('invalid', message);
  return err;
}

export class WebhookEndpoints {
  constructor(
    private readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly settings: () => WebhookSettings,
    /** Host name lookups (tests play DNS with it). */
    private readonly resolve?: Resolver,
  ) {}

  /** Checks a URL as a registration does: its shape, then where its host resolves to. Throws naming `field`. */
  async checkUrl(url: string, field = 'url'): Promise<void> {
    const settings = this.settings();
    const check = await checkWebhookUrl(url, settings.policy, this.resolve, settings.attemptTimeoutMs);
    if (!check.ok) throw invalid(field, check.refusal.replace(/^url /, '').replace(/^url's /, "the URL's "));
  }

  /** Registers an endpoint for `owner`; returns it with its secret, the only time the secret is shown. */
  async add(owner: string, request: WebhookEndpointRequest | unknown): Promise<WebhookEndpointWithSecret> {
    checkOwner(owner);
    const parsed = WebhookEndpointRequest.safeParse(request, { error: issueMessage });
    if (!parsed.success) {
      const issues = parsed.error.issues.map(describeIssue);
      throw new ControlError('invalid', 'invalid webhook endpoint: see fields', issues);
    }
    const secrets = this.secrets();
    await this.checkUrl(parsed.data.url);
    const ref = secrets.newRef();
    const endpoint: RegisteredWebhook = {
      id: `we_${randomBytes(15).toString('base64url')}`,
      url: parsed.data.url,
      ...(parsed.data.events ? { events: parsed.data.events } : {}),
      ...(parsed.data.description !== undefined ? { description: parsed.data.description } : {}),
      createdAt: ref.createdAt,
      secrets: [ref],
    };
    const handle = await inDivision(DIVISIONS.webhooks, (typedSearchAttributes) =>
      this.temporal.workflow.start('webhookRegistry', {
        taskQueue: this.taskQueue,
        workflowId: registryWorkflowId(owner),
        args: [{ owner, endpoints: [] } satisfies WebhookRegistryInput],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        typedSearchAttributes,
        staticSummary: summaryText(`webhook endpoints of API key ${owner}`),
      }),
    );
    try {
      const added = await handle.executeUpdate(addWebhookUpdate, {
        args: [{ endpoint, limit: this.settings().maxEndpoints }],
      });
      return { ...viewOf(owner, added), secret: secrets.secretOf(ref) };
    } catch (err) {
      throw fromUpdateFailure(err);
    }
  }

  /** The owner's endpoints, oldest first. */
  async list(owner: string): Promise<WebhookEndpoint[]> {
    checkOwner(owner);
    return (await this.registered(owner)).map((e) => viewOf(owner, e));
  }

  async get(owner: string, id: string): Promise<WebhookEndpoint> {
    checkOwner(owner);
    const found = (await this.registered(owner)).find((e) => e.id === id);
    if (!found) throw notFound(id);
    return viewOf(owner, found);
  }

  /** Removes an endpoint: deliveries to it still pending stop at their next attempt. */
  async remove(owner: string, id: string): Promise<WebhookEndpoint> {
    checkOwner(owner);
    if (!ID_PATTERN.test(id)) throw notFound(id);
    try {
      return viewOf(owner, await this.registry(owner).executeUpdate(removeWebhookUpdate, { args: [id] }));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(id);
      throw fromUpdateFailure(err, id);
    }
  }

  /** A new secret (shown once); the previous one keeps signing beside it for `overlapSeconds`. */
  async rotateSecret(owner: string, id: string, opts: RotateOptions = {}): Promise<WebhookEndpointWithSecret> {
    checkOwner(owner);
    if (!ID_PATTERN.test(id)) throw notFound(id);
    const overlapSeconds = opts.overlapSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
    if (!(Number.isFinite(overlapSeconds) && overlapSeconds >= 0 && overlapSeconds <= MAX_ROTATION_OVERLAP_SECONDS))
      throw invalid('overlapSeconds', `must be a number of seconds from 0 to ${MAX_ROTATION_OVERLAP_SECONDS} (7 days)`);
    const secrets = this.secrets();
    const ref = secrets.newRef();
    try {
      const rotated = await this.registry(owner).executeUpdate(rotateWebhookSecretUpdate, {
        args: [{ id, secret: ref, overlapSeconds }],
      });
      return { ...viewOf(owner, rotated), secret: secrets.secretOf(ref) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(id);
      throw fromUpdateFailure(err, id);
    }
  }

  /** The secrets of a run spec's endpoints (shown once, when the run is created). */
  runSecrets(runId: string, urls: readonly string[]): { url: string; secret: string }[] {
    const secrets = this.secrets();
    return urls.map((url, index) => ({ url, secret: secrets.secretOf(secrets.runRef(runId, index)) }));
  }

  /** The operator key, or a ConfigError that says how to set it. */
  secrets(): WebhookSecrets {
    const secrets = this.settings().secrets;
    if (!secrets) throw new ConfigError(missingKeyMessage());
    return secrets;
  }

  private registry(owner: string) {
    return this.temporal.workflow.getHandle(registryWorkflowId(owner));
  }

  private async registered(owner: string): Promise<RegisteredWebhook[]> {
    const handle = this.registry(owner);
    try {
      const description = await handle.describe();
      if (description.type !== WEBHOOK_REGISTRY_WORKFLOW_TYPE || description.taskQueue !== this.taskQueue) return [];
      return await handle.query(webhookEndpointsQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      throw err;
    }
  }
}

function checkOwner(owner: string): void {
  if (!OWNER_PATTERN.test(owner)) throw invalid('owner', `${OWNER_RULE} (got ${JSON.stringify(owner)})`);
}

function notFound(id: string): ControlError {
  return new ControlError('not-found', `no webhook endpoint ${id}`);
}
