// Operator settings for where a run's own dataset files (dataset.files) may come from. The worker's
// stageDataset step reads them; a run spec is user input, these are the operator's limits on it.
//
//   FTFLOW_DATASET_ALLOW_HOSTS  Host names ("data.corp.example", or "*.corp.example" for every name
//                               under it), IP addresses and CIDR blocks ("10.20.0.0/16", "fd12::/48"),
//                               separated by commas or spaces, that dataset URLs may reach although
//                               they resolve to a loopback, private, link-local, metadata or other
//                               non-public address, and over plain http. Default: empty (only public
//                               addresses, https only).
//   FTFLOW_DATA_ROOT            Directories, separated by ":", under which local paths and file:// URLs
//                               may be read (checked after symlinks are resolved). Unset: local paths
//                               are refused, except in local mode, where the worker's working directory
//                               and the OS temp directory are the default.
//   FTFLOW_DATASET_CONNECT_TIMEOUT_SECONDS   DNS lookup, then TCP (and TLS) connect. Default 10.
//   FTFLOW_DATASET_RESPONSE_TIMEOUT_SECONDS  Request sent until the response headers. Default 30.
//   FTFLOW_DATASET_IDLE_TIMEOUT_SECONDS      Between two chunks of a response body. Default 60.
//
// Local mode: the worker's ARM endpoint (FTFLOW_ARM_ENDPOINT) is a loopback address, which is how the
// local stack (devstack/stack/) runs it against the emulator on the developer's machine. There, dataset
// URLs may also reach loopback addresses over http or https (files served on the same machine).
// The Hugging Face Hub (HF_ENDPOINT) is operator configuration, not user input: it is not subject to
// these address checks.
import * as os from 'node:os';
import * as path from 'node:path';
import { isIP } from 'node:net';
import { ENV } from '../config/env';
import { ConfigError } from '../config/errors';
import { AllowList, classifyAddress } from './addresses';
import { DEFAULT_FETCH_TIMEOUTS, type SourceAccessPolicy } from './guardedFetch';
import type { DataRoots } from './localRoot';

export const DATASET_ENV = {
  allowHosts: 'FTFLOW_DATASET_ALLOW_HOSTS',
  dataRoot: 'FTFLOW_DATA_ROOT',
  connectTimeout: 'FTFLOW_DATASET_CONNECT_TIMEOUT_SECONDS',
  responseTimeout: 'FTFLOW_DATASET_RESPONSE_TIMEOUT_SECONDS',
  idleTimeout: 'FTFLOW_DATASET_IDLE_TIMEOUT_SECONDS',
} as const;

/** Redirects followed per request (each hop is checked like the first URL). */
export const MAX_DATASET_REDIRECTS = 5;

export interface DatasetSourceSettings {
  /** The worker runs against the local stack (its ARM endpoint is on loopback). */
  localMode: boolean;
  access: SourceAccessPolicy;
  /** Where local paths may be read; undefined: nowhere. */
  dataRoots?: DataRoots;
}

/** True when `url` is an http(s) URL whose host is a loopback address or "localhost". */
export function isLoopbackUrl(url: string | undefined): boolean {
  if (!url) return false;
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && classifyAddress(host) === 'loopback';
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallbackMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallbackMs;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 3600)
    throw new ConfigError(`${name} must be a number of seconds between 0 and 3600, got "${raw}"`);
  return Math.round(value * 1000);
}

/** Reads the dataset source settings from the environment; a bad value fails with the variable named. */
export function loadDatasetSourceSettings(env: NodeJS.ProcessEnv = process.env): DatasetSourceSettings {
  const localMode = isLoopbackUrl(env[ENV.armEndpoint]);
  let allow: AllowList;
  try {
    allow = AllowList.parse(env[DATASET_ENV.allowHosts] ?? '');
  } catch (err) {
    throw new ConfigError(`${DATASET_ENV.allowHosts}: ${(err as Error).message}`);
  }
  const rootText = (env[DATASET_ENV.dataRoot] ?? '').trim();
  let dataRoots: DataRoots | undefined;
  if (rootText !== '') {
    const dirs = rootText
      .split(path.delimiter)
      .map((d) => d.trim())
      .filter((d) => d !== '');
    const relative = dirs.find((d) => !path.isAbsolute(d));
    if (relative !== undefined)
      throw new ConfigError(`${DATASET_ENV.dataRoot} must list absolute directories, got "${relative}"`);
    dataRoots = { dirs, origin: 'env', variable: DATASET_ENV.dataRoot };
  } else if (localMode) {
    dataRoots = { dirs: [process.cwd(), os.tmpdir()], origin: 'local-default', variable: DATASET_ENV.dataRoot };
  }
  return {
    localMode,
    access: {
      allowLoopback: localMode,
      allow,
      timeouts: {
        connectMs: seconds(env, DATASET_ENV.connectTimeout, DEFAULT_FETCH_TIMEOUTS.connectMs),
        responseMs: seconds(env, DATASET_ENV.responseTimeout, DEFAULT_FETCH_TIMEOUTS.responseMs),
        idleMs: seconds(env, DATASET_ENV.idleTimeout, DEFAULT_FETCH_TIMEOUTS.idleMs),
      },
      maxRedirects: MAX_DATASET_REDIRECTS,
      names: {
        allowHosts: DATASET_ENV.allowHosts,
        connectTimeout: DATASET_ENV.connectTimeout,
        responseTimeout: DATASET_ENV.responseTimeout,
        idleTimeout: DATASET_ENV.idleTimeout,
      },
    },
    ...(dataRoots ? { dataRoots } : {}),
  };
}
