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

/** workflowIds whose awaitPipeline step this worker started. */
function followersOf(worker: WorkerProcess): Set<string> {
  return new Set(worker.json().filter((l) => l.message === 'step started' && l.step === 'awaitPipeline').map((l) => String(l.workflowId)));
}

function activitiesRunBy(worker: WorkerProcess): number {
  return worker.json().filter((l) => l.message === 'step started').length;
}

describe('two worker processes on one task queue', () => {
  const taskQueue = `failover-${randomUUID()}`;
  const workers: WorkerProcess[] = [];
  let connection: Connection;
  let client: FineTuneClient;

  beforeAll(async () => {
    // Production start-up: both load the prebuilt workflow bundle.
    const bundle = await bundleWorkflows(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bundle-')), 'workflow-bundle.js'));
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
    const runs: RunHandle[] = await withClock({ jobPhaseMs: 2_000 }, async () => {
      // A different slice per run: runs staging the same slice at the same moment collide in Blob Storage
      // (InvalidBlockList), a staging matter this test is not about.
      const started = await Promise.all(
        Array.from({ length: RUNS }, (_, i) => client.start({ dataset: { percent: 5 + i } }, { options: { heartbeatTimeoutSeconds: 3 } })),
      );
      await waitFor(
        'every run to follow its job',
        async () => ((await Promise.all(started.map((r) => client.get(r.runId)))).every((p) => p.jobStatus !== undefined) ? true : undefined),
        60_000,
      );
      return started;
    });

    // The one following more jobs dies (Temporal may hand every task to one worker; what matters is that
    // the killed one held followers and the survivor takes them over).
    expect(workers.map(activitiesRunBy).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const [victim, survivor] = [...workers].sort((a, b) => followersOf(b).size - followersOf(a).size);
    const orphaned = followersOf(victim);
    expect(orphaned.size).toBeGreaterThan(0);
    await victim.kill('SIGKILL');

    const results = await Promise.all(runs.map((r) => client.result(r.runId)));
    for (const result of results) expect(result.status).toBe('succeeded');
    // The survivor picked up the dead worker's followers (after their 3 s heartbeat timeout).
    for (const runId of orphaned) expect(followersOf(survivor)).toContain(runId);
    for (const run of runs) {
      const seen = await resourcesOf(run.names);
      expect(seen.jobs).toHaveLength(1);
      expect(seen.endpoints).toHaveLength(1);
      expect(seen.endpoints[0].deletedAt).toBeTruthy();
    }

    // The shutdown grace covers every activity that does not heartbeat (it cannot be resumed, only redone).
    const history = await client.handle(runs[0].runId).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
    const withoutHeartbeat = scheduled.filter((a) => !Number(a.heartbeatTimeout?.seconds ?? 0) && !(a.heartbeatTimeout?.nanos ?? 0));
    expect(withoutHeartbeat.length).toBeGreaterThan(0);
    for (const a of withoutHeartbeat) expect(Number(a.startToCloseTimeout?.seconds ?? Infinity)).toBeLessThanOrEqual(SHUTDOWN_GRACE_SECONDS);
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
