// The events finetune-flow sends to webhook endpoints, and the run spec's `notifications` part: endpoints
// that hear of this run only ({ webhooks: [{ url, events }] }). What the schema judges is the shape (an
// absolute http(s) URL without credentials, known event names); where a URL may point (https, public
// addresses, the operator's allowances) is judged with a DNS lookup by src/webhooks/urlPolicy.ts when the
// run is started and again before every delivery. Pure: usable from workflow code.
import { z } from 'zod';

/** Every event a webhook endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  'run.started',
  'run.step.completed',
  'run.succeeded',
  'run.failed',
  'run.cancelled',
  'run.quality_gate_failed',
  'endpoint.ready',
  'endpoint.deleted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Events sent only to endpoints that name them: one per step makes eleven deliveries a run. */
export const OPT_IN_WEBHOOK_EVENTS: readonly WebhookEventType[] = ['run.step.completed'];

/** What an endpoint that names no events hears: everything but the opt-in events. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = WEBHOOK_EVENT_TYPES.filter(
  (e) => !OPT_IN_WEBHOOK_EVENTS.includes(e),
);

/** Webhook endpoints a run spec may name (per API key, an operator limit of its own applies: src/webhooks). */
export const MAX_RUN_WEBHOOKS = 5;
export const MAX_WEBHOOK_URL_LENGTH = 2048;

const EVENT_LIST = WEBHOOK_EVENT_TYPES.join(', ');

/** A webhook URL's shape (every front end and the registry share it); undefined when it is well formed. */
export function webhookUrlShapeProblem(text: string): string | undefined {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL such as https://hooks.example.com/finetune';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `must be an https URL (got ${url.protocol.replace(/:$/, '')})`;
  if (url.username || url.password)
    return 'must not carry a user name or password: receivers check the signature instead';
  if (url.hash) return 'must not have a #fragment (it is never sent)';
  return undefined;
}

export const WebhookUrl = z.string().superRefine((text, ctx) => {
  const problem = webhookUrlShapeProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: `url ${problem}` });
});

export const WebhookEvents = z
  .array(
    z.enum(WEBHOOK_EVENT_TYPES, {
      error: (issue) => `unknown event ${JSON.stringify(issue.input)}: one of ${EVENT_LIST}`,
    }),
  )
  .min(
    1,
    `events must name at least one event (or be left out for every event but ${OPT_IN_WEBHOOK_EVENTS.join(', ')})`,
  )
  .max(WEBHOOK_EVENT_TYPES.length)
  .transform((events) => [...new Set(events)]);

/** One endpoint of the run spec. Its signing secret is derived, never written here (docs/operations.md, Webhooks). */
export const RunWebhookSpec = z.strictObject({
  url: WebhookUrl,
  events: WebhookEvents.optional(),
});

export const NotificationsSpec = z.strictObject({
  webhooks: z
    .array(RunWebhookSpec)
    .max(MAX_RUN_WEBHOOKS, `notifications.webhooks may name at most ${MAX_RUN_WEBHOOKS} endpoints`)
    .default([]),
});

export type RunWebhook = z.output<typeof RunWebhookSpec>;
export type Notifications = z.output<typeof NotificationsSpec>;

/** The events an endpoint hears: the ones it names, or the default set. */
export function subscribedEvents(events: readonly WebhookEventType[] | undefined): readonly WebhookEventType[] {
  return events && events.length > 0 ? events : DEFAULT_WEBHOOK_EVENTS;
}
