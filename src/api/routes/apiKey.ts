// /v1/api-key: the key a request was made with, its name and scopes (never the key or its hash), so a
// front end such as the dashboard can offer only what the key may do. The server checks every route anyway.
import type { FastifyInstance } from 'fastify';
import { ANY_KEY } from '../auth';

export function registerApiKeyRoutes(app: FastifyInstance): void {
  app.get('/v1/api-key', { config: { scope: ANY_KEY } }, async (request) => {
    const key = request.apiKey;
    return {
      object: 'api_key',
      id: key?.id,
      scopes: key?.scopes ?? [],
      ...(key?.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: key.rateLimitPerMinute } : {}),
    };
  });
}
