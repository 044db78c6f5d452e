// The events finetune-flow sends to webhook endpoints, apart from the run spec's schema for them
// (notifications.ts): workflow code imports this module, and a module the workflows import is evaluated again
// in every run the worker keeps cached, so it must not pull in zod (about 0.6 MiB of heap per cached run,
// measured at 1,000 runs; test/workflows/bundleContents.test.ts keeps it out).

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
