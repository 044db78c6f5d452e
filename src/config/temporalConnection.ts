// Where and how to reach Temporal, from options or the environment, for the client, the worker, the CLI
// and the API alike: plain TCP locally, TLS or mTLS for a self-hosted server, an API key for Temporal Cloud.
import * as fs from 'node:fs';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { ENV } from './env';

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

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the Temporal ${what} ${file}: ${(err as Error).message}`);
  }
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

/** Options first, then the environment; certificate files are read here so a bad path fails at start. */
export function resolveTemporalConnection(opts: TemporalConnectionOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedTemporalConnection {
  const address = opts.address ?? (env[ENV.temporalAddress] || '127.0.0.1:7233');
  const namespace = opts.namespace ?? (env[ENV.temporalNamespace] || 'default');
  const apiKey = opts.apiKey ?? (env[ENV.temporalApiKey] || undefined);
  const files =
    typeof opts.tls === 'object'
      ? opts.tls
      : {
          cert: env[ENV.temporalTlsCert] || undefined,
          key: env[ENV.temporalTlsKey] || undefined,
          ca: env[ENV.temporalTlsCa] || undefined,
          serverName: env[ENV.temporalTlsServerName] || undefined,
        };
  const anyFile = files.cert !== undefined || files.key !== undefined || files.ca !== undefined;
  const wantTls = opts.tls === false ? false : opts.tls !== undefined ? true : truthy(env[ENV.temporalTls]) || anyFile || apiKey !== undefined;
  if (!wantTls) return { address, namespace, apiKey };
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new Error(`mTLS needs both a client certificate and its key (${ENV.temporalTlsCert} and ${ENV.temporalTlsKey})`);
  }
  const tls: TLSConfig = {};
  if (files.serverName) tls.serverNameOverride = files.serverName;
  if (files.ca) tls.serverRootCACertificate = readPem(files.ca, 'CA certificate');
  if (files.cert && files.key) tls.clientCertPair = { crt: readPem(files.cert, 'client certificate'), key: readPem(files.key, 'client key') };
  return { address, namespace, apiKey, tls };
}
