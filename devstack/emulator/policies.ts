// The one place every request passes before (and after) its route, in ARM's order:
//   request ids → injected faults → ARM throttling (+ x-ms-ratelimit-remaining-*) → bearer
//   authentication → api-version → [body parsed] → contract check of the request → route →
//   contract check of the response → request log and PUT counts.
// Which checks apply is chosen by the route's `surface`.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateArm } from './auth';
import type { EmulatorContext } from './context';
import { versionsForTypes } from './contract/apiVersions';
import { CONTRACT_DATA } from './contract/data';
import { noRegisteredProvider } from './contractPolicy';
import { ArmError } from './errors';
import { queryParam } from './json';
import { operationType } from './throttle';

/** Which API a route belongs to; decides authentication and checks. */
export type Surface = 'arm' | 'registry' | 'mlflow' | 'history' | 'scoring' | 'entra' | 'admin' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    surface?: Surface;
    /** api-versions the route accepts; when set, `api-version` is required. */
    apiVersions?: readonly string[];
  }
}

/** Every api-version the ARM routes accept, stable first; which resource types each is registered for,
 *  and the swagger that checks it, is the api-version table (contract/apiVersionTable.ts, read here
 *  from contract.generated.json). */
export const ARM_API_VERSIONS: readonly string[] = CONTRACT_DATA.apiVersions
  .filter((r) => r.surface === 'arm')
  .map((r) => r.version);
/** Registry assets: ARM (2024-04-01; 2022-10-01 has no registries) and the data plane azure-ai-ml uses. */
export const REGISTRY_API_VERSIONS: readonly string[] = versionsForTypes(CONTRACT_DATA.apiVersions, [
  'registries/models/versions',
  'registries/components/versions',
]);

/** A check or decoration applied to every request; throw an ArmError to answer instead of the route. */
export type Policy = (req: FastifyRequest, reply: FastifyReply, ctx: EmulatorContext) => void | Promise<void>;

const requestIds: Policy = (req, reply) => {
  const id = randomUUID();
  reply.header('x-ms-request-id', id);
  reply.header('x-ms-correlation-request-id', id);
  const clientRequestId = req.headers['x-ms-client-request-id'];
  if (typeof clientRequestId === 'string') reply.header('x-ms-client-request-id', clientRequestId);
};

const contractMatch: Policy = (req, _reply, ctx) => {
  ctx.contract.matchRequest(req);
};

const faults: Policy = async (req, reply, ctx) => {
  if (surfaceOf(req) === 'admin') return;
  await ctx.faults.apply(req, reply);
};

/** ARM paths are the ones under /subscriptions (the registry data plane lives under /mferp). */
function armSubscription(req: FastifyRequest): string | undefined {
  const surface = surfaceOf(req);
  if (surface !== 'arm' && surface !== 'registry') return undefined;
  return /^\/subscriptions\/([^/?]+)/i.exec(req.url)?.[1];
}

/** The principal behind a bearer token (not verified here: authentication comes next). */
function actorOf(authorization: string | undefined): string {
  const payload = /^Bearer\s+[^.\s]+\.([^.\s]+)\./i.exec(authorization ?? '')?.[1];
  if (!payload) return 'anonymous';
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const oid = typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>)['oid'] : undefined;
    return typeof oid === 'string' ? oid : 'anonymous';
  } catch {
    return 'anonymous';
  }
}

const SINGULAR = { reads: 'read', writes: 'write', deletes: 'delete' } as const;
let lastThrottleLog = 0;

const throttling: Policy = (req, reply, ctx) => {
  const subscription = armSubscription(req);
  if (!subscription) return;
  const type = operationType(req.method);
  const actor = actorOf(req.headers.authorization);
  const result = ctx.throttle.take(`${subscription.toLowerCase()}|${actor}`, type);
  reply.header(`x-ms-ratelimit-remaining-subscription-${type}`, String(result.remaining));
  if (!result.allowed) {
    const seconds = result.retryAfterSeconds;
    const at = Date.now();
    if (at - lastThrottleLog >= 10_000) {
      lastThrottleLog = at;
      process.stderr.write(
        `emulator: throttling ${SINGULAR[type]} requests of subscription ${subscription} (429, Retry-After ${seconds} s; ${ctx.throttle.stats().throttled} so far)\n`,
      );
    }
    throw new ArmError(
      429,
      'SubscriptionRequestsThrottled',
      `Number of '${SINGULAR[type]}' requests for subscription '${subscription}' actor '${actor}' exceeded. Please try again after '${seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
      undefined,
      { 'Retry-After': String(seconds) },
    );
  }
};

const bearerAuth: Policy = (req, _reply, ctx) => {
  const surface = surfaceOf(req);
  if (surface === 'arm' || surface === 'registry' || surface === 'mlflow' || surface === 'history') {
    authenticateArm(ctx, req.headers.authorization);
  }
};

const API_VERSION_SHAPE = /^\d{4}-\d{2}-\d{2}(-[a-z]+)?$/i;

const apiVersion: Policy = (req, _reply, ctx) => {
  const accepted = req.routeOptions.config.apiVersions;
  if (!accepted) return;
  const given = queryParam(req.query, 'api-version');
  if (given === undefined || given === '') {
    throw new ArmError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  }
  const [path = ''] = req.url.split('?', 2);
  const arm = armSubscription(req) !== undefined;
  // ARM registers api-versions per resource type: one another type has is refused here as well.
  const registered = arm ? ctx.contract.contract.registeredVersions(path) : [];
  if (accepted.includes(given) && (registered.length === 0 || registered.includes(given))) return;
  if (arm && API_VERSION_SHAPE.test(given)) {
    // ARM refuses an api-version the provider does not register for the resource type.
    throw noRegisteredProvider(
      ctx.config.identities.location,
      path,
      given,
      registered.length > 0 ? registered : accepted.filter((v) => ARM_API_VERSIONS.includes(v)),
    );
  }
  throw new ArmError(
    400,
    'InvalidApiVersionParameter',
    `The api-version '${given}' is invalid. The supported versions are '${accepted.join(',')}'.`,
  );
};

const contractRequest: Policy = (req, _reply, ctx) => {
  ctx.contract.checkRequest(req);
};

function surfaceOf(req: FastifyRequest): Surface | undefined {
  return req.routeOptions.config.surface;
}

/** The ARM id a PUT addresses (lower case), for the per-resource PUT counts. */
export function putTarget(url: string): string {
  const [path = ''] = url.split('?', 2);
  return decodeURIComponentSafe(path.replace(/\/+$/, '')).toLowerCase();
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function installPolicies(app: FastifyInstance, ctx: EmulatorContext): void {
  const onRequest: Policy[] = [requestIds, contractMatch, faults, throttling, bearerAuth, apiVersion];
  const preHandler: Policy[] = [contractRequest];
  app.addHook('onRequest', async (req, reply) => {
    for (const policy of onRequest) await policy(req, reply, ctx);
  });
  app.addHook('preHandler', async (req, reply) => {
    for (const policy of preHandler) await policy(req, reply, ctx);
  });
  app.addHook('onSend', async (req, reply, payload) => ctx.contract.checkResponse(req, reply, payload));
  app.addHook('onResponse', async (req, reply) => {
    if (surfaceOf(req) === 'admin' || req.url.startsWith('/_emulator')) return;
    const [path = '', query = ''] = req.url.split('?', 2);
    const surface = surfaceOf(req) ?? 'other';
    const reader = req.headers['x-ftflow-reader'];
    ctx.requests.count(surface, req.method, path, typeof reader === 'string' ? reader : undefined);
    ctx.requests.add({
      method: req.method,
      surface,
      path,
      query,
      status: reply.statusCode,
      time: new Date(ctx.now()).toISOString(),
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
      ...(req.method !== 'GET' && req.method !== 'HEAD' && req.body !== undefined ? { body: req.body } : {}),
    });
    if (req.method === 'PUT' && surfaceOf(req) === 'arm') {
      const counts = (ctx.store.state.putCounts ??= {});
      const id = putTarget(req.url);
      counts[id] = (counts[id] ?? 0) + 1;
      ctx.store.commit();
    }
  });
}

/** The api-version the request carried (the checks above guarantee one on ARM routes). */
export function requestApiVersion(req: FastifyRequest): string {
  return queryParam(req.query, 'api-version') ?? ARM_API_VERSIONS[0] ?? '2022-10-01';
}
