// The HTTP API over the typed client: fastify, bearer API keys with scopes, per-key rate limits, request
// validation with the shared schemas, one error shape, its OpenAPI document at /openapi.json, and the
// dashboard's static files under /ui.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { FineTuneClient } from '../client';
import { DATASET_ENV } from '../dataset/sourceSettings';
import { registerAuth } from './auth';
import { registerDashboard } from './dashboard';
import { body, sendError } from './errors';
import type { ApiKeyStore } from './keys';
import { openApiDocument } from './openapi';
import { registerApiKeyRoutes } from './routes/apiKey';
import { registerAzureEventRoutes, type AzureEventsReceiver } from './routes/azureEvents';
import { registerFineTuneRoutes } from './routes/fineTunes';
import { registerJanitorRoutes } from './routes/janitor';
import { registerScheduleRoutes } from './routes/schedules';
import { registerWebhookRoutes } from './routes/webhooks';

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 120;

export interface ApiOptions {
  client: FineTuneClient;
  keys: ApiKeyStore;
  /** Requests per minute per key, unless the key sets its own; default 120. */
  rateLimitPerMinute?: number;
  /** Fastify's logger (pino); default off. */
  logger?: boolean;
  /**
   * Whether run specs may name files on the worker's disk (`dataset.files` local paths, file:// URLs).
   * Default: only when the API's environment sets FTFLOW_DATA_ROOT, the operator's statement that
   * workers read local files (each worker still checks its own data root, after resolving symlinks).
   */
  allowLocalDatasetPaths?: boolean;
  /** Where the dashboard's built files are (default dist/ui/); false: no /ui. */
  dashboardDir?: string | false;
  /** The Event Grid receiver for Azure ML's job events (FTFLOW_EVENT_GRID_SECRET); absent: no such route. */
  azureEvents?: AzureEventsReceiver;
}

/**
 * How a request appears in the access log: the path, never the query string (a key sent by mistake as
 * `?api-key=...`, or anything else a caller puts there, must not land in the log).
 */
export function requestLogFields(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url.split('?')[0],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ? { serializers: { req: requestLogFields } } : false,
    bodyLimit: 1024 * 1024,
    // Keep `__proto__` and `constructor` keys as plain data: the run spec check refuses them by name
    // (the path and the fix) instead of Fastify's "Body is not valid JSON".
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
  });
  const perMinute = opts.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE;

  app.setErrorHandler((err, _request, reply) => sendError(reply, err));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(body('not_found_error', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  registerAuth(app, opts.keys);
  // After authentication (onRequest), so the limit is counted per key, not per address.
  await app.register(rateLimit, {
    hook: 'preHandler',
    timeWindow: 60_000,
    max: (request) => request.apiKey?.rateLimitPerMinute ?? perMinute,
    keyGenerator: (request) => (request.apiKey ? `key:${request.apiKey.id}` : `ip:${request.ip}`),
    allowList: (request) => request.routeOptions.config?.scope === undefined,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: {
        type: 'rate_limit_error',
        message: `rate limit of ${context.max} requests per minute for this key reached; retry after ${context.after}`,
      },
    }),
  });

  const document = openApiDocument({ azureEvents: opts.azureEvents !== undefined });
  app.get('/openapi.json', async () => document);
  app.get('/healthz', async () => ({ ok: true }));
  const allowLocalDatasetPaths = opts.allowLocalDatasetPaths ?? Boolean(process.env[DATASET_ENV.dataRoot]?.trim());
  registerApiKeyRoutes(app);
  registerFineTuneRoutes(app, opts.client, { allowLocalDatasetPaths });
  registerScheduleRoutes(app, opts.client, { allowLocalDatasetPaths });
  registerJanitorRoutes(app, opts.client);
  if (opts.azureEvents) registerAzureEventRoutes(app, opts.azureEvents);
  registerWebhookRoutes(app, opts.client);
  if (opts.dashboardDir !== false) registerDashboard(app, opts.dashboardDir);
  return app;
}
