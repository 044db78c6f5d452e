// Several worker processes share one task queue; one is killed (SIGKILL, no goodbye) while every run waits
// on its training job, and the other finishes all of them: no second job, no endpoint left behind.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { FineTuneClient, type RunHandle } from '../../src/client';
import { bundleWorkflows } from '../../src/scripts/bundleWorkflows';
import { SHUTDOWN_GRACE_SECONDS } from '../../src/worker';
import { resourcesOf, temporalAddress, waitFor, withClock } from '../helpers/localStack';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

const RUNS = 4;

/** Temporal's default worker identity is `<pid>@<hostname>`: the process a pending or finished task ran on. */
function isWorker(worker: WorkerProcess, identity: string | null | undefined): boolean {
  return typeof identity === 'string' && identity.startsWith(`${worker.child.pid}@`);
}

/** The identity of the worker following each run's job (the pending awaitPipeline that has heartbeated). */
async function followerIdentities(client: FineTuneClient, runs: RunHandle[]): Promise<Map<string, string> | undefined> {
  const seen = new Map<string, string>();
  for (const run of runs) {
    const { raw } = await client.handle(run.runId).describe();
    const pending = (raw.pendingActivities ?? []).find(
      (a) => a.activityType?.name === 'awaitPipeline' && a.heartbeatDetails?.payloads?.length,
    );
    if (!pending?.lastWorkerIdentity) return undefined;
    seen.set(run.runId, pending.lastWorkerIdentity);
  }
  return seen;
}

/** The identity recorded when the run's awaitPipeline step finished (its last attempt). */
async function awaitPipelineFinishedBy(client: FineTuneClient, runId: string): Promise<string | undefined> {
  const events = (await client.handle(runId).fetchHistory()).events ?? [];
  const scheduledIds = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitPipeline')
      .map((e) => String(e.eventId)),
  );
  const started = events.filter((e) =>
    scheduledIds.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '')),
  );
  return started.at(-1)?.activityTaskStartedEventAttributes?.identity ?? undefined;
}

describe('two worker processes on one task queue', () => {
  const taskQueue = `failover-${randomUUID()}`;
  const workers: WorkerProcess[] = [];
  let connection: Connection;
  let client: FineTuneClient;

  beforeAll(async () => {
    // Production start-up: both load the prebuilt workflow bundle.
    const bundle = await bundleWorkflows(
      path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bundle-')), 'workflow-bundle.js'),
    );
    const env = { FTFLOW_TASK_QUEUE: taskQueue, FTFLOW_WORKFLOW_BUNDLE: bundle.path, FTFLOW_LOG_LEVEL: 'INFO' };
    workers.push(...(await Promise.all([startWorkerProcess(env), startWorkerProcess(env)])));
    connection = await Connection.connect({ address: temporalAddress() });
    client = await FineTuneClient.connect({ client: new Client({ connection }), taskQueue });
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await connection?.close();
  });

  test('runs complete on the survivor after the other is killed mid-run, each with exactly one job', async () => {
    // Jobs that train for ~10 s, so every run is following its job when the worker dies.
    const { runs, followers } = await withClock({ jobPhaseMs: 2_000 }, async () => {
      // A different slice per run: runs staging the same slice at the same moment collide in Blob Storage
      // (InvalidBlockList), a staging matter this test is not about.
      const started: RunHandle[] = await Promise.all(
        Array.from({ length: RUNS }, (_, i) =>
          client.start({ dataset: { percent: 5 + i } }, { options: { heartbeatTimeoutSeconds: 3 } }),
        ),
      );
      // Who follows which job, as Temporal records it (Temporal may hand every task to one worker: what
      // matters is that the killed one held followers and the survivor takes them over).
      return {
        runs: started,
        followers: await waitFor('every run to follow its job', () => followerIdentities(client, started), 60_000),
      };
    });

    const held = (w: WorkerProcess) =>
      [...followers].filter(([, identity]) => isWorker(w, identity)).map(([runId]) => runId);
    const [victim, survivor] = [...workers].sort((a, b) => held(b).length - held(a).length);
    const orphaned = held(victim);
    expect({
      followers: Object.fromEntries(followers),
      pids: workers.map((w) => w.child.pid),
      orphaned: orphaned.length > 0,
    }).toMatchObject({ orphaned: true });
    await victim.kill('SIGKILL');

    const results = await Promise.all(runs.map((r) => client.result(r.runId)));
    for (const result of results) expect(result.status).toBe('succeeded');
    // The survivor finished the dead worker's followers (after their 3 s heartbeat timeout).
    for (const runId of orphaned) expect(isWorker(survivor, await awaitPipelineFinishedBy(client, runId))).toBe(true);
    for (const run of runs) {
      const seen = await resourcesOf(run.names);
      expect(seen.jobs).toHaveLength(1);
      expect(seen.endpoints).toHaveLength(1);
      expect(seen.endpoints[0].deletedAt).toBeTruthy();
    }

    // The shutdown grace covers every activity that does not heartbeat (it cannot be resumed, only redone).
    const history = await client.handle(runs[0].runId).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [],
    );
    const withoutHeartbeat = scheduled.filter(
      (a) => !Number(a.heartbeatTimeout?.seconds ?? 0) && !(a.heartbeatTimeout?.nanos ?? 0),
    );
    expect(withoutHeartbeat.length).toBeGreaterThan(0);
    for (const a of withoutHeartbeat)
      expect(Number(a.startToCloseTimeout?.seconds ?? Infinity)).toBeLessThanOrEqual(SHUTDOWN_GRACE_SECONDS);
  }, 150_000);

  test('SIGTERM on an idle worker drains and exits 0 at once', async () => {
    const survivor = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null);
    expect(survivor).toBeDefined();
    const started = Date.now();
    expect(await survivor?.kill('SIGTERM')).toBe(0);
    // Far below the 300 s grace a busy worker may use (10 s on a quiet machine; allow for a loaded one).
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(survivor?.json().map((l) => l.state)).toEqual(expect.arrayContaining(['DRAINING', 'STOPPED']));
  });
});
