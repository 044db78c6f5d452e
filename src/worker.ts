// The worker process: polls the task queue, runs the fineTune workflow and its activities against the
// Azure target configured in the environment. Prints WORKER_READY once polling, so supervisors can wait.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { createActivities, createDeps } from './activities';
import { loadAzureConfig } from './azure/config';
import { connectionOptions, loadTemporalConfig, type TemporalConfig } from './config/temporal';
import { connectOrExplain } from './config/temporalConnection';
import { setUpWorkerTelemetry, workerTelemetryOptions } from './observability';
import { loadObservabilityConfig } from './observability/config';
import { dataConverterFromEnv } from './codec/config';

export interface WorkerSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (npm run bundle) to load instead of bundling src/workflows at start-up. */
  workflowBundle?: string;
  /** Payload encryption (FTFLOW_PAYLOAD_KEY): the codec runs in the worker's main thread, outside the sandbox. */
  dataConverter?: DataConverter;
}

/** The worker's settings from the environment (config/temporal.ts and observability/config.ts validate them). */
export function workerSettings(
  env: NodeJS.ProcessEnv = process.env,
  temporal: TemporalConfig = loadTemporalConfig(env),
): WorkerSettings {
  return {
    address: temporal.address,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    workflowBundle: loadObservabilityConfig(env).workflowBundle,
    dataConverter: dataConverterFromEnv(env),
  };
}

/**
 * SIGTERM: stop polling and give in-flight activities this long to finish. The longest activity that does
 * not heartbeat (the quick and submit groups of workflows/activityOptions.ts: authenticate, resolveModel,
 * collectMetrics, registerModel, submitPipeline) has a 5-minute start-to-close timeout; cut short, it would
 * be retried only when that timeout fires, so it is cheaper to let it finish. Heartbeating steps are
 * cancelled when the grace ends and resume on another worker from their last heartbeat.
 */
export const SHUTDOWN_GRACE_SECONDS = 300;
/** After the grace, the worker gives up on a step that ignores cancellation and the process exits. */
export const SHUTDOWN_FORCE_SECONDS = SHUTDOWN_GRACE_SECONDS + 30;

/** Worker options shared by the process and the tests: one place for concurrency and shutdown. */
export function workerOptions(
  settings: WorkerSettings,
  activities: WorkerOptions['activities'],
): Omit<WorkerOptions, 'connection'> {
  return {
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...(settings.workflowBundle
      ? { workflowBundle: { codePath: settings.workflowBundle } }
      : { workflowsPath: require.resolve('./workflows') }),
    // Step logs and metrics, tracing, and the workflow interceptors (already inside a prebuilt bundle).
    ...workerTelemetryOptions({ prebuiltBundle: settings.workflowBundle !== undefined }),
    activities,
    ...(settings.dataConverter ? { dataConverter: settings.dataConverter } : {}),
    // Waiting on jobs is cheap (a GET per poll), so one worker can follow many runs at once.
    maxConcurrentActivityTaskExecutions: 1000,
    shutdownGraceTime: SHUTDOWN_GRACE_SECONDS * 1000,
    shutdownForceTime: SHUTDOWN_FORCE_SECONDS * 1000,
  };
}

async function main(): Promise<void> {
  // Logs, metrics and tracing first: the runtime must be installed before anything connects.
  const { logger, tracing } = setUpWorkerTelemetry();
  try {
    const temporal = loadTemporalConfig();
    const settings = workerSettings(process.env, temporal);
    const config = loadAzureConfig();
    const connection = await connectOrExplain(temporal, () => NativeConnection.connect(connectionOptions(temporal)));
    // The janitor and the schedules' de-duplication look at other runs through a client.
    const clientConnection = await connectOrExplain(temporal, () => Connection.connect(connectionOptions(temporal)));
    const client = new Client({
      connection: clientConnection,
      namespace: temporal.namespace,
      dataConverter: settings.dataConverter,
    });
    const activities = createActivities(createDeps(config, process.env, undefined, { temporal: client }));
    try {
      const worker = await Worker.create({ connection, ...workerOptions(settings, activities) });
      const running = worker.run();
      // Supervisors wait for this word (devstack/stack); startupMs feeds bench/startup.
      logger.info(`WORKER_READY ${settings.taskQueue}`, {
        taskQueue: settings.taskQueue,
        namespace: settings.namespace,
        address: settings.address,
        auth: temporal.auth,
        workflowCode: settings.workflowBundle ? 'prebuilt bundle' : 'bundled at start-up',
        // This process's share of ARM's budget (FTFLOW_ARM_BUDGET_SPLIT divides the FTFLOW_ARM_* rates).
        armBudget: config.armBudget,
        startupMs: Math.round(process.uptime() * 1000),
      });
      await running;
    } finally {
      await clientConnection.close();
      await connection.close();
    }
  } catch (err) {
    logger.error('worker failed', { error: err });
    process.exitCode = 1;
  } finally {
    await tracing.shutdown();
  }
}

if (require.main === module) {
  main().then(
    // The telemetry runtime and the metrics server keep the event loop alive (and the runtime takes
    // SIGTERM for a worker that may never have been created): exit once main() has cleaned up.
    () => process.exit(),
    // Only a configuration error of the logging itself gets here: the logger does not exist yet.
    (err: unknown) => {
      process.stderr.write(`worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
