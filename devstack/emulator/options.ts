// Options of the emulator and their defaults. Everything is optional: the defaults are the local
// stack's fixed identities (src/config/local.ts), a random port and a random client secret.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { LOCAL_AZURE } from 'finetune-flow/config';
import { loadPriceTable, type PriceTable } from 'finetune-flow/cost';
import { DEFAULT_CLOCK, JOB_PHASES, type EmulatorClock, type TimeMode } from './clock';
import type { HubEmulatorOptions } from './hub/routes';
import { checkQuotaConfig, DEFAULT_QUOTAS, type QuotaConfig } from './quotaConfig';
import { DEFAULT_THROTTLE, type ThrottleConfig } from './throttle';
import { DEFAULT_EVENT_SETTINGS, type EventSettings } from './eventSettings';

export type LocalAzureIdentities = { -readonly [K in keyof typeof LOCAL_AZURE]: string };

/** Which state of the `azureml` registry to serve: the notebook's days, or today's (archived). */
import type { CatalogName } from './catalog/types';

export type { CatalogName };

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
  /** Compressed clock: per-phase durations and a speed multiplier; see EmulatorClock. */
  clock?: Partial<EmulatorClock>;
  /** 'real' (default): emulator time follows the clock. 'stepped': time stands still until
   *  POST /_emulator/clock/advance moves it (tests). */
  timeMode?: TimeMode;
  /** ARM throttling (token buckets per subscription and principal); `false` turns it off. */
  throttle?: Partial<ThrottleConfig> | false;
  /** vCPU quota per VM family, regional vCPUs, the endpoint cap; see QuotaConfig. */
  quotas?: Partial<QuotaConfig>;
  /** Contract checks against the swagger files: requests (default true: invalid ones get 400) and
   *  responses ('strict' default: a response that breaks the contract becomes a 500; 'record':
   *  only listed under GET /_emulator/contract; 'off'). */
  contract?: { requests?: boolean; responses?: 'strict' | 'record' | 'off' };
  /** Retry-After (seconds) on LRO responses and polls. Default 1. */
  retryAfterSeconds?: number;
  /** Items per page of paged lists (Jobs_List). Default 100. */
  listPageSize?: number;
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
  /** Event Grid delivery: duplicate, reorder and lose rates, seed, retry scale (see events.ts). */
  events?: Partial<EventSettings>;
  /**
   * The list prices the billing meter charges: default the product's table (finetune-flow/cost), with
   * FTFLOW_PRICES_FILE over it as the worker reads it, so both price a run alike.
   */
  prices?: PriceTable;
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
  timeMode: TimeMode;
  throttle: ThrottleConfig;
  quotas: QuotaConfig;
  contract: { requests: boolean; responses: 'strict' | 'record' | 'off' };
  retryAfterSeconds: number;
  listPageSize: number;
  catalog: CatalogName;
  requestLogLimit: number;
  logger: boolean;
  events: EventSettings;
  prices: PriceTable;
}

export function resolveOptions(opts: EmulatorOptions): ResolvedConfig {
  const clock: EmulatorClock = {
    ...DEFAULT_CLOCK,
    ...definedOnly(opts.clock ?? {}),
    jobPhases: { ...(opts.clock?.jobPhases ?? {}) },
  };
  checkClock(clock);
  const throttle: ThrottleConfig =
    opts.throttle === false
      ? { ...DEFAULT_THROTTLE, enabled: false }
      : { ...DEFAULT_THROTTLE, ...definedOnly(opts.throttle ?? {}) };
  const quotas: QuotaConfig = {
    ...DEFAULT_QUOTAS,
    ...definedOnly(opts.quotas ?? {}),
    familyVcpus: { ...DEFAULT_QUOTAS.familyVcpus, ...(opts.quotas?.familyVcpus ?? {}) },
  };
  checkQuotaConfig(quotas);
  const retryAfterSeconds = opts.retryAfterSeconds ?? 1;
  if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
    throw new Error('emulator: retryAfterSeconds must be an integer >= 0');
  }
  const listPageSize = opts.listPageSize ?? 100;
  if (!Number.isInteger(listPageSize) || listPageSize < 1)
    throw new Error('emulator: listPageSize must be an integer >= 1');
  return {
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    tls: opts.tls ?? { certPath: resolve('.data/certs/server.pem'), keyPath: resolve('.data/certs/server-key.pem') },
    azuriteBlobUrl: opts.azuriteBlobUrl,
    identities: { ...LOCAL_AZURE, ...definedOnly(opts.identities ?? {}) },
    clientSecret: opts.clientSecret ?? randomBytes(24).toString('base64url'),
    stateFile: opts.stateFile ? resolve(opts.stateFile) : undefined,
    clock,
    timeMode: opts.timeMode ?? 'real',
    throttle,
    quotas,
    contract: { requests: opts.contract?.requests ?? true, responses: opts.contract?.responses ?? 'strict' },
    retryAfterSeconds,
    listPageSize,
    catalog: opts.catalog ?? 'seed',
    requestLogLimit: opts.requestLogLimit ?? 10000,
    logger: opts.logger ?? false,
    events: checkEventSettings({ ...DEFAULT_EVENT_SETTINGS, ...definedOnly(opts.events ?? {}) }),
    prices: opts.prices ?? loadPriceTable(process.env),
  };
}

function checkEventSettings(s: EventSettings): EventSettings {
  for (const key of ['duplicateRate', 'reorderRate', 'loseRate'] as const)
    if (!(s[key] >= 0 && s[key] <= 1)) throw new Error(`emulator: events.${key} must be between 0 and 1`);
  if (!(s.retryScale >= 0) || !(s.tickMs > 0) || !Number.isInteger(s.seed))
    throw new Error('emulator: events.retryScale must be >= 0, events.tickMs > 0 and events.seed an integer');
  return s;
}

/** Throws unless every duration is a number >= 0 and speed > 0. */
export function checkClock(clock: EmulatorClock): void {
  for (const name of ['jobPhaseMs', 'provisionMs', 'deleteMs', 'cancelMs'] as const) {
    const value = clock[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new Error(`emulator: clock.${name} must be a number >= 0`);
  }
  if (typeof clock.speed !== 'number' || !Number.isFinite(clock.speed) || clock.speed <= 0)
    throw new Error('emulator: clock.speed must be a number > 0');
  for (const [phase, value] of Object.entries(clock.jobPhases)) {
    if (!(JOB_PHASES as readonly string[]).includes(phase))
      throw new Error(`emulator: clock.jobPhases.${phase} is not a job phase (${JOB_PHASES.join(', ')})`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new Error(`emulator: clock.jobPhases.${phase} must be a number >= 0`);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
