// One API key's webhook endpoints, durably: a long-lived workflow per key (`ftflow-webhooks-<key id>`) that the
// client changes with updates (add, remove, rotate a secret) and the delivery activities read with a query.
// Secrets are kept only as references (src/webhooks/secrets.ts), so its history holds none. The checks run in
// the handlers, so a refused change is a failed update recorded in the history (keepAlive.ts says why not a
// validator). It continues as new when its history grows long, carrying the endpoints over.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  MAX_ENDPOINTS_PER_OWNER,
  MAX_ROTATION_OVERLAP_SECONDS,
  REGISTRY_FAILURE,
  addWebhookUpdate,
  removeWebhookUpdate,
  rotateWebhookSecretUpdate,
  webhookEndpointsQuery,
  type RegisteredWebhook,
  type WebhookRegistryInput,
} from '../webhooks/registry';

/** Continue as new past this many history events (or when the server suggests it). */
const HISTORY_LIMIT = 2000;

export async function webhookRegistry(input: WebhookRegistryInput): Promise<void> {
  const now = () => new Date(Date.now());
  // A rotated-out secret past its overlap is dropped: it signs nothing any more.
  const live = (e: RegisteredWebhook): RegisteredWebhook => ({
    ...e,
    secrets: e.secrets.filter((s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > Date.now()),
  });
  const endpoints: RegisteredWebhook[] = input.endpoints.map(live);
  const find = (id: string): number => {
    const index = endpoints.findIndex((e) => e.id === id);
    if (index < 0) throw ApplicationFailure.nonRetryable(`no webhook endpoint ${id}`, REGISTRY_FAILURE.notFound);
    return index;
  };

  setHandler(webhookEndpointsQuery, () => endpoints);
  setHandler(addWebhookUpdate, ({ endpoint, limit }) => {
    const max = Math.min(limit, MAX_ENDPOINTS_PER_OWNER);
    if (endpoints.length >= max)
      throw ApplicationFailure.nonRetryable(
        `API key ${input.owner} has ${endpoints.length} webhook endpoints, the most allowed (${max}): remove one first`,
        REGISTRY_FAILURE.limit,
      );
    if (endpoints.some((e) => e.id === endpoint.id))
      throw ApplicationFailure.nonRetryable(`webhook endpoint ${endpoint.id} exists`, REGISTRY_FAILURE.invalid);
    endpoints.push(endpoint);
    return endpoint;
  });
  setHandler(removeWebhookUpdate, (id) => {
    const [removed] = endpoints.splice(find(id), 1);
    return removed as RegisteredWebhook;
  });
  setHandler(rotateWebhookSecretUpdate, ({ id, secret, overlapSeconds }) => {
    const index = find(id);
    if (!(overlapSeconds >= 0 && overlapSeconds <= MAX_ROTATION_OVERLAP_SECONDS))
      throw ApplicationFailure.nonRetryable(
        `overlapSeconds must be from 0 to ${MAX_ROTATION_OVERLAP_SECONDS}`,
        REGISTRY_FAILURE.invalid,
      );
    const current = live(endpoints[index] as RegisteredWebhook);
    const expiresAt = new Date(now().getTime() + overlapSeconds * 1000).toISOString();
    // The new secret signs from now on; the one it replaces signs beside it until the overlap ends.
    const previous = current.secrets[0];
    const rotated: RegisteredWebhook = {
      ...current,
      secrets: [secret, ...(previous && overlapSeconds > 0 ? [{ ...previous, expiresAt }] : [])],
    };
    endpoints[index] = rotated;
    return rotated;
  });

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT);
  await condition(allHandlersFinished);
  await continueAsNew<typeof webhookRegistry>({ owner: input.owner, endpoints: endpoints.map(live) });
}
