// A throw-away Temporal dev server for one test file, with the real workflow code and mocked activities:
// the Temporal samples' "tests with mocked activities", without the shared test stack (no Azurite, no
// emulator, no FTFLOW_TEST_STACK). The dev server is the project's pinned Temporal CLI (.tools/temporal-path,
// written by `make setup`, or TEMPORAL_CLI), never a download, started with the run's search attributes.
// The workflows are bundled once per file, as `npm run bundle` does (src/scripts/bundleWorkflows.ts: the
// workflows and their interceptors), and every worker of the file loads that bundle through workerOptions.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import { FineTuneClient } from '../../src/client';
import { FINETUNE_SEARCH_ATTRIBUTE_KEYS } from '../../src/config/searchAttributes';
import { bundleWorkflows } from '../../src/scripts/bundleWorkflows';
import { workerOptions } from '../../src/worker';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const TEMPORAL_PATH_FILE = path.join(PROJECT_ROOT, '.tools', 'temporal-path');

/** The pinned Temporal CLI: TEMPORAL_CLI, else the path `make setup` wrote to .tools/temporal-path. */
export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TEMPORAL_CLI?.trim();
  let where: string;
  let cli: string | undefined;
  let base = PROJECT_ROOT;
  if (fromEnv) {
    where = 'TEMPORAL_CLI';
    cli = fromEnv;
    base = process.cwd();
  } else {
    where = path.relative(PROJECT_ROOT, TEMPORAL_PATH_FILE);
    cli = fs.existsSync(TEMPORAL_PATH_FILE)
      ? fs.readFileSync(TEMPORAL_PATH_FILE, 'utf8').split('\n')[0]?.trim()
      : undefined;
  }
  if (!cli)
    throw new Error(
      `no Temporal CLI: ${where} is missing or empty. Run \`make setup\` (it installs the pinned CLI into .tools/ ` +
        'and writes .tools/temporal-path), or set TEMPORAL_CLI to the temporal binary. The tests never download one.',
    );
  const resolved = path.resolve(base, cli);
  try {
    fs.accessSync(resolved, fs.constants.X_OK);
  } catch {
    throw new Error(
      `the Temporal CLI named by ${where} (${resolved}) does not exist or is not executable: run \`make setup\` ` +
        '(or point TEMPORAL_CLI at the temporal binary). The tests never download one.',
    );
  }
  return resolved;
}

/**
 * The SDK's own log (worker state, step logs, the failures these tests cause on purpose) at ERROR unless
 * FTFLOW_TEST_LOG_LEVEL says otherwise (e.g. WARN or INFO when a test needs explaining): a few dozen runs'
 * lines drown jest's report. Only possible before the first use of the runtime in this test file.
 */
function quietRuntime(): void {
  const levels: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
  const asked = (process.env.FTFLOW_TEST_LOG_LEVEL ?? 'ERROR').toUpperCase();
  const level = levels.find((l) => l === asked) ?? 'ERROR';
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // A runtime already exists (installed by an earlier helper of this file): keep it.
  }
}

export interface RunningWorker {
  worker: Worker;
  /** Stops polling and waits until the worker has stopped (in-flight activities get a second to finish). */
  stop(): Promise<void>;
}

export interface WorkflowEnvOptions {
  /** Also serve the Temporal Web UI (the dev server's own), on a free port: `uiUrl`. */
  ui?: boolean;
}

export interface WorkflowTestEnv {
  env: TestWorkflowEnvironment;
  /** The Temporal Web UI, with `ui: true` (its HTTP API is under /api/v1). */
  uiUrl?: string;
  /** The typed client over the env's own Temporal client, on this file's task queue. */
  client: FineTuneClient;
  /** Unique to this file (and this call). */
  taskQueue: string;
  /** A worker on the task queue running the real workflow code (the file's one bundle) and these activities. */
  startWorker(activities: WorkerOptions['activities']): Promise<RunningWorker>;
  /**
   * Replays the run's history (as the server holds it now) against the file's bundle, as a worker does after
   * a restart or a cache eviction; throws (DeterminismViolationError) when the workflow code cannot replay it.
   */
  replay(runId: string): Promise<void>;
  /** Stops the workers started here, the dev server, and removes the bundle. */
  teardown(): Promise<void>;
}

/**
 * Starts the dev server (with the FineTune* search attributes the runs upsert) and bundles the workflows,
 * both at once. Call in beforeAll with a generous timeout (bundling takes a few seconds), and call
 * teardown() in afterAll.
 */
export async function startWorkflowEnv(name: string, opts: WorkflowEnvOptions = {}): Promise<WorkflowTestEnv> {
  const executable = temporalCliPath();
  quietRuntime();
  const uiPort = opts.ui ? await freePort() : undefined;
  const bundleFile = path.join(os.tmpdir(), `ftflow-test-bundle-${process.pid}-${randomUUID()}.js`);
  const [envResult, bundleResult] = await Promise.allSettled([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: executable },
        searchAttributes: [...FINETUNE_SEARCH_ATTRIBUTE_KEYS],
        log: { format: 'pretty', level: 'error' },
        ...(uiPort !== undefined ? { ui: true, uiPort } : {}),
      },
    }),
    bundleWorkflows(bundleFile),
  ]);
  if (envResult.status === 'rejected' || bundleResult.status === 'rejected') {
    if (envResult.status === 'fulfilled') await envResult.value.teardown();
    fs.rmSync(bundleFile, { force: true });
    throw envResult.status === 'rejected' ? envResult.reason : (bundleResult as PromiseRejectedResult).reason;
  }
  const env = envResult.value;
  const taskQueue = `${name}-${randomUUID()}`;
  const client = await FineTuneClient.connect({ client: env.client, taskQueue });
  const workers: RunningWorker[] = [];
  const optionsFor = (activities: WorkerOptions['activities']) =>
    workerOptions(
      { address: env.address, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: bundleFile },
      activities,
    );

  return {
    env,
    ...(uiPort !== undefined ? { uiUrl: `http://127.0.0.1:${uiPort}` } : {}),
    client,
    taskQueue,
    async startWorker(activities) {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        ...optionsFor(activities),
        // Tests release what their activities wait on before stopping: no need for the production grace.
        shutdownGraceTime: '1 second',
        shutdownForceTime: '5 seconds',
      });
      const running = worker.run();
      // A worker that fails on its own is reported by stop() (teardown), not as an unhandled rejection.
      running.catch(() => undefined);
      const handle: RunningWorker = {
        worker,
        async stop() {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running;
        },
      };
      workers.push(handle);
      return handle;
    },
    async replay(runId) {
      const history = await env.client.workflow.getHandle(runId).fetchHistory();
      const { workflowBundle, interceptors, sinks } = optionsFor({});
      await Worker.runReplayHistory({ workflowBundle, interceptors, sinks }, history, runId);
    },
    async teardown() {
      try {
        await Promise.allSettled(workers.map((w) => w.stop()));
      } finally {
        fs.rmSync(bundleFile, { force: true });
        await env.teardown();
      }
    },
  };
}

/** A port nothing listens on now (the dev server takes the UI's port by number). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
