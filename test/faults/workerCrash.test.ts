// A worker process SIGKILLed at every step boundary and in the middle of every long step, and started
// again each time: every run completes, and pays once (one job, one model version, at most one endpoint
// ever created, no endpoint left). Five runs share the points out and run side by side, each on its own
// task queue with its own worker process, so each kill hits one run at a chosen point; where each kill
// landed is checked afterwards in Temporal's history, not in log lines.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { FineTuneClient } from '../../src/client';
import { bundleWorkflows } from '../../src/scripts/bundleWorkflows';
import { deriveRunNames, type RunNames } from '../../src/spec/names';
import { temporalAddress, type EmulatorClock } from '../helpers/localStack';
import { describePoint, holdsFor, reach, verdictOf, type KillPoint, type KillRecord } from '../helpers/killPoints';
import { emulatorAdmin } from '../helpers/privateStack';
import { azureRecordOf, eventTimeMs, firstEventBy, historyOf, workflowTaskTimeouts } from '../helpers/runRecords';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/** Takeovers within seconds: heartbeating steps after 3 s of silence, the others after 6 s (production: 30 s and 300 s). */
const OPTIONS = { heartbeatTimeoutSeconds: 3, quickStepTimeoutSeconds: 6 };

/** Every boundary between two steps, and the middle of each long step, shared out among five runs. */
const PLANS: KillPoint[][] = [
  [{ after: 'authenticate' }, { during: 'awaitPipeline' }, { after: 'deployEndpoint' }],
  [{ after: 'resolveModel' }, { after: 'awaitPipeline' }, { during: 'smokeScore' }],
  [{ after: 'validateCompute' }, { after: 'collectMetrics' }, { during: 'deleteEndpoint' }],
  [{ during: 'stageDataset' }, { after: 'registerModel' }, { after: 'smokeScore' }],
  [{ after: 'stageDataset' }, { after: 'submitPipeline' }, { during: 'deployEndpoint' }],
];

/** When the kill after this one came (the window in which this kill's effects show). */
function landedBefore(kills: KillRecord[], kill: KillRecord): number | undefined {
  return kills[kills.indexOf(kill) + 1]?.killedAtMs;
}

describe('a worker killed at every step boundary and in the middle of every long step', () => {
  const admin = emulatorAdmin();
  const workers: WorkerProcess[] = [];
  let connection: Connection;
  let temporal: Client;
  let bundle: string;
  let clockBefore: Partial<EmulatorClock>;

  beforeAll(async () => {
    // Workers start in about 2 s with a prebuilt bundle (instead of bundling at each start).
    bundle = (
      await bundleWorkflows(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bundle-')), 'workflow-bundle.js'))
    ).path;
    connection = await Connection.connect({ address: temporalAddress() });
    temporal = new Client({ connection });
    // Jobs that train for about 3 s, so a worker can die while one still runs.
    clockBefore = { jobPhaseMs: (await admin.clock()).jobPhaseMs };
    await admin.setClock({ jobPhaseMs: 600 });
  }, 60_000);

  // Hold rules still up when a test fails would slow the test files after this one: afterAll removes them.
  const holdsUp = new Set<string>();
  async function addHolds(point: KillPoint, names: RunNames): Promise<string[]> {
    const ids = await Promise.all(holdsFor(point, names).map((rule) => admin.addFault(rule)));
    for (const id of ids) holdsUp.add(id);
    return ids;
  }
  async function removeHolds(ids: string[]): Promise<void> {
    for (const id of ids) {
      await admin.removeFault(id);
      holdsUp.delete(id);
    }
  }

  afterAll(async () => {
    for (const id of holdsUp) await admin.removeFault(id).catch(() => undefined);
    for (const w of workers) await w.kill('SIGKILL');
    if (clockBefore) await admin.setClock(clockBefore);
    await connection?.close();
    if (bundle) fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
  });

  test('every run completes, each with one job, one model version and its endpoint deleted', async () => {
    const started = Date.now();
    const drives = PLANS.map(async (plan, i) => {
      const taskQueue = `crash-${i}-${randomUUID()}`;
      const env = { FTFLOW_TASK_QUEUE: taskQueue, FTFLOW_WORKFLOW_BUNDLE: bundle, FTFLOW_LOG_LEVEL: 'INFO' };
      const startWorker = async () => {
        const w = await startWorkerProcess(env);
        workers.push(w);
        return w;
      };
      let worker = await startWorker();
      const client = await FineTuneClient.connect({ client: temporal, taskQueue });
      // The run's names are known before it starts, so the first point's hold is up before the run can pass it.
      const idempotencyKey = `crash-${i}-${randomUUID()}`;
      const names = deriveRunNames(`ft-${idempotencyKey}`);
      let holdIds = await addHolds(plan[0], names);
      // Distinct slices, so the runs stage distinct blobs.
      const run = await client.start({ dataset: { percent: 5 + i } }, { idempotencyKey, options: OPTIONS });
      expect(run.names).toEqual(names);
      const kills: KillRecord[] = [];
      for (const [k, point] of plan.entries()) {
        const reached = await reach(temporal, admin, run.runId, run.names, point, worker.child.pid, holdIds);
        const victim = worker;
        const killedAtMs = Date.now();
        await victim.kill('SIGKILL');
        // The next point's hold goes up while no worker runs, so the run cannot pass it unseen.
        await removeHolds(holdIds);
        holdIds = k + 1 < plan.length ? await addHolds(plan[k + 1], names) : [];
        const restarting = Date.now();
        worker = await startWorker();
        kills.push({
          point,
          pid: victim.child.pid,
          nextPid: worker.child.pid,
          killedAtMs,
          restartMs: Date.now() - restarting,
          reached,
        });
      }
      const result = await client.result(run.runId);
      return { run, result, kills, seconds: (Date.now() - started) / 1000 };
    });
    const runs = await Promise.all(drives);

    const all = await admin.resources();
    const checked = await Promise.all(
      runs.map(async ({ run, result, kills, seconds }) => {
        const events = await historyOf(temporal, run.runId);
        const timeouts = workflowTaskTimeouts(events);
        const landed = kills.map((kill) => {
          const verdict = verdictOf(events, kill);
          const first = firstEventBy(events, kill.nextPid);
          const takeover = first ? ((eventTimeMs(first) - kill.killedAtMs) / 1000).toFixed(1) : '?';
          const until = landedBefore(kills, kill) ?? Infinity;
          const wft = timeouts
            .filter((t) => t.atMs >= kill.killedAtMs && t.atMs < until)
            .map((t) => `${t.kind} after ${((t.atMs - kill.killedAtMs) / 1000).toFixed(1)} s`);
          const line =
            `${run.runId.slice(0, 11)} ${describePoint(kill.point).padEnd(26)} killed at ${((kill.killedAtMs - started) / 1000).toFixed(1)} s, restarted in ${(kill.restartMs / 1000).toFixed(1)} s, takeover ${takeover} s; next ${verdict.next?.step ?? '-'} attempt ${verdict.next?.attempt ?? '-'}` +
            `${wft.length ? `; workflow task timed out: ${wft.join(', ')}` : ''}${kill.reached.jobState ? `; job was ${kill.reached.jobState}` : ''}`;
          return { kill, verdict, line };
        });
        return { run, result, landed, seconds, azure: azureRecordOf(all, run.names) };
      }),
    );
    const report = checked.flatMap((c) => [
      ...c.landed.map((l) => l.line),
      `${c.run.runId.slice(0, 11)} completed after ${c.seconds.toFixed(1)} s`,
    ]);
    process.stderr.write(
      `[workerCrash] ${PLANS.flat().length} kills in ${((Date.now() - started) / 1000).toFixed(1)} s\n  ${report.join('\n  ')}\n`,
    );

    for (const { result, landed, azure } of checked) {
      expect(result.status).toBe('succeeded');
      // Pay once: one GPU job and one model version ever; one endpoint ever created, none left.
      expect(azure).toEqual({ jobs: 1, modelVersions: 1, endpointsCreated: 1, liveEndpoints: 0, liveDeployments: 0 });
      expect(result.endpoint).toMatchObject({ existed: true, deleted: true });
      for (const { kill, verdict } of landed) {
        // Each kill came where it was meant to: the plan is what this test claims to cover.
        expect({ point: describePoint(kill.point), where: verdict.where }).toEqual({
          point: describePoint(kill.point),
          where: 'as planned',
        });
        if ('during' in kill.point && kill.point.during === 'awaitPipeline')
          expect(kill.reached.jobState).toBeDefined();
      }
    }
  }, 240_000);
});
