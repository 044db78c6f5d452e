// Where the worker finds Azure: environment variables, or a config.json in azure-ai-ml's format.
import { readFileSync } from 'node:fs';
import { ENV } from '../config/env';
import { ConfigError } from '../config/errors';
import { DEFAULT_ARM_BUDGET, splitBudget, type ArmBudget } from './budget';

export interface AzureConfig {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  /** ARM base URL; https://management.azure.com on Azure, the emulator locally. */
  armEndpoint: string;
  /** Registry discovery base (cloud metadata `registry_discovery_endpoint`). */
  registryDiscoveryUrl: string;
  /** Local stacks only: the blob service URL to use instead of https://<account>.blob.<endpoint>. */
  blobEndpointOverride?: string;
  hfEndpoint: string;
  credential: CredentialConfig;
  /** Shortest time between two cycles of the job watcher (the read allowance may stretch it). */
  jobPollSeconds: number;
  /** The job watcher's reads stay within this share of the worker's ARM read budget (default 0.25). */
  jobWatchReadShare: number;
  /** Push: Azure's job events (Event Grid, relayed by the API through Temporal) wake the followers. */
  jobPush: boolean;
  /** With push on, the fallback polling cycle's floor (missed events are noticed within it). */
  jobPushPollSeconds: number;
  /** How often, at most, the worker reads its training jobs' latest MLflow metrics (0 or "off": never). */
  metricsPollSeconds: number;
  /** Those reads stay at most this share of the worker's other reads (default 0.1: 10%). */
  metricsReadShare: number;
  /** Interval for the SDK's long-running-operation pollers. */
  lroPollMs: number;
  /** This worker's share of ARM's request budget (see budget.ts). */
  armBudget: ArmBudget;
  /** How staging authenticates to the datastore's storage account: an Entra token (default) or its account key. */
  datastoreAuth: 'identity' | 'accountKey';
}

export type CredentialConfig =
  { kind: 'clientSecret'; tenantId: string; clientId: string; authorityHost?: string } | { kind: 'default' };

interface WorkspaceConfigFile {
  subscription_id?: string;
  resource_group?: string;
  workspace_name?: string;
}

function readWorkspaceFile(path: string): WorkspaceConfigFile {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not a JSON object');
    return parsed as WorkspaceConfigFile;
  } catch (err) {
    throw new ConfigError(
      `${ENV.workspaceConfigFile}=${path} could not be read as azure-ai-ml config.json: ${(err as Error).message}`,
    );
  }
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a positive number, got "${raw}"`);
  return value;
}

function nonNegative(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new ConfigError(`${name} must be 0 or a positive number, got "${raw}"`);
  return value;
}

/** Reads the Azure target from the environment; every missing value is named with the variable to set. */
export function loadAzureConfig(env: NodeJS.ProcessEnv = process.env): AzureConfig {
  const file = env[ENV.workspaceConfigFile] ? readWorkspaceFile(env[ENV.workspaceConfigFile] as string) : {};
  const need = (name: string, fromFile: string | undefined): string => {
    const value = env[name] ?? fromFile;
    if (!value) {
      throw new ConfigError(
        `${name} is not set: export it, or point ${ENV.workspaceConfigFile} at the workspace's config.json`,
      );
    }
    return value;
  };
  const tenantId = env[ENV.tenantId];
  const clientId = env[ENV.clientId];
  const hasSecret = Boolean(env[ENV.clientSecret]);
  const credential: CredentialConfig =
    hasSecret && tenantId && clientId
      ? { kind: 'clientSecret', tenantId, clientId, authorityHost: env[ENV.authorityHost] || undefined }
      : { kind: 'default' };
  return {
    subscriptionId: need(ENV.subscriptionId, file.subscription_id),
    resourceGroup: need(ENV.resourceGroup, file.resource_group),
    workspace: need(ENV.workspace, file.workspace_name),
    armEndpoint: (env[ENV.armEndpoint] || 'https://management.azure.com').replace(/\/+$/, ''),
    registryDiscoveryUrl: ensureSlash(env[ENV.registryDiscoveryUrl] || 'https://eastus.api.azureml.ms/'),
    blobEndpointOverride: env[ENV.blobEndpointOverride] || undefined,
    hfEndpoint: (env[ENV.hfEndpoint] || 'https://huggingface.co').replace(/\/+$/, ''),
    credential,
    jobPollSeconds: positive(env, 'FTFLOW_JOB_POLL_SECONDS', 1),
    jobWatchReadShare: share(env, 'FTFLOW_JOB_WATCH_READ_SHARE', 0.25),
    jobPush: jobPush(env),
    jobPushPollSeconds: positive(env, 'FTFLOW_JOB_PUSH_POLL_SECONDS', 60),
    metricsPollSeconds:
      env.FTFLOW_METRICS_POLL_SECONDS === 'off' ? 0 : nonNegative(env, 'FTFLOW_METRICS_POLL_SECONDS', 120),
    metricsReadShare: positive(env, 'FTFLOW_METRICS_READ_SHARE', 0.1),
    lroPollMs: positive(env, 'FTFLOW_LRO_POLL_MS', 5000),
    datastoreAuth: datastoreAuth(env),
    armBudget: splitBudget(
      {
        readsPerSecond: positive(env, 'FTFLOW_ARM_READS_PER_SECOND', DEFAULT_ARM_BUDGET.readsPerSecond),
        writesPerSecond: positive(env, 'FTFLOW_ARM_WRITES_PER_SECOND', DEFAULT_ARM_BUDGET.writesPerSecond),
        deletesPerSecond: positive(env, 'FTFLOW_ARM_DELETES_PER_SECOND', DEFAULT_ARM_BUDGET.deletesPerSecond),
        burst: positive(env, 'FTFLOW_ARM_BURST', DEFAULT_ARM_BUDGET.burst),
      },
      budgetSplit(env),
    ),
  };
}

/**
 * FTFLOW_ARM_BUDGET_SPLIT: how many worker processes share the subscription's ARM budget (default 1).
 * The FTFLOW_ARM_* rates describe the whole budget; each process takes its share (budget.ts).
 */
function budgetSplit(env: NodeJS.ProcessEnv): number {
  const name = 'FTFLOW_ARM_BUDGET_SPLIT';
  const raw = env[name];
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(
      `${name} must be a whole number of worker processes (1 or more) sharing the ARM budget, got "${raw}": set it to the number of workers you run`,
    );
  }
  return value;
}

function share(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 1)
    throw new ConfigError(
      `${name} must be a share of the worker's ARM read budget above 0 and at most 1 (0.25 is a quarter), got "${raw}"`,
    );
  return value;
}

/** FTFLOW_JOB_PUSH: "on" when the API receives Azure's job events (docs/operations.md, Job events). */
function jobPush(env: NodeJS.ProcessEnv): boolean {
  const name = 'FTFLOW_JOB_PUSH';
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'off') return false;
  if (raw === 'on') return true;
  throw new ConfigError(
    `${name} must be "on" (the API receives Azure's job events from Event Grid and relays them to the workers) or "off" (polling only), got "${env[name]}"`,
  );
}

function datastoreAuth(env: NodeJS.ProcessEnv): AzureConfig['datastoreAuth'] {
  const value = env.FTFLOW_DATASTORE_AUTH || 'identity';
  if (value !== 'identity' && value !== 'accountKey') {
    throw new ConfigError(
      `FTFLOW_DATASTORE_AUTH must be "identity" (Entra token, needs Storage Blob Data Contributor) or "accountKey", got "${value}"`,
    );
  }
  return value;
}

function ensureSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

export function workspacePath(config: AzureConfig): string {
  return `/subscriptions/${config.subscriptionId}/resourceGroups/${config.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${config.workspace}`;
}

/** The client secret is read where the credential is built, never copied into config objects. */
export function clientSecretFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[ENV.clientSecret] || undefined;
}
