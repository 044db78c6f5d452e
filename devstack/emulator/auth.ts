// An Entra-compatible token endpoint (OpenID discovery + client-credentials grant) that
// @azure/identity's ClientSecretCredential uses for real, and verification of the bearer tokens
// it issues (HS256, key kept in the state file so tokens survive a restart).
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context';
import { ArmError } from './errors';
import { asString, isObject } from './json';

/** The audiences Azure Resource Manager accepts in a token, in the order its 401 lists them. */
export const ARM_AUDIENCES: readonly string[] = [
  'https://management.core.windows.net/',
  'https://management.core.windows.net',
  'https://management.azure.com/',
  'https://management.azure.com',
];

/**
 * Every audience the emulator's management plane accepts: ARM's, and the local cloud's own
 * resource manager (the emulator's origin, as the cloud metadata document names it, with or
 * without the trailing slash, under each name the certificate covers: 127.0.0.1, localhost, ::1),
 * which azure-ai-ml and azureml-mlflow ask tokens for when they run against a custom cloud.
 */
export function acceptedAudiences(ctx: EmulatorContext): string[] {
  const own: string[] = [];
  const base = ctx.baseUrl();
  if (base !== '') {
    const port = new URL(base).port;
    const suffix = port === '' ? '' : `:${port}`;
    const origins = new Set([base, ...['127.0.0.1', 'localhost', '[::1]'].map((h) => `https://${h}${suffix}`)]);
    for (const origin of origins) own.push(`${origin}/`, origin);
  }
  return [...ARM_AUDIENCES, ...own];
}
const TOKEN_LIFETIME_SECONDS = 3600;

export interface TokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  appid: string;
  azp: string;
  tid: string;
  oid: string;
  sub: string;
  idtyp: string;
  ver: string;
  uti: string;
}

// ---- JWT (HS256) ------------------------------------------------------------------------------

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function hmac(key: string, data: string): Buffer {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(data).digest();
}

export function signToken(signingKey: string, claims: TokenClaims): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'emulator' }));
  const body = b64url(JSON.stringify(claims));
  return `${header}.${body}.${b64url(hmac(signingKey, `${header}.${body}`))}`;
}

/** Why a bearer token was refused, in ARM's error codes. */
export class TokenError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Verifies signature and lifetime; returns the claims or throws a TokenError. */
export function verifyToken(signingKey: string, token: string, nowMs: number): TokenClaims {
  const parts = token.split('.');
  const [header, body, signature] = parts;
  if (parts.length !== 3 || !header || !body || !signature) {
    throw new TokenError('InvalidAuthenticationToken', 'The access token is invalid.');
  }
  const expected = hmac(signingKey, `${header}.${body}`);
  const actual = Buffer.from(signature, 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new TokenError(
      'InvalidAuthenticationToken',
      'The access token is invalid: its signature could not be verified.',
    );
  }
  const claims = parseClaims(Buffer.from(body, 'base64url').toString('utf8'));
  if (!claims) throw new TokenError('InvalidAuthenticationToken', 'The access token is invalid.');
  const now = Math.floor(nowMs / 1000);
  if (claims.exp <= now) {
    throw new TokenError(
      'ExpiredAuthenticationToken',
      `The access token expiry UTC time '${new Date(claims.exp * 1000).toUTCString()}' is earlier than current UTC time '${new Date(nowMs).toUTCString()}'.`,
    );
  }
  if (claims.nbf > now + 300) throw new TokenError('InvalidAuthenticationToken', 'The access token is not yet valid.');
  return claims;
}

function parseClaims(text: string): TokenClaims | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(raw)) return undefined;
  const s = (k: string): string | undefined => asString(raw[k]);
  const n = (k: string): number | undefined => (typeof raw[k] === 'number' ? raw[k] : undefined);
  const aud = s('aud'),
    iss = s('iss'),
    appid = s('appid'),
    tid = s('tid'),
    oid = s('oid');
  const iat = n('iat'),
    nbf = n('nbf'),
    exp = n('exp');
  if (!aud || !iss || !appid || !tid || !oid || iat === undefined || nbf === undefined || exp === undefined)
    return undefined;
  return {
    aud,
    iss,
    iat,
    nbf,
    exp,
    appid,
    tid,
    oid,
    azp: s('azp') ?? appid,
    sub: s('sub') ?? oid,
    idtyp: s('idtyp') ?? 'app',
    ver: s('ver') ?? '1.0',
    uti: s('uti') ?? '',
  };
}

/** A 401 in ARM's shape, with the challenge naming this emulator's authority. */
export function unauthorized(ctx: EmulatorContext, code: string, message: string): ArmError {
  const authority = `${ctx.baseUrl()}/${ctx.config.identities.tenantId}`;
  return new ArmError(401, code, message, undefined, {
    'WWW-Authenticate': `Bearer authorization_uri="${authority}", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`,
  });
}

/** ARM's check of the Authorization header: a valid token of this tenant for the ARM audience. */
export function authenticateArm(ctx: EmulatorContext, authorization: string | undefined): TokenClaims {
  try {
    return checkArmToken(ctx, authorization);
  } catch (err) {
    if (err instanceof TokenError) throw unauthorized(ctx, err.code, err.message);
    throw err;
  }
}

function checkArmToken(ctx: EmulatorContext, authorization: string | undefined): TokenClaims {
  if (!authorization) {
    throw new TokenError('InvalidAuthenticationToken', "Authentication failed. The 'Authorization' header is missing.");
  }
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match?.[1]) {
    throw new TokenError(
      'InvalidAuthenticationToken',
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    );
  }
  const claims = verifyToken(ctx.store.state.signingKey, match[1], ctx.now());
  const audiences = acceptedAudiences(ctx);
  if (!audiences.includes(claims.aud)) {
    throw new TokenError(
      'InvalidAuthenticationTokenAudience',
      `The access token has been obtained for wrong audience or resource '${claims.aud}'. It should exactly match with one of the allowed audiences '${audiences.slice(0, ARM_AUDIENCES.length + 2).join("','")}'.`,
    );
  }
  if (claims.tid.toLowerCase() !== ctx.config.identities.tenantId.toLowerCase()) {
    throw new TokenError(
      'InvalidAuthenticationTokenTenant',
      `The access token is from the wrong issuer. It must match the tenant '${ctx.config.identities.tenantId}'.`,
    );
  }
  return claims;
}

// ---- Entra routes -----------------------------------------------------------------------------

interface TenantParams {
  tenant: string;
}

/** Deterministic GUID-shaped id from a seed (service principal object id, experiment ids, ...). */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function registerAuthRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const config = { surface: 'entra' as const };
  const origin = (req: FastifyRequest): string => `https://${req.host}`;

  const openIdConfiguration = (
    req: FastifyRequest<{ Params: TenantParams }>,
    reply: FastifyReply,
    v2: boolean,
  ): unknown => {
    const tenant = req.params.tenant;
    if (!knownTenant(ctx, tenant))
      return sendEntraError(
        reply,
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    const o = origin(req);
    const tid = ctx.config.identities.tenantId;
    const suffix = v2 ? '/v2.0' : '';
    return {
      token_endpoint: `${o}/${tid}/oauth2${suffix}/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${o}/${tid}/discovery${suffix}/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: v2 ? `${o}/${tid}/v2.0` : `${o}/${tid}/`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${o}/oidc/userinfo`,
      authorization_endpoint: `${o}/${tid}/oauth2${suffix}/authorize`,
      device_authorization_endpoint: `${o}/${tid}/oauth2${suffix}/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${o}/${tid}/oauth2${suffix}/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid'],
      tenant_region_scope: 'NA',
      cloud_instance_name: req.hostname,
      cloud_graph_host_name: req.hostname,
      msgraph_host: req.hostname,
      rbac_url: o,
    };
  };

  app.get<{ Params: TenantParams }>('/:tenant/v2.0/.well-known/openid-configuration', { config }, (req, reply) =>
    openIdConfiguration(req, reply, true),
  );
  app.get<{ Params: TenantParams }>('/:tenant/.well-known/openid-configuration', { config }, (req, reply) =>
    openIdConfiguration(req, reply, false),
  );
  app.get('/:tenant/discovery/v2.0/keys', { config }, () => ({ keys: [] }));
  app.get('/:tenant/discovery/keys', { config }, () => ({ keys: [] }));
  // Instance discovery (MSAL skips it with disableInstanceDiscovery; answered for other clients).
  app.get('/common/discovery/instance', { config }, (req) => ({
    tenant_discovery_endpoint: `${origin(req)}/${ctx.config.identities.tenantId}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: req.host, preferred_cache: req.host, aliases: [req.host] }],
  }));

  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/token', { config }, (req, reply) => {
    const ids = ctx.config.identities;
    if (!knownTenant(ctx, req.params.tenant))
      return sendEntraError(reply, 400, 'invalid_tenant', 90002, `Tenant '${req.params.tenant}' not found.`);
    const form = isObject(req.body) ? req.body : {};
    const grantType = asString(form['grant_type']);
    const clientId = asString(form['client_id']);
    const secret = asString(form['client_secret']);
    const scope = asString(form['scope']) ?? '';
    if (grantType !== 'client_credentials') {
      return sendEntraError(
        reply,
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType ?? ''}'.`,
      );
    }
    if (!clientId || clientId.toLowerCase() !== ids.clientId.toLowerCase()) {
      return sendEntraError(
        reply,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId ?? ''}' was not found in the directory '${ids.tenantId}'.`,
      );
    }
    if (!secret || !sameSecret(secret, ctx.config.clientSecret)) {
      return sendEntraError(
        reply,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${ids.clientId}'.`,
      );
    }
    const resource = scope
      .split(' ')
      .find((s) => s.endsWith('/.default'))
      ?.slice(0, -'/.default'.length);
    if (!resource) {
      return sendEntraError(
        reply,
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope '${scope}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const now = Math.floor(ctx.now() / 1000);
    const oid = stableGuid(`sp:${ids.clientId}`);
    const claims: TokenClaims = {
      aud: resource,
      // Access tokens carry Entra's v1 issuer, as real ARM and Storage tokens do (Azurite checks it).
      iss: `https://sts.windows.net/${ids.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + TOKEN_LIFETIME_SECONDS,
      appid: ids.clientId,
      azp: ids.clientId,
      tid: ids.tenantId,
      oid,
      sub: oid,
      idtyp: 'app',
      ver: '1.0',
      uti: randomUUID(),
    };
    return {
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_SECONDS - 1,
      ext_expires_in: TOKEN_LIFETIME_SECONDS - 1,
      access_token: signToken(ctx.store.state.signingKey, claims),
    };
  });
}

function knownTenant(ctx: EmulatorContext, tenant: string): boolean {
  return tenant.toLowerCase() === ctx.config.identities.tenantId.toLowerCase();
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function sendEntraError(
  reply: FastifyReply,
  status: number,
  error: string,
  code: number,
  description: string,
): FastifyReply {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace('Z', 'Z');
  return reply.code(status).send({
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}
