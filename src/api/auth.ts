// Bearer API keys on every /v1 route: 401 when the key is missing or unknown, 403 when it was revoked
// or lacks the route's scope. Routes declare their scope in `config.scope` (ANY_KEY: every valid key);
// routes without one are public.
import type { FastifyInstance } from 'fastify';
import type { ApiKeyStore, ApiScope, StoredApiKey } from './keys';
import { ApiError } from './errors';

/** The scope of a route that any valid, unrevoked key may call (GET /v1/api-key: which key is this). */
export const ANY_KEY = 'any-key';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: StoredApiKey;
  }
  interface FastifyContextConfig {
    scope?: ApiScope | typeof ANY_KEY;
  }
}

export function registerAuth(app: FastifyInstance, keys: ApiKeyStore): void {
  app.decorateRequest('apiKey', undefined);
  app.addHook('onRequest', async (request, reply) => {
    const scope = request.routeOptions.config?.scope;
    if (scope === undefined) return;
    const auth = keys.authenticate(request.headers.authorization);
    if (auth.result === 'missing' || auth.result === 'unknown') {
      reply.header('www-authenticate', 'Bearer realm="finetune-flow"');
      throw new ApiError(
        401,
        'authentication_error',
        auth.result === 'missing' ? 'send an API key: Authorization: Bearer <key>' : 'unknown API key',
      );
    }
    if (auth.result === 'revoked') throw new ApiError(403, 'permission_error', `API key ${auth.key.id} was revoked`);
    if (scope !== ANY_KEY && !auth.key.scopes.includes(scope))
      throw new ApiError(403, 'permission_error', `API key ${auth.key.id} lacks the scope ${scope}`);
    request.apiKey = auth.key;
  });
}
