// The one place every request passes before its route: request ids, ARM rate-limit headers,
// bearer authentication and the api-version check, chosen by the route's `surface`. Later
// policies (contract validation, throttling, fault injection) plug in through PolicyOptions.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateArm } from './auth';
import type { EmulatorContext } from './context';
import { ArmError } from './errors';
import { queryParam } from './json';

/** Which API a route belongs to; decides authentication and checks. */
export type Surface = 'arm' | 'registry' | 'mlflow' | 'scoring' | 'entra' | 'admin' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    surface?: Surface;
    /** api-versions the route accepts; when set, `api-version` is required. */
    apiVersions?: readonly string[];
  }
}

export const ARM_API_VERSIONS: readonly string[] = ['2022-10-01', '2024-04-01'];
export const REGISTRY_API_VERSIONS: readonly string[] = [...ARM_API_VERSIONS, '2021-10-01-dataplanepreview'];

/** A check or decoration applied to every request; throw an ArmError to answer instead of the route. */
export type Policy = (req: FastifyRequest, reply: FastifyReply, ctx: EmulatorContext) => void | Promise<void>;

const requestIds: Policy = (req, reply) => {
  const id = randomUUID();
  reply.header('x-ms-request-id', id);
  reply.header('x-ms-correlation-request-id', id);
  const clientRequestId = req.headers['x-ms-client-request-id'];
  if (typeof clientRequestId === 'string') reply.header('x-ms-client-request-id', clientRequestId);
};

/** ARM's hourly per-subscription budgets (reads 12000, writes 1200, deletes 15000). */
function rateLimitHeaders(): Policy {
  const limits = { reads: 12000, writes: 1200, deletes: 15000 } as const;
  let windowStart = 0;
  const used = { reads: 0, writes: 0, deletes: 0 };
  return (req, reply, ctx) => {
    if (surfaceOf(req) !== 'arm') return;
    const now = ctx.now();
    if (now - windowStart >= 3_600_000) {
      windowStart = now;
      used.reads = used.writes = used.deletes = 0;
    }
    const kind = req.method === 'GET' || req.method === 'HEAD' ? 'reads' : req.method === 'DELETE' ? 'deletes' : 'writes';
    used[kind] += 1;
    reply.header(`x-ms-ratelimit-remaining-subscription-${kind}`, String(Math.max(0, limits[kind] - used[kind])));
  };
}

const bearerAuth: Policy = (req, _reply, ctx) => {
  const surface = surfaceOf(req);
  if (surface === 'arm' || surface === 'registry' || surface === 'mlflow') {
    authenticateArm(ctx, req.headers.authorization);
  }
};

const apiVersion: Policy = (req) => {
  const accepted = req.routeOptions.config.apiVersions;
  if (!accepted) return;
  const given = queryParam(req.query, 'api-version');
  if (given === undefined || given === '') {
    throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  if (!accepted.includes(given)) {
    throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${given}' is invalid. The supported versions are '${accepted.join(',')}'.`);
  }
};

function surfaceOf(req: FastifyRequest): Surface | undefined {
  return req.routeOptions.config.surface;
}

export interface PolicyOptions {
  /** Run after the built-in request policies, before the body is read (throttling, faults). */
  onRequest?: readonly Policy[];
  /** Run once the body is parsed, before the route (request contract validation). */
  preHandler?: readonly Policy[];
}

export function installPolicies(app: FastifyInstance, ctx: EmulatorContext, extra: PolicyOptions = {}): void {
  const onRequest: Policy[] = [requestIds, rateLimitHeaders(), bearerAuth, apiVersion, ...(extra.onRequest ?? [])];
  const preHandler: Policy[] = [...(extra.preHandler ?? [])];
  app.addHook('onRequest', async (req, reply) => {
    for (const policy of onRequest) await policy(req, reply, ctx);
  });
  app.addHook('preHandler', async (req, reply) => {
    for (const policy of preHandler) await policy(req, reply, ctx);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (surfaceOf(req) === 'admin' || req.url.startsWith('/_emulator')) return;
    const [path = '', query = ''] = req.url.split('?', 2);
    ctx.requests.add({ method: req.method, path, query, status: reply.statusCode, time: new Date(ctx.now()).toISOString() });
  });
}

/** The api-version the request carried (the checks above guarantee one on ARM routes). */
export function requestApiVersion(req: FastifyRequest): string {
  return queryParam(req.query, 'api-version') ?? ARM_API_VERSIONS[0] ?? '2022-10-01';
}
