// Where and how to reach Temporal, from options or the environment, for the client, the worker, the CLI
// and the API alike: plain TCP locally, TLS or mTLS for a self-hosted server, an API key for Temporal Cloud.
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { ENV } from './env';
import { DEFAULT_TEMPORAL_ADDRESS, TEMPORAL_ENV, connectionOptions, loadTemporalConfig } from './temporal';

export interface TemporalConnectionOptions {
  /** host:port of the frontend; default TEMPORAL_ADDRESS or 127.0.0.1:7233. */
  address?: string;
  /** Default TEMPORAL_NAMESPACE or "default". */
  namespace?: string;
  /** Temporal Cloud API key (implies TLS); default TEMPORAL_API_KEY. */
  apiKey?: string;
  /**
   * true for TLS with the system's roots, or certificate files: `cert` + `key` for mTLS, `ca` for a
   * private CA. Default from TEMPORAL_TLS, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA,
   * TEMPORAL_TLS_SERVER_NAME.
   */
  tls?: boolean | { cert?: string; key?: string; ca?: string; serverName?: string };
  /** How long to try to reach the server before giving up; default 10 s. */
  connectTimeoutMs?: number;
}

export interface ResolvedTemporalConnection {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: TLSConfig;
}

/**
 * Options first, then the environment, validated by the one schema the worker uses (config/temporal.ts);
 * certificate files are read there, so a bad path fails at start.
 */
export function resolveTemporalConnection(
  opts: TemporalConnectionOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedTemporalConnection {
  const merged: NodeJS.ProcessEnv = { ...env };
  if (opts.address !== undefined) merged[ENV.temporalAddress] = opts.address;
  if (opts.namespace !== undefined) merged[ENV.temporalNamespace] = opts.namespace;
  if (opts.apiKey !== undefined) merged[TEMPORAL_ENV.apiKey] = opts.apiKey;
  if (opts.tls === false) {
    for (const name of [
      TEMPORAL_ENV.tls,
      TEMPORAL_ENV.tlsCert,
      TEMPORAL_ENV.tlsKey,
      TEMPORAL_ENV.tlsCa,
      TEMPORAL_ENV.tlsServerName,
    ])
      delete merged[name];
  } else if (opts.tls === true) {
    merged[TEMPORAL_ENV.tls] = 'true';
  } else if (typeof opts.tls === 'object') {
    merged[TEMPORAL_ENV.tls] = 'true';
    const files: [string, string | undefined][] = [
      [TEMPORAL_ENV.tlsCert, opts.tls.cert],
      [TEMPORAL_ENV.tlsKey, opts.tls.key],
      [TEMPORAL_ENV.tlsCa, opts.tls.ca],
      [TEMPORAL_ENV.tlsServerName, opts.tls.serverName],
    ];
    for (const [name, value] of files) {
      if (value === undefined) delete merged[name];
      else merged[name] = value;
    }
  }
  const config = loadTemporalConfig(merged);
  return { ...connectionOptions(config), namespace: config.namespace };
}

/** The connection as the worker or the client tried it. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  tls?: unknown;
  apiKey?: string;
}

/**
 * Temporal could not be reached (gRPC UNAVAILABLE, refused or timed-out connection). The CLI's exit 7 and
 * the API's 503 use it through control/errors.ts, which re-exports it.
 */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; name?: unknown } | undefined;
  return (
    e?.code === 14 ||
    e?.name === 'TransportError' ||
    /Failed to connect|ECONNREFUSED|UNAVAILABLE|connection refused/i.test(String(e?.message ?? ''))
  );
}

/**
 * Temporal did not answer at the address tried. Says where, in which namespace and how (plaintext or
 * TLS), and which variables point elsewhere. `code` 14 is gRPC UNAVAILABLE, as the SDK's own errors
 * carry, so whoever classifies "unreachable" (isUnavailable above: the CLI's exit 7, the
 * API's 503) treats it as before.
 */
export class TemporalUnreachableError extends Error {
  readonly code = 14;
  constructor(
    readonly address: string,
    readonly namespace: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TemporalUnreachableError';
  }
}

/** Where the address came from, as a user would fix it. */
function addressOrigin(address: string, env: NodeJS.ProcessEnv): string {
  const fromEnv = env[ENV.temporalAddress]?.trim();
  if (fromEnv && fromEnv === address) return `from ${ENV.temporalAddress}`;
  if (!fromEnv && address === DEFAULT_TEMPORAL_ADDRESS) return `the default: ${ENV.temporalAddress} is not set`;
  return 'as passed';
}

/** The message of a TemporalUnreachableError: what was tried, and what to set. */
export function unreachableMessage(
  target: TemporalTarget,
  cause: unknown,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const how = target.tls === undefined ? 'plaintext' : target.apiKey !== undefined ? 'TLS with an API key' : 'TLS';
  const reason = cause instanceof Error ? cause.message : String(cause);
  const tlsHint =
    target.tls === undefined
      ? `if it expects TLS, set ${TEMPORAL_ENV.tls}=true (a private CA: ${TEMPORAL_ENV.tlsCa}; mTLS: ${TEMPORAL_ENV.tlsCert} and ${TEMPORAL_ENV.tlsKey}; Temporal Cloud: ${TEMPORAL_ENV.apiKey})`
      : `if it is plaintext, set ${TEMPORAL_ENV.tls}=false; a server certificate from a private CA needs ${TEMPORAL_ENV.tlsCa}`;
  return (
    `cannot reach Temporal at ${target.address} (${addressOrigin(target.address, env)}; namespace ${target.namespace}; ${how}): ${reason}. ` +
    `Is the Temporal frontend running there? Point at another with ${ENV.temporalAddress}=host:port ` +
    `(and ${ENV.temporalNamespace}=<namespace>); ${tlsHint}.`
  );
}

/**
 * Runs `connect` (Connection.connect for clients, NativeConnection.connect for workers) and turns
 * "nothing answered" into a TemporalUnreachableError that names the address, the namespace and the
 * variables; other errors (a refused API key, a bad certificate) pass unchanged.
 */
export async function connectOrExplain<T>(
  target: TemporalTarget,
  connect: () => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    if (!isUnavailable(err)) throw err;
    throw new TemporalUnreachableError(target.address, target.namespace, unreachableMessage(target, err, env), {
      cause: err,
    });
  }
}
