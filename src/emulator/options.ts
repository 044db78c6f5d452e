// Options of the emulator and their defaults. Everything is optional: the defaults are the local
// stack's fixed identities (src/config/local.ts), a random port and a random client secret.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { LOCAL_AZURE } from '../config/local';
import { DEFAULT_CLOCK, type EmulatorClock } from './clock';
import type { HubEmulatorOptions } from './hub/routes';

export type LocalAzureIdentities = { -readonly [K in keyof typeof LOCAL_AZURE]: string };

/** Which state of the `azureml` registry to serve: the notebook's days, or today's (archived). */
export type CatalogName = 'seed' | 'current';

export interface EmulatorOptions {
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Server certificate and key (PEM). Default .data/certs/server.pem and server-key.pem. */
  tls?: { certPath: string; keyPath: string };
  /** Azurite blob account URL, e.g. http://127.0.0.1:10000/devstoreaccount1. Without it the
   *  datastore routes still answer but job inputs are not checked against blob storage. */
  azuriteBlobUrl?: string;
  /** Subscription, workspace, tenant, client id, registry ids; default LOCAL_AZURE. */
  identities?: Partial<LocalAzureIdentities>;
  /** The only client secret the token endpoint accepts. Default: random (see RunningEmulator). */
  clientSecret?: string;
  /** JSON snapshot rewritten after each mutation and loaded at start. Default: in memory only. */
  stateFile?: string;
  /** Compressed clock; see EmulatorClock. */
  clock?: Partial<EmulatorClock>;
  /** Retry-After (seconds) on LRO responses and polls. Default 1. */
  retryAfterSeconds?: number;
  /** Registry content. Default 'seed'. */
  catalog?: CatalogName;
  /** Passed through to the Hugging Face Hub routes mounted under /hf (see hub/routes.ts). */
  hub?: HubEmulatorOptions;
  /** Clock source, for tests. Default Date.now. */
  now?: () => number;
  /** How many requests GET /_emulator/requests keeps. Default 10000. */
  requestLogLimit?: number;
  /** Fastify request logging to stdout. Default false. */
  logger?: boolean;
}

export interface ResolvedConfig {
  host: string;
  port: number;
  tls: { certPath: string; keyPath: string };
  azuriteBlobUrl: string | undefined;
  identities: LocalAzureIdentities;
  clientSecret: string;
  stateFile: string | undefined;
  clock: EmulatorClock;
  retryAfterSeconds: number;
  catalog: CatalogName;
  requestLogLimit: number;
  logger: boolean;
}

export function resolveOptions(opts: EmulatorOptions): ResolvedConfig {
  const clock: EmulatorClock = { ...DEFAULT_CLOCK, ...definedOnly(opts.clock ?? {}) };
  for (const [name, value] of Object.entries(clock)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`emulator: clock.${name} must be a number >= 0`);
  }
  const retryAfterSeconds = opts.retryAfterSeconds ?? 1;
  if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
    throw new Error('emulator: retryAfterSeconds must be an integer >= 0');
  }
  return {
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    tls: opts.tls ?? { certPath: resolve('.data/certs/server.pem'), keyPath: resolve('.data/certs/server-key.pem') },
    azuriteBlobUrl: opts.azuriteBlobUrl,
    identities: { ...LOCAL_AZURE, ...definedOnly(opts.identities ?? {}) },
    clientSecret: opts.clientSecret ?? randomBytes(24).toString('base64url'),
    stateFile: opts.stateFile ? resolve(opts.stateFile) : undefined,
    clock,
    retryAfterSeconds,
    catalog: opts.catalog ?? 'seed',
    requestLogLimit: opts.requestLogLimit ?? 10000,
    logger: opts.logger ?? false,
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
