// A worker process SIGKILLed at every step boundary and in the middle of every long step, and started
// again each time: every run completes, and pays once (one job, one model version, at most one endpoint
// ever created, no endpoint left). Five runs share the points out and run side by side, each on its own
// task queue with its own worker process, so each kill hits one run at a chosen point; where each kill
// landed is checked afterwards in Temporal's history, not in log lines.
import { randomUUID } from 'node:crypto';
import { FineTuneClient } from '../../src/client';
import { deriveRunNames, type RunNames } from '../../src/runSpec/names';
import { useKillSuite } from '../helpers/killSuite';
import { describePoint, holdsFor, reach, verdictOf, type KillPoint, type KillRecord } from '../helpers/killPoints';
import { azureRecordOf, eventTimeMs, firstEventBy, historyOf, workflowTaskTimeouts } from '../helpers/runRecords';

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
  const suite = useKillSuite({ jobPhaseMs: 600 }); // jobs train for about 3 s: a worker can die while one runs
  const { admin } = suite;
  const addHolds = (point: KillPoint, names: RunNames) => suite.addHolds(holdsFor(point, names));

  test('every run completes, each with one job, one model version and its endpoint deleted', async () => {
    const temporal = suite.temporal();
    const started = Date.now();
    const drives = PLANS.map(async (plan, i) => {
      const taskQueue = `crash-${i}-${randomUUID()}`;
      const startWorker = () => suite.startWorker(taskQueue);
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
        await suite.removeHolds(holdIds);
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
      const result = await client.handle(run.runId).result();
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
