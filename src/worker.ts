// The worker process: polls the task queue, runs the fineTune workflow and its activities against the
// Azure target configured in the environment. Prints WORKER_READY once polling, so supervisors can wait.
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { createActivities, createDeps } from './activities';
import { loadAzureConfig } from './azure/config';
import { connectionOptions, loadTemporalConfig, type TemporalConfig } from './config/temporal';
import { connectOrExplain } from './config/temporalConnection';
import { bundleTracesEveryRun, setUpWorkerTelemetry, workerTelemetryOptions } from './observability';
import { loadObservabilityConfig } from './observability/config';
import { mallocInUse, reportMemory, ThreadTracker } from './observability/memory';
import {
  DEFAULT_MAX_CACHED_WORKFLOWS,
  DEFAULT_MAX_CONCURRENT_ACTIVITIES,
  loadWorkerTuning,
  type WorkerTuning,
} from './config/workerTuning';
import { dataConverterFromEnv } from './codec/config';

export interface WorkerSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (npm run bundle) to load instead of bundling src/workflows at start-up. */
  workflowBundle?: string;
  /** Payload encryption (FTFLOW_PAYLOAD_KEY): the codec runs in the worker's main thread, outside the sandbox. */
  dataConverter?: DataConverter;
  /** Workflow cache, activity slots, memory report (config/workerTuning.ts); defaults when absent. */
  tuning?: WorkerTuning;
  /** Why a prebuilt bundle given in FTFLOW_WORKFLOW_BUNDLE is not used (logged at start). */
  bundleNote?: string;
}

/** The worker's settings from the environment (config/temporal.ts and observability/config.ts validate them). */
export function workerSettings(
  env: NodeJS.ProcessEnv = process.env,
  temporal: TemporalConfig = loadTemporalConfig(env),
): WorkerSettings {
  const observability = loadObservabilityConfig(env);
  const bundle = usableBundle(observability.workflowBundle, observability.tracing !== 'none');
  return {
    address: temporal.address,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    workflowBundle: bundle.path,
    ...(bundle.note ? { bundleNote: bundle.note } : {}),
    dataConverter: dataConverterFromEnv(env),
    tuning: loadWorkerTuning(env),
  };
}

/**
 * A bundle built without OpenTelemetry's workflow interceptors in every run (`npm run bundle`, the default)
 * would leave new runs untraced on a worker with FTFLOW_TRACING on: that worker bundles at start-up instead.
 */
function usableBundle(file: string | undefined, tracing: boolean): { path?: string; note?: string } {
  if (!file || !tracing) return { path: file };
  let code: string;
  try {
    code = readFileSync(file, 'utf8');
  } catch {
    return { path: file }; // The SDK reports the unreadable file, naming it.
  }
  if (bundleTracesEveryRun(code)) return { path: file };
  return {
    note: `FTFLOW_WORKFLOW_BUNDLE=${file} was built without workflow tracing and FTFLOW_TRACING is on: bundling the workflows at start-up instead (a few seconds); build the bundle with \`npm run bundle -- --tracing\` to skip this`,
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
    // Waiting on jobs is cheap (a share of a list page per cycle), so one worker can follow many runs at once.
    maxConcurrentActivityTaskExecutions: settings.tuning?.maxConcurrentActivities ?? DEFAULT_MAX_CONCURRENT_ACTIVITIES,
    // A fixed size rather than the SDK's, which grows with the heap limit: bench/README.md, worker memory.
    maxCachedWorkflows: settings.tuning?.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
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
    if (settings.bundleNote) logger.warn(settings.bundleNote);
    // Before Worker.create: it starts the workflow thread whose heap the memory report reads.
    const threads = new ThreadTracker();
    let stopReport = () => threads.stop();
    try {
      const worker = await Worker.create({ connection, ...workerOptions(settings, activities) });
      stopReport = reportMemory(logger, settings.tuning?.memoryReportSeconds ?? 0, threads, worker);
      const running = worker.run();
      // Supervisors wait for this word (devstack/stack); startupMs feeds bench/startup.
      logger.info(`WORKER_READY ${settings.taskQueue}`, {
        taskQueue: settings.taskQueue,
        namespace: settings.namespace,
        address: settings.address,
        auth: temporal.auth,
        workflowCode: settings.workflowBundle ? 'prebuilt bundle' : 'bundled at start-up',
        maxCachedWorkflows: settings.tuning?.maxCachedWorkflows,
        maxConcurrentActivities: settings.tuning?.maxConcurrentActivities,
        // jemalloc when preloaded (workerProcessEnv, the image), else glibc's malloc with its arena limit
        // (WORKER_PROCESS_ENV, set by whatever starts the process: unset is 8 per core).
        malloc: mallocInUse(),
        mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? 'unset',
        // V8's heap limit (WORKER_PROCESS_ENV's NODE_OPTIONS; Node's default is derived from the memory).
        heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
        // This process's share of ARM's budget (FTFLOW_ARM_BUDGET_SPLIT divides the FTFLOW_ARM_* rates).
        armBudget: config.armBudget,
        startupMs: Math.round(process.uptime() * 1000),
      });
      await running;
    } finally {
      stopReport();
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
