// Where and how to reach Temporal, from options or the environment, for the client, the worker, the CLI
// and the API alike: plain TCP locally, TLS or mTLS for a self-hosted server, an API key for Temporal Cloud.
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { ENV } from './env';
import { TEMPORAL_ENV, connectionOptions, loadTemporalConfig } from './temporal';

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
