// The operator's webhook settings, read from the environment by the worker (delivery) and by the client, the
// API and the CLI (registration), and checked at start-up: a bad value fails naming the variable.
//
//   FTFLOW_WEBHOOK_SECRET_KEY            base64 of 32 random bytes: every signing secret is derived from it
//                                        (src/webhooks/secrets.ts); the same on every process. Unset: webhooks
//                                        cannot be registered, and a worker cannot sign.
//   FTFLOW_WEBHOOK_SECRET_OLD_KEYS       earlier keys, comma-separated, still deriving the secrets made with them
//   FTFLOW_WEBHOOK_ALLOW_PRIVATE         addresses, CIDR blocks, host names webhooks may reach although private
//   FTFLOW_WEBHOOK_TIMEOUT_SECONDS       one attempt, from connecting to the response's status line (default 15)
//   FTFLOW_WEBHOOK_FIRST_RETRY_SECONDS   the wait after the first failed attempt; each next one is 3 times longer (5)
//   FTFLOW_WEBHOOK_MAX_RETRY_SECONDS     the longest wait between two attempts (7200)
//   FTFLOW_WEBHOOK_RETRY_HOURS           no attempt starts later than this after the first (24, at most 72)
//   FTFLOW_WEBHOOK_MAX_ENDPOINTS         endpoints one API key may register (20, at most 100)
// Local mode (FTFLOW_ARM_ENDPOINT on loopback: the local stack) also admits loopback URLs, over http too.
import { ENV } from '../config/env';
import { ConfigError } from '../config/errors';
import { isLoopbackUrl } from '../dataset/sourceSettings';
import { DEFAULT_RETRY_SCHEDULE } from './backoff';
import type { RetrySchedule } from './events';
import { MAX_ENDPOINTS_PER_OWNER } from './registry';
import { WEBHOOK_SECRET_KEY_ENV, WEBHOOK_SECRET_OLD_KEYS_ENV, WebhookSecrets } from './secrets';
import { WEBHOOK_ALLOW_PRIVATE_ENV, webhookUrlPolicy, type WebhookUrlPolicy } from './urlPolicy';

export const WEBHOOK_ENV = {
  secretKey: WEBHOOK_SECRET_KEY_ENV,
  secretOldKeys: WEBHOOK_SECRET_OLD_KEYS_ENV,
  allowPrivate: WEBHOOK_ALLOW_PRIVATE_ENV,
  timeout: 'FTFLOW_WEBHOOK_TIMEOUT_SECONDS',
  firstRetry: 'FTFLOW_WEBHOOK_FIRST_RETRY_SECONDS',
  maxRetry: 'FTFLOW_WEBHOOK_MAX_RETRY_SECONDS',
  retryHours: 'FTFLOW_WEBHOOK_RETRY_HOURS',
  maxEndpoints: 'FTFLOW_WEBHOOK_MAX_ENDPOINTS',
} as const;

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_ENDPOINTS = 20;
const DEFAULT_RETRY_SECONDS = {
  first: DEFAULT_RETRY_SCHEDULE.firstDelayMs / 1000,
  max: DEFAULT_RETRY_SCHEDULE.maxDelayMs / 1000,
};

export interface WebhookSettings {
  policy: WebhookUrlPolicy;
  /** Undefined when FTFLOW_WEBHOOK_SECRET_KEY is unset. */
  secrets?: WebhookSecrets;
  attemptTimeoutMs: number;
  schedule: RetrySchedule;
  maxEndpoints: number;
}

function number(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
  unit: string,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new ConfigError(`${name} must be a number of ${unit} from ${min} to ${max}, got "${raw}"`);
  return value;
}

export function loadWebhookSettings(env: NodeJS.ProcessEnv = process.env): WebhookSettings {
  let policy: WebhookUrlPolicy;
  try {
    policy = webhookUrlPolicy(isLoopbackUrl(env[ENV.armEndpoint]), env[WEBHOOK_ALLOW_PRIVATE_ENV]);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const secrets = WebhookSecrets.fromEnv(env);
  const firstDelayMs = number(env, WEBHOOK_ENV.firstRetry, DEFAULT_RETRY_SECONDS.first, 0.1, 3600, 'seconds') * 1000;
  const maxDelayMs = number(env, WEBHOOK_ENV.maxRetry, DEFAULT_RETRY_SECONDS.max, 1, 24 * 3600, 'seconds') * 1000;
  const giveUpAfterMs = number(env, WEBHOOK_ENV.retryHours, 24, 0.001, 72, 'hours') * 3600_000;
  return {
    policy,
    ...(secrets ? { secrets } : {}),
    attemptTimeoutMs: number(env, WEBHOOK_ENV.timeout, DEFAULT_WEBHOOK_TIMEOUT_MS / 1000, 1, 120, 'seconds') * 1000,
    schedule: {
      firstDelayMs,
      factor: DEFAULT_RETRY_SCHEDULE.factor,
      maxDelayMs: Math.max(maxDelayMs, firstDelayMs),
      giveUpAfterMs: Math.round(giveUpAfterMs),
    },
    maxEndpoints: Math.floor(
      number(env, WEBHOOK_ENV.maxEndpoints, DEFAULT_MAX_ENDPOINTS, 1, MAX_ENDPOINTS_PER_OWNER, 'endpoints'),
    ),
  };
}
