// Where the worker and the client find Temporal: the local dev server, a self-hosted cluster (TLS or mTLS)
// or Temporal Cloud (an API key, or mTLS with the namespace's CA). One schema over the environment, with
// the Temporal CLI's variable names; an error names the variable and the fix, before anything connects.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { TLSConfig } from '@temporalio/client';
import { ENV } from './env';

/** Variables of the Temporal connection that env.ts does not name yet. */
export const TEMPORAL_ENV = {
  apiKey: 'TEMPORAL_API_KEY',
  tls: 'TEMPORAL_TLS',
  tlsCert: 'TEMPORAL_TLS_CERT',
  tlsKey: 'TEMPORAL_TLS_KEY',
  tlsCa: 'TEMPORAL_TLS_CA',
  tlsServerName: 'TEMPORAL_TLS_SERVER_NAME',
} as const;

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/** The task queue the workers poll and the client starts runs on, unless FTFLOW_TASK_QUEUE names another. */
export const TASK_QUEUE = 'finetune-flow';

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

/** Unset and empty mean the same: compose files and .env templates leave optional variables empty. */
const optionalText = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z.string().trim().optional(),
);
const withDefault = (fallback: string) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().default(fallback));
const optionalFlag = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z
    .stringbool({
      truthy: ['true', '1', 'yes', 'on'],
      falsy: ['false', '0', 'no', 'off'],
      error: 'must be true or false',
    })
    .optional(),
);

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export const temporalEnvSchema = z.object({
  [ENV.temporalAddress]: withDefault(DEFAULT_TEMPORAL_ADDRESS)
    .pipe(
      z.string().regex(HOST_PORT, 'must be host:port, e.g. temporal:7233 or <namespace>.<account>.tmprl.cloud:7233'),
    )
    .describe(
      'Temporal frontend host:port (Temporal Cloud: <namespace>.<account>.tmprl.cloud:7233, or the regional endpoint for API keys)',
    ),
  [ENV.temporalNamespace]: withDefault('default').describe(
    'Temporal namespace (Temporal Cloud: <namespace>.<account>)',
  ),
  [ENV.taskQueue]: withDefault(TASK_QUEUE).describe('task queue the workers poll and the client starts runs on'),
  [TEMPORAL_ENV.apiKey]: optionalText.describe('Temporal Cloud API key (secret); implies TLS'),
  [TEMPORAL_ENV.tls]: optionalFlag.describe(
    'true: TLS with the system roots; false: plaintext even with an API key; default: TLS when an API key or a certificate is set',
  ),
  [TEMPORAL_ENV.tlsCert]: optionalText.describe('mTLS client certificate (PEM file path); needs TEMPORAL_TLS_KEY'),
  [TEMPORAL_ENV.tlsKey]: optionalText.describe(
    'mTLS client private key (PEM file path, secret); needs TEMPORAL_TLS_CERT',
  ),
  [TEMPORAL_ENV.tlsCa]: optionalText.describe(
    "CA certificate (PEM file path) of a server whose certificate the system doesn't trust",
  ),
  [TEMPORAL_ENV.tlsServerName]: optionalText.describe('TLS server name (SNI) when it differs from the address host'),
});

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Set for Temporal Cloud API-key authentication; never logged. */
  apiKey?: string;
  /** Undefined: plaintext. */
  tls?: TLSConfig;
  /** How the connection authenticates, for start-up logs (no secrets). */
  auth: 'none' | 'tls' | 'mtls' | 'api-key';
}

function readPem(variable: string, file: string, problems: string[]): Buffer | undefined {
  try {
    const pem = readFileSync(file);
    if (!pem.toString('utf8').includes('-----BEGIN '))
      problems.push(`${variable}=${file} is not a PEM file (no "-----BEGIN" line)`);
    return pem;
  } catch (err) {
    problems.push(
      `${variable}=${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
    return undefined;
  }
}

/** Zod issues as "VARIABLE: message" lines. */
export function describeEnvIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
}

/** Reads and checks the Temporal connection settings; certificate files are read here, so a bad path fails at start. */
export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const parsed = temporalEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigurationError(describeEnvIssues(parsed.error));
  const v = parsed.data;
  const problems: string[] = [];
  const cert = v[TEMPORAL_ENV.tlsCert];
  const key = v[TEMPORAL_ENV.tlsKey];
  const ca = v[TEMPORAL_ENV.tlsCa];
  const apiKey = v[TEMPORAL_ENV.apiKey];
  const address = v[ENV.temporalAddress];

  if ((cert === undefined) !== (key === undefined)) {
    problems.push(
      `mTLS needs both ${TEMPORAL_ENV.tlsCert} and ${TEMPORAL_ENV.tlsKey} (only ${cert !== undefined ? TEMPORAL_ENV.tlsCert : TEMPORAL_ENV.tlsKey} is set)`,
    );
  }
  const wantsTls =
    cert !== undefined || key !== undefined || ca !== undefined || v[TEMPORAL_ENV.tlsServerName] !== undefined;
  if (v[TEMPORAL_ENV.tls] === false && wantsTls) {
    problems.push(
      `${TEMPORAL_ENV.tls}=false contradicts the TLS files set (${TEMPORAL_ENV.tlsCert}, ${TEMPORAL_ENV.tlsKey}, ${TEMPORAL_ENV.tlsCa}, ${TEMPORAL_ENV.tlsServerName}): unset one or the other`,
    );
  }
  if (/\.tmprl\.cloud:\d+$/.test(address) && apiKey === undefined && cert === undefined) {
    problems.push(
      `${ENV.temporalAddress}=${address} is Temporal Cloud: set ${TEMPORAL_ENV.apiKey}, or ${TEMPORAL_ENV.tlsCert} and ${TEMPORAL_ENV.tlsKey} for mTLS`,
    );
  }
  if (cert !== undefined && key !== undefined && apiKey !== undefined) {
    problems.push(
      `set either ${TEMPORAL_ENV.apiKey} or the mTLS pair ${TEMPORAL_ENV.tlsCert}/${TEMPORAL_ENV.tlsKey}, not both`,
    );
  }

  const useTls = v[TEMPORAL_ENV.tls] ?? (wantsTls || apiKey !== undefined);
  let tls: TLSConfig | undefined;
  if (useTls) {
    tls = {};
    const serverName = v[TEMPORAL_ENV.tlsServerName];
    if (serverName !== undefined) tls.serverNameOverride = serverName;
    if (ca !== undefined) tls.serverRootCACertificate = readPem(TEMPORAL_ENV.tlsCa, ca, problems);
    if (cert !== undefined && key !== undefined) {
      const crt = readPem(TEMPORAL_ENV.tlsCert, cert, problems);
      const pem = readPem(TEMPORAL_ENV.tlsKey, key, problems);
      if (crt && pem) tls.clientCertPair = { crt, key: pem };
    }
  }
  if (problems.length > 0) throw new ConfigurationError(problems);

  const auth: TemporalConfig['auth'] =
    apiKey !== undefined ? 'api-key' : tls?.clientCertPair ? 'mtls' : tls ? 'tls' : 'none';
  return { address, namespace: v[ENV.temporalNamespace], taskQueue: v[ENV.taskQueue], apiKey, tls, auth };
}

/** Options for NativeConnection.connect (worker) and Connection.connect (client): the same shape. */
export function connectionOptions(config: TemporalConfig): { address: string; tls?: TLSConfig; apiKey?: string } {
  return {
    address: config.address,
    ...(config.tls ? { tls: config.tls } : {}),
    ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
  };
}
