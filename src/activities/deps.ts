// Clients the activities share, built once per worker from the configuration. Secrets live only here
// (credential, datastore key, endpoint keys fetched on use) and never travel through Temporal.
import type { TokenCredential } from '@azure/core-auth';
import type { Workspace } from '@azure/arm-machinelearning';
import { createArmClient, type ArmClient } from '../azure/arm';
import type { AzureConfig } from '../azure/config';
import { createCredential } from '../azure/credentials';
import { openDefaultDatastore, type OpenDatastore } from '../azure/datastore';
import { MlflowClient, trackingBaseUrl } from '../azure/mlflow';
import { JobWatcher } from '../azure/jobWatcher';
import { JobEventFeed } from './jobEventFeed';
import { TrainingWatcher } from '../azure/trainingWatcher';
import { VersionClaims } from '../azure/modelVersions';
import { RegistryClient } from '../azure/registry';
import { AzureRestClient } from '../azure/rest';
import { historyBaseUrl, RunHistoryClient } from '../azure/runHistory';
import { loadPriceTable } from '../cost/priceFile';
import type { PriceTable } from '../cost/priceTable';
import { RUN_TAG } from '../azure/tags';
import { sharedArmBudget } from '../azure/budget';
import { RunFailure } from '../azure/errors';
import { ENV } from '../config/env';
import { TASK_QUEUE } from '../config/temporal';
import { Client, Connection } from '@temporalio/client';
import { connectOrExplain, resolveTemporalConnection } from '../config/temporalConnection';
import { dataConverterFromEnv } from '../codec/config';
import { loadWebhookSettings, type WebhookSettings } from '../webhooks/settings';

export interface ActivityDeps {
  config: AzureConfig;
  credential: TokenCredential;
  arm: ArmClient;
  rest: AzureRestClient;
  registry: RegistryClient;
  /** Follows every job this worker's runs wait on, in one poll cycle (awaitPipeline). */
  jobs: JobWatcher;
  /** With push on (FTFLOW_JOB_PUSH=on): the job events the API relays, waking `jobs`. */
  jobEvents?: JobEventFeed;
  /** Reads the MLflow figures of every job this worker's runs follow while they train, batched (awaitPipeline). */
  training: TrainingWatcher;
  /** The model versions this worker's registrations are creating (registerModel: consecutive, not raced). */
  versionClaims: VersionClaims;
  workspace(): Promise<Workspace>;
  datastore(): Promise<OpenDatastore>;
  mlflow(): Promise<MlflowClient>;
  /** RunHistory of the workspace: a job's start, end and compute (the measured cost of training). */
  runHistory(): Promise<RunHistoryClient>;
  /** VM list prices (src/cost): the vendored table, or FTFLOW_PRICES_FILE over it; read when the worker starts. */
  prices: PriceTable;
  hub: { endpoint: string; token?: string };
  /** A Temporal client for the steps that look at other runs (schedules' de-duplication, the janitor) and webhook registries. */
  temporal(): Promise<Client>;
  /** Webhook delivery: the URL policy, the operator key secrets derive from, timeouts and retries (FTFLOW_WEBHOOK_*). */
  webhooks: WebhookSettings;
}

export interface DepsOptions {
  /** The Temporal client to use; default: one connected on first use from the environment. */
  temporal?: Client;
  /** Webhook settings; default: from the environment. */
  webhooks?: WebhookSettings;
}

/** Caches a successful promise; a failure is forgotten so the next call tries again. */
function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    if (!cached) {
      cached = make();
      cached.catch(() => {
        cached = undefined;
      });
    }
    return cached;
  };
}

export function createDeps(
  config: AzureConfig,
  env: NodeJS.ProcessEnv = process.env,
  credential?: TokenCredential,
  options: DepsOptions = {},
): ActivityDeps {
  const cred = credential ?? createCredential(config, env);
  const budget = sharedArmBudget(config.armBudget);
  const arm = createArmClient(config, cred, budget);
  const rest = new AzureRestClient(cred, budget);
  const workspace = memo(() => arm.workspaces.get(config.resourceGroup, config.workspace));
  const givenTemporal = options.temporal;
  const mlflow = memo(async () => {
    const ws = await workspace();
    const uri = ws.mlFlowTrackingUri;
    if (!uri)
      throw new RunFailure(
        'validation',
        `workspace ${config.workspace} reports no MLflow tracking URI`,
        'NoTrackingUri',
      );
    return new MlflowClient(rest, trackingBaseUrl(uri));
  });
  const jobs = new JobWatcher(arm, {
    resourceGroup: config.resourceGroup,
    workspace: config.workspace,
    tag: RUN_TAG,
    minIntervalMs: config.jobPollSeconds * 1000,
    pushMinIntervalMs: config.jobPushPollSeconds * 1000,
    // Its share of this process's read budget (already this worker's share when FTFLOW_ARM_BUDGET_SPLIT > 1).
    readsPerSecond: config.jobWatchReadShare * config.armBudget.readsPerSecond,
  });
  const temporal = givenTemporal
    ? async () => givenTemporal
    : memo(async () => {
        const target = resolveTemporalConnection({}, env);
        const connection = await connectOrExplain(target, () =>
          Connection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey }),
        );
        return new Client({ connection, namespace: target.namespace, dataConverter: dataConverterFromEnv(env) });
      });
  const jobEvents = config.jobPush ? new JobEventFeed(temporal, jobs, env[ENV.taskQueue] || TASK_QUEUE) : undefined;
  jobEvents?.start();
  return {
    config,
    credential: cred,
    arm,
    rest,
    registry: new RegistryClient(rest, config.registryDiscoveryUrl),
    jobs,
    ...(jobEvents ? { jobEvents } : {}),
    training: new TrainingWatcher(mlflow, {
      minIntervalMs: config.metricsPollSeconds * 1000,
      share: config.metricsReadShare,
      workerReads: () => budget.stats().grantedByClass.read,
      // At most the share of the worker's read budget over one interval (0.1 × 20/s × 120 s = 240 reads).
      maxReadsPerCycle: Math.max(
        10,
        Math.round(config.metricsReadShare * config.armBudget.readsPerSecond * config.metricsPollSeconds),
      ),
    }),
    versionClaims: new VersionClaims(),
    workspace,
    datastore: memo(() => openDefaultDatastore(arm, config, cred)),
    mlflow,
    runHistory: memo(async () => {
      const ws = await workspace();
      const base = await historyBaseUrl(rest, ws);
      if (!base)
        throw new RunFailure(
          'validation',
          `workspace ${config.workspace} reports neither a discovery URL nor an MLflow tracking URI: its runs cannot be read`,
          'NoRunHistory',
        );
      return RunHistoryClient.forWorkspace(rest, base, config);
    }),
    prices: loadPriceTable(env),
    hub: { endpoint: config.hfEndpoint, token: env[ENV.hfToken] || undefined },
    webhooks: options.webhooks ?? loadWebhookSettings(env),
    temporal,
  };
}
