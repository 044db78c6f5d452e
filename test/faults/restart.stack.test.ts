// The servers a run depends on go away mid-run and come back on the same state: the Temporal dev server
// (on its SQLite file) and the Azure ML emulator (with its state file). The worker keeps running; every
// run completes and pays once. Both servers are this file's own, so the shared test stack stays up.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { FineTuneClient } from '../../src/client';
import { bundleWorkflows } from '../../src/scripts/bundleWorkflows';
import { deriveRunNames, type RunNames } from '../../src/runSpec/names';
import { temporalAddress, waitFor } from '../helpers/localStack';
import {
  emulatorAdmin,
  emulatorEnv,
  startPrivateEmulator,
  startPrivateTemporal,
  type EmulatorAdmin,
  type RestartableServer,
} from '../helpers/privateStack';
import {
  azureRecordOf,
  historyOf,
  jobEndedAtMs,
  jobWalk,
  pendingActivity,
  runningOn,
  stepAttempts,
} from '../helpers/runRecords';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

const OPTIONS = { heartbeatTimeoutSeconds: 3, quickStepTimeoutSeconds: 6 };
/** Long enough that a heartbeat is missed while the server is away. */
const DOWNTIME_MS = 4_000;

let bundle: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  bundle = (
    await bundleWorkflows(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bundle-')), 'workflow-bundle.js'))
  ).path;
}, 60_000);

afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  if (bundle) fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
});

async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const worker = await startWorkerProcess({ FTFLOW_WORKFLOW_BUNDLE: bundle, FTFLOW_LOG_LEVEL: 'INFO', ...env });
  workers.push(worker);
  return worker;
}

/** Which attempt finished each step (a step the restart interrupted may need a second one), and how long the restarts took. */
function report(server: string, events: Parameters<typeof stepAttempts>[0], startSeconds: number[]): void {
  const line = stepAttempts(events)
    .map((a) => `${a.step}#${a.attempt}`)
    .join(' ');
  process.stderr.write(
    `[restart] ${server} back in ${startSeconds.map((s) => `${s.toFixed(1)} s`).join(', ')}; ${line}\n`,
  );
}

/** Stops the server, leaves it down long enough for a heartbeat to be missed, starts it again; returns the start's seconds. */
async function bounce(server: RestartableServer, stop: () => Promise<void> = () => server.stop()): Promise<number> {
  await stop();
  await new Promise((r) => setTimeout(r, DOWNTIME_MS));
  const starting = Date.now();
  await server.start();
  return (Date.now() - starting) / 1000;
}

/**
 * Waits until the step runs on the worker and has heartbeated there. A pending activity is a passing state:
 * a step this waits for must be held there (a hold, below) or last far longer than the wait can take.
 */
function underWay(
  temporal: Client,
  runId: string,
  step: string,
  worker: WorkerProcess,
  extra: () => Promise<boolean> = async () => true,
) {
  return waitFor(
    `${step} to be under way`,
    async () =>
      runningOn(await pendingActivity(temporal, runId, step), worker.child.pid) && (await extra()) ? true : undefined,
    90_000,
  );
}

/**
 * The run succeeded and paid once (one job, one model version, one endpoint, deleted), and the same worker
 * process saw it through: the server's restarts did not take it down. The job (2 s phases) walked its own
 * timeline to the end, and ended after `trainingDownAt` (emulator time just before the first stop): the
 * server went away while the job trained. The emulator's record says so after the fact, however late the
 * test looked.
 */
async function expectSeenThrough(
  on: { client: FineTuneClient; temporal: Client; admin: EmulatorAdmin; worker: WorkerProcess },
  runId: string,
  names: RunNames,
  server: string,
  restarts: number[],
  trainingDownAt: number,
): Promise<void> {
  const result = await on.client.handle(runId).result();
  expect(result.status).toBe('succeeded');
  expect(result.endpoint).toMatchObject({ existed: true, deleted: true });
  const resources = await on.admin.resources();
  expect(azureRecordOf(resources, names)).toEqual({
    jobs: 1,
    modelVersions: 1,
    endpointsCreated: 1,
    liveEndpoints: 0,
    liveDeployments: 0,
  });
  const job = resources.jobs.find((j) => j.name === names.jobName);
  expect(jobWalk(job)).toEqual([
    ['NotStarted', 0],
    ['Queued', 2_000],
    ['Preparing', 4_000],
    ['Running', 6_000],
    ['Finalizing', 8_000],
    ['Completed', 10_000],
  ]);
  expect(jobEndedAtMs(job)).toBeGreaterThan(trainingDownAt);
  expect(on.worker.child.exitCode).toBeNull();
  report(server, await historyOf(on.temporal, runId), restarts);
}

/**
 * A delay on one request of the emulator (on a path only this run uses), so a step is surely in its middle
 * when the server goes: it holds the request until the rule is removed (the 60 s are only a backstop), so
 * the step stays there however long a loaded machine takes to notice. The test removes it when the
 * server goes.
 */
async function hold(
  admin: EmulatorAdmin,
  method: string,
  pathPattern: string,
): Promise<{ id: string; hit: () => Promise<boolean> }> {
  const id = await admin.addFault({ method, path: pathPattern, action: { type: 'delay', ms: 60_000 }, count: 1 });
  return { id, hit: async () => ((await admin.faults()).find((r) => r.id === id)?.hits ?? 0) > 0 };
}

describe('the Temporal dev server restarted mid-run on its SQLite file', () => {
  let server: RestartableServer;
  let connection: Connection;
  let client: FineTuneClient;
  let temporal: Client;
  let worker: WorkerProcess;
  const admin = emulatorAdmin();
  const taskQueue = `restart-temporal-${randomUUID()}`;
  const holds: string[] = [];

  beforeAll(async () => {
    server = await startPrivateTemporal();
    worker = await startWorker({ TEMPORAL_ADDRESS: server.address, FTFLOW_TASK_QUEUE: taskQueue });
    connection = await Connection.connect({ address: server.address });
    temporal = new Client({ connection });
    client = await FineTuneClient.connect({ client: temporal, taskQueue });
  }, 90_000);

  afterAll(async () => {
    // This emulator is the shared one: leave no rule behind for the test files after this one.
    for (const id of holds) await admin.removeFault(id).catch(() => undefined);
    await connection?.close();
    await server?.dispose();
  });

  test('a run survives a stop while it waits on the job and a crash while it deploys: it completes and pays once', async () => {
    const idempotencyKey = `restart-temporal-${randomUUID()}`;
    const names = deriveRunNames(`ft-${idempotencyKey}`);
    const before = await admin.clock();
    await admin.setClock({ jobPhaseMs: 2_000 });
    const deploying = await hold(admin, 'PUT', `*/onlineEndpoints/${names.endpointName}/deployments/*`);
    holds.push(deploying.id);
    let run;
    try {
      run = await client.start({ dataset: { percent: 11 } }, { idempotencyKey, options: OPTIONS });
      // 1. A clean stop (SIGTERM) while the job trains (about 10 s on the emulator's clock).
      await underWay(temporal, run.runId, 'awaitPipeline', worker);
    } finally {
      await admin.setClock({ jobPhaseMs: before.jobPhaseMs });
    }
    // (That the job was still training when the server went is checked on its record at the end.)
    const trainingDownAt = (await admin.clock()).nowMs;
    const restarts = [await bounce(server)];

    // 2. A crash (SIGKILL of the server's process group) while the deployment is being created.
    await underWay(temporal, run.runId, 'deployEndpoint', worker, deploying.hit);
    const pid = server.stack.processes.find((p) => p.name === 'temporal')?.pid;
    if (pid === undefined) throw new Error('the private Temporal server has no recorded pid');
    restarts.push(
      await bounce(server, async () => {
        // Its own process group (devstack/stack starts each server detached): the server and nothing else.
        process.kill(-pid, 'SIGKILL');
        await server.stop();
        // The held deployment PUT goes on while the server is away.
        await admin.removeFault(deploying.id);
      }),
    );

    await expectSeenThrough(
      { client, temporal, admin, worker },
      run.runId,
      names,
      'temporal',
      restarts,
      trainingDownAt,
    );
  }, 150_000);
});

describe('the Azure ML emulator restarted mid-run with its state file', () => {
  let emulator: RestartableServer;
  let admin: EmulatorAdmin;
  let connection: Connection;
  let client: FineTuneClient;
  let temporal: Client;
  let worker: WorkerProcess;
  const taskQueue = `restart-emulator-${randomUUID()}`;

  beforeAll(async () => {
    emulator = await startPrivateEmulator();
    admin = emulatorAdmin(emulator.address);
    worker = await startWorker({ ...emulatorEnv(emulator), FTFLOW_TASK_QUEUE: taskQueue });
    connection = await Connection.connect({ address: temporalAddress() });
    temporal = new Client({ connection });
    client = await FineTuneClient.connect({ client: temporal, taskQueue });
  }, 90_000);

  afterAll(async () => {
    await connection?.close();
    await emulator?.dispose();
  });

  test('a run survives restarts while the job trains and while the endpoint is deployed: it completes and pays once', async () => {
    const idempotencyKey = `restart-emulator-${randomUUID()}`;
    const names = deriveRunNames(`ft-${idempotencyKey}`);
    // This emulator is the file's own: its jobs train for about 10 s.
    await admin.setClock({ jobPhaseMs: 2_000 });
    const run = await client.start({ dataset: { percent: 12 } }, { idempotencyKey, options: OPTIONS });

    // 1. While the job trains: the job keeps its timeline across the restart (both checked on its record
    // at the end).
    await underWay(temporal, run.runId, 'awaitPipeline', worker);
    const trainingDownAt = (await admin.clock()).nowMs;
    const restarts = [await bounce(emulator)];
    // (Fault rules are not part of the state file: the hold goes on the new process, the job still trains.)
    const deploying = await hold(admin, 'PUT', `*/onlineEndpoints/${names.endpointName}/deployments/*`);

    // 2. While the deployment is being created: its PUT is held inside the emulator until the stop begins
    // (the stop lets the request it is answering finish).
    await underWay(temporal, run.runId, 'deployEndpoint', worker, deploying.hit);
    restarts.push(
      await bounce(emulator, async () => {
        await admin.removeFault(deploying.id);
        await emulator.stop();
      }),
    );

    await expectSeenThrough(
      { client, temporal, admin, worker },
      run.runId,
      names,
      'emulator',
      restarts,
      trainingDownAt,
    );
  }, 150_000);
});
