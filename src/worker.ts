// The worker process: polls the task queue, runs the fineTune workflow and its activities against the
// Azure target configured in the environment. Prints WORKER_READY once polling, so supervisors can wait.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { resolveTemporalConnection } from './config/temporalConnection';
import { createActivities, createDeps } from './activities';
import { loadAzureConfig } from './azure/config';
import { ENV } from './config/env';
import { TASK_QUEUE } from './workflows/definitions';

export interface WorkerSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

export function workerSettings(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  return {
    address: env[ENV.temporalAddress] || '127.0.0.1:7233',
    namespace: env[ENV.temporalNamespace] || 'default',
    taskQueue: env[ENV.taskQueue] || TASK_QUEUE,
  };
}

/** Worker options shared by the process and the tests: one place for concurrency and shutdown. */
export function workerOptions(settings: WorkerSettings, activities: WorkerOptions['activities']): Omit<WorkerOptions, 'connection'> {
  return {
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities,
    // Waiting on jobs is cheap (a GET per poll), so one worker can follow many runs at once.
    maxConcurrentActivityTaskExecutions: 1000,
    // Let in-flight cleanup (endpoint deletes) finish on SIGTERM before cancelling them.
    shutdownGraceTime: '30 seconds',
  };
}

async function main(): Promise<void> {
  const settings = workerSettings();
  const config = loadAzureConfig();
  // TLS, mTLS or a Temporal Cloud API key, from the same variables as the client's.
  const target = resolveTemporalConnection({ address: settings.address, namespace: settings.namespace });
  const connection = await NativeConnection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey });
  // The janitor and the schedules' de-duplication look at other runs through a client.
  const clientConnection = await Connection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey });
  const temporal = new Client({ connection: clientConnection, namespace: target.namespace });
  const activities = createActivities(createDeps(config, process.env, undefined, { temporal }));
  try {
    const worker = await Worker.create({ connection, ...workerOptions(settings, activities) });
    const running = worker.run();
    process.stdout.write(`WORKER_READY ${settings.taskQueue}\n`);
    await running;
  } finally {
    await clientConnection.close();
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
