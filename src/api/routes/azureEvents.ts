// /v1/azure/events: the receiver for Azure ML's job events from an Event Grid webhook subscription, in
// either delivery schema. Deliveries are authenticated by a shared secret in the subscription's endpoint
// URL (`?secret=`), which Event Grid sends with every request, the handshakes included; the access log
// never records query strings. Accepted job events go to the workers through the job event relay
// (src/control/jobEventRelay.ts); the answer is 200 only once Temporal took them, so a delivery that
// could not be relayed is delivered again on Event Grid's retry schedule.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JobEvent } from '../../config/jobEvents';
import { ENV } from '../../config/env';
import { ConfigError } from '../../config/errors';
import { readCloudEventsDelivery, readEventGridDelivery, type Delivery } from '../../azure/jobEvents';
import { ApiError, body } from '../errors';

export const AZURE_EVENTS_PATH = '/v1/azure/events';
/** Shortest secret accepted: 128 bits as hex. */
const MIN_SECRET_LENGTH = 32;

export interface AzureEventsReceiver {
  /** Secrets a delivery may carry (more than one while rotating). */
  secrets: string[];
  publish(events: readonly JobEvent[]): Promise<void>;
}

/** FTFLOW_EVENT_GRID_SECRET: one secret, or several separated by commas while rotating; unset: no receiver. */
export function eventGridSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const raw = env[ENV.eventGridSecret];
  if (raw === undefined || raw.trim() === '') return undefined;
  const secrets = raw.split(',').map((s) => s.trim());
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH || !/^[A-Za-z0-9_-]+$/.test(s))
      throw new ConfigError(
        `${ENV.eventGridSecret} must be one or more comma-separated secrets of at least ${MIN_SECRET_LENGTH} URL-safe characters (letters, digits, - and _): generate one with \`openssl rand -hex 32\` and put it in the Event Grid subscription's endpoint URL as ?secret=<it>`,
      );
  }
  return secrets;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function authorized(request: FastifyRequest, secrets: readonly string[]): boolean {
  const given = (request.query as Record<string, unknown> | undefined)?.['secret'];
  if (typeof given !== 'string' || given === '') return false;
  const g = digest(given);
  // Every secret compared, in constant time each.
  return secrets.map((s) => timingSafeEqual(digest(s), g)).includes(true);
}

const CLOUD_EVENTS = /^application\/cloudevents(-batch)?\+json\b/i;

export function registerAzureEventRoutes(app: FastifyInstance, receiver: AzureEventsReceiver): void {
  // CloudEvents' structured content types are JSON.
  app.addContentTypeParser(CLOUD_EVENTS, { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, JSON.parse(String(text)));
    } catch {
      done(new ApiError(400, 'invalid_request_error', 'the body is not JSON'), undefined);
    }
  });

  const refuse = (reply: FastifyReply) =>
    // 401: Event Grid does not retry it (a wrong secret is a configuration to fix, not a blip).
    reply.code(401).send(body('authentication_error', 'the delivery does not carry a valid ?secret='));

  // CloudEvents 1.0 abuse protection: the handshake Event Grid makes for a CloudEvents subscription.
  app.options(AZURE_EVENTS_PATH, async (request, reply) => {
    if (!authorized(request, receiver.secrets)) return refuse(reply);
    const origin = request.headers['webhook-request-origin'];
    if (typeof origin !== 'string' || origin === '')
      throw new ApiError(
        400,
        'invalid_request_error',
        'an OPTIONS validation request names its WebHook-Request-Origin',
      );
    reply.header('WebHook-Allowed-Origin', origin).header('WebHook-Allowed-Rate', '*').header('Allow', 'POST, OPTIONS');
    return reply.code(200).send();
  });

  app.post(AZURE_EVENTS_PATH, async (request, reply) => {
    if (!authorized(request, receiver.secrets)) return refuse(reply);
    const cloudEvents = CLOUD_EVENTS.test(request.headers['content-type'] ?? '');
    let delivery: Delivery;
    try {
      delivery = cloudEvents ? await readCloudEventsDelivery(request.body) : await readEventGridDelivery(request.body);
    } catch (err) {
      // 400: not retried by Event Grid; the same body would fail again.
      throw new ApiError(
        400,
        'invalid_request_error',
        `not an Event Grid delivery in the ${cloudEvents ? 'CloudEvents 1.0' : 'Event Grid'} schema: ${(err as Error).message}`,
      );
    }
    if (delivery.kind === 'validation') return { validationResponse: delivery.validationCode };
    try {
      await receiver.publish(delivery.events);
    } catch (err) {
      request.log.warn({ err }, 'job events not relayed; Event Grid will deliver them again');
      throw new ApiError(
        503,
        'unavailable_error',
        'the job events could not be relayed to the workers now; retry later',
      );
    }
    return { relayed: delivery.events.length, ignored: delivery.ignored };
  });
}
