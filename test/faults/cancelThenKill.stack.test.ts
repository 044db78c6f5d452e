// Issue 13 item 5, "a cancel that stays a cancel", with real worker processes: for each heartbeating step, a
// run is cancelled while the step is blocked in its middle (an emulator hold), and its worker is SIGKILLed
// after the workflow recorded its request to cancel the step but before the step could acknowledge it; a new
// worker starts at once. The run must close CANCELLED after its cleanup (the job cancelled, the endpoint
// deleted), not FAILED with the step's heartbeat timeout. Where each kill landed is read from Temporal's
// history (the cancel request, then the step's heartbeat timeout, and no acknowledgement), what was left
// from the emulator's records.
//
// Recording the replay fixtures of this path (test/fixtures/histories/README.md):
//   FTFLOW_RECORD_HISTORIES=test/fixtures/histories jest --runInBand test/faults/cancelThenKill.stack.test.ts
// runs each case under the idempotency key fixture-cancel-then-kill-<case> and writes its history as the
// Temporal CLI shows it (`workflow show --output json`).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { FineTuneClient } from '../../src/client';
import { deriveRunNames, type RunNames } from '../../src/runSpec/names';
import { resolveTemporalCli } from '../../devstack/stack/paths';
import { holdsFor, type LongStep } from '../helpers/killPoints';
import { useKillSuite } from '../helpers/killSuite';
import { temporalAddress, waitFor } from '../helpers/localStack';
import type { FaultRule } from '../helpers/privateStack';
import { awaitHistory, azureRecordOf, historyOf, isProcess, pendingActivity, runningOn } from '../helpers/runRecords';
import type { WorkerProcess } from '../helpers/workerProcess';

/** Takeovers within seconds: heartbeating steps after 3 s of silence, the others after 6 s (production: 30 s and 300 s). */
const OPTIONS = { heartbeatTimeoutSeconds: 3, quickStepTimeoutSeconds: 6 };
const TERMINAL_JOB_STATES = ['Completed', 'Failed', 'Canceled'];

type Step = LongStep | 'validateCompute';

interface Case {
  name: string;
  /** The step that runs when the run is cancelled. */
  cancelDuring: Step;
  /** The step that runs when the worker is killed: the same step (before it acknowledged) or the cleanup that followed. */
  killDuring: Step;
  /** What the emulator must show of the run's job at the end. */
  job: 'none' | 'Canceled' | 'Completed';
}

const CASES: Case[] = [
  { name: 'stage', cancelDuring: 'stageDataset', killDuring: 'stageDataset', job: 'none' },
  { name: 'compute', cancelDuring: 'validateCompute', killDuring: 'validateCompute', job: 'none' },
  // Abandoned on cancel (TRY_CANCEL): the workflow cancels the job at once; the dead follower times out later.
  { name: 'await', cancelDuring: 'awaitPipeline', killDuring: 'awaitPipeline', job: 'Canceled' },
  { name: 'deploy', cancelDuring: 'deployEndpoint', killDuring: 'deployEndpoint', job: 'Completed' },
  { name: 'score', cancelDuring: 'smokeScore', killDuring: 'smokeScore', job: 'Completed' },
  // deleteEndpoint is never cancelled (a non-cancellable cleanup): the kill lands in the cleanup after the cancel.
  { name: 'delete', cancelDuring: 'smokeScore', killDuring: 'deleteEndpoint', job: 'Completed' },
];

/** The delay that blocks the step in its middle until the rule is removed (none for awaitPipeline: the job trains on). */
function holdOf(step: Step, names: RunNames): FaultRule | undefined {
  if (step === 'validateCompute') return { method: 'GET', path: '*/computes/*', action: { type: 'delay', ms: 60_000 } };
  return holdsFor({ during: step }, names)[0];
}

type HistoryEvent = Awaited<ReturnType<typeof historyOf>>[number];

function scheduledIdsOf(events: HistoryEvent[], step: string): Set<number> {
  return new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === step)
      .map((e) => Number(e.eventId)),
  );
}

/** The step's activity events that name their scheduled event (started, completed, failed, timed out, cancel requested, cancelled). */
function stepEvents(events: HistoryEvent[], step: string) {
  const ids = scheduledIdsOf(events, step);
  const of = (attrs: { scheduledEventId?: unknown } | null | undefined) =>
    attrs != null && ids.has(Number(attrs.scheduledEventId));
  return {
    cancelRequested: events.filter((e) => of(e.activityTaskCancelRequestedEventAttributes)),
    canceled: events.filter((e) => of(e.activityTaskCanceledEventAttributes)),
    completed: events.filter((e) => of(e.activityTaskCompletedEventAttributes)),
    timedOut: events.filter((e) => of(e.activityTaskTimedOutEventAttributes)),
  };
}

const heartbeatMs = (p: Awaited<ReturnType<typeof pendingActivity>>) =>
  p?.lastHeartbeatTime ? Number(p.lastHeartbeatTime.seconds ?? 0) * 1000 + (p.lastHeartbeatTime.nanos ?? 0) / 1e6 : 0;

describe('a run cancelled in a heartbeating step whose worker dies before the step acknowledged closes CANCELLED', () => {
  const report: string[] = [];
  const recordTo = process.env.FTFLOW_RECORD_HISTORIES;
  // Jobs that train for a few seconds, so the runs reach deployment soon.
  const suite = useKillSuite({
    jobPhaseMs: 600,
    afterAll: () => process.stderr.write(`[cancelThenKill]\n  ${report.join('\n  ')}\n`),
  });
  const { admin } = suite;

  async function hold(step: Step, names: RunNames): Promise<string[]> {
    const rule = holdOf(step, names);
    return rule ? suite.addHolds([rule]) : [];
  }
  const release = (ids: string[]) => suite.removeHolds(ids);

  /** Resolves once `step` runs on the worker `pid`, has heartbeated there, and is blocked on its hold (or follows a running job). */
  function reachMiddle(runId: string, names: RunNames, step: Step, pid: number | undefined, holdIds: string[]) {
    return waitFor(
      `${step} to be under way on worker ${pid}`,
      async () => {
        if (!runningOn(await pendingActivity(suite.temporal(), runId, step), pid)) return undefined;
        if (step === 'awaitPipeline') {
          const job = (await admin.resources()).jobs.find((j) => j.name === names.jobName);
          return job?.state && !TERMINAL_JOB_STATES.includes(job.state) ? true : undefined;
        }
        const held = (await admin.faults()).filter((r) => holdIds.includes(r.id) && r.hits > 0);
        return held.length > 0 ? true : undefined;
      },
      120_000,
    );
  }

  /**
   * Resolves right after the step's next heartbeat reached the server. A step learns of its cancellation only
   * in the answer to a heartbeat, and the worker throttles them (about 0.8 x the heartbeat timeout apart, 2.4 s
   * here): a cancel requested now is recorded, and the worker killed (tens of milliseconds later), long before
   * the step's next heartbeat could carry it. The history checks below say whether it was.
   */
  async function justAfterHeartbeat(runId: string, step: Step): Promise<void> {
    const last = heartbeatMs(await pendingActivity(suite.temporal(), runId, step));
    await waitFor(
      `a new heartbeat of ${step}`,
      async () => (heartbeatMs(await pendingActivity(suite.temporal(), runId, step)) > last ? true : undefined),
      30_000,
    );
  }

  function recordHistory(runId: string, name: string): void {
    if (!recordTo) return;
    const json = execFileSync(
      resolveTemporalCli(),
      ['workflow', 'show', '-w', runId, '--address', temporalAddress(), '--output', 'json'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    fs.writeFileSync(path.join(recordTo, `fixture-${name}.json`), json);
  }

  test.each(CASES.map((c) => [c.name, c] as const))(
    'cancel then kill: %s',
    async (name, c) => {
      const started = Date.now();
      const taskQueue = `cancel-kill-${name}-${randomUUID()}`;
      const startWorker = () => suite.startWorker(taskQueue);
      const victim = await startWorker();
      const client = await FineTuneClient.connect({ client: suite.temporal(), taskQueue });
      const idempotencyKey = recordTo ? `fixture-cancel-then-kill-${name}` : `cancel-kill-${name}-${randomUUID()}`;
      const names = deriveRunNames(`ft-${idempotencyKey}`);
      let holdIds = await hold(c.cancelDuring, names);
      // awaitPipeline: a job that trains for minutes, so it still runs when the run is cancelled.
      const clock = c.cancelDuring === 'awaitPipeline' ? (await admin.clock()).jobPhaseMs : undefined;
      if (clock !== undefined) await admin.setClock({ jobPhaseMs: 60_000 });
      let successor: WorkerProcess | undefined;
      try {
        // A slice of its own (the percent is part of the staged blob's content key), so staging cannot
        // adopt a slice an earlier suite staged on the shared stack and pass the stageDataset hold unread.
        const percent = 4 + Number.parseInt(randomUUID().slice(0, 4), 16) / 65_536;
        const run = await client.start({ dataset: { percent } }, { idempotencyKey, options: OPTIONS });
        await reachMiddle(run.runId, names, c.cancelDuring, victim.child.pid, holdIds);
        if (clock !== undefined) await admin.setClock({ jobPhaseMs: clock });

        // Cancelled as `ftflow cancel` does (FineTuneClient.cancel: request, then wait for the close and say how it ended).
        let cancelling: Promise<unknown> | undefined;
        const cancel = () => {
          cancelling = client.cancel(run.runId, { waitSeconds: 150 }).catch((err: unknown) => err);
        };
        let requestedAtMs: number;
        if (c.killDuring === c.cancelDuring) {
          // Cancel between two heartbeats, and kill the worker as soon as the history records the
          // workflow's request to cancel the step: the step never hears of it.
          await justAfterHeartbeat(run.runId, c.cancelDuring);
          requestedAtMs = Date.now();
          cancel();
          await awaitHistory(
            suite.temporal(),
            run.runId,
            `the request to cancel ${c.cancelDuring}`,
            (events) => stepEvents(events, c.cancelDuring).cancelRequested.length > 0,
          );
        } else {
          // The cancel stops the step; the kill comes in the cleanup that follows.
          holdIds = [...holdIds, ...(await hold(c.killDuring, names))];
          requestedAtMs = Date.now();
          cancel();
          await reachMiddle(run.runId, names, c.killDuring, victim.child.pid, holdIds);
        }
        const killedAtMs = Date.now();
        await victim.kill('SIGKILL');
        await release(holdIds);
        holdIds = [];
        successor = await startWorker();

        const error = await client.result(run.runId).then(
          () => undefined,
          (err: unknown) => err,
        );
        const closedAtMs = Date.now();
        const cancelOutcome = await cancelling;
        const events = await historyOf(suite.temporal(), run.runId);
        const description = await client.handle(run.runId).describe();
        const azure = azureRecordOf(await admin.resources(), names);
        const job = (await admin.resources()).jobs.find((j) => j.name === names.jobName);
        const killed = stepEvents(events, c.killDuring);
        recordHistory(run.runId, `cancel-then-kill-${name}`);
        report.push(
          `${name.padEnd(8)} cancel during ${c.cancelDuring}, kill during ${c.killDuring} ${killedAtMs - requestedAtMs} ms after the request: ` +
            `${description.status.name} ${((closedAtMs - killedAtMs) / 1000).toFixed(1)} s after the kill ` +
            `(case ${((closedAtMs - started) / 1000).toFixed(1)} s); ${c.killDuring}: ` +
            `${killed.timedOut.length} timed out, ${killed.canceled.length} acknowledged, ${killed.completed.length} completed; ` +
            `job ${job?.state ?? 'none'}; live endpoints ${azure.liveEndpoints}, deployments ${azure.liveDeployments}; ` +
            `cancel said: ${(cancelOutcome as { message?: string } | undefined)?.message ?? String(cancelOutcome)}`,
        );

        // The run closed cancelled, after its cleanup.
        expect(description.status.name).toBe('CANCELLED');
        expect(error).toBeInstanceOf(WorkflowFailedError);
        expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
        expect(events.at(-1)?.workflowExecutionCanceledEventAttributes).toBeTruthy();
        // What `ftflow cancel` prints and exits with (0 for every confirmed end, so the words must be right).
        expect(cancelOutcome).toMatchObject({
          status: 'cancelled',
          cleanup: 'confirmed',
          message: expect.stringMatching(/ended \(cancelled\) after its cleanup/),
        });
        // Billing safety from the emulator's records: nothing serving, no job training.
        expect({ liveEndpoints: azure.liveEndpoints, liveDeployments: azure.liveDeployments }).toEqual({
          liveEndpoints: 0,
          liveDeployments: 0,
        });
        if (c.job === 'none') expect(job).toBeUndefined();
        else expect(job?.state).toBe(c.job);

        // The kill landed where planned: the cancel request is in the history before the killed step's
        // heartbeat timeout, and the victim never acknowledged the cancel.
        const cancelRequestedId = Number(
          events.find((e) => e.workflowExecutionCancelRequestedEventAttributes)?.eventId,
        );
        expect(cancelRequestedId).toBeGreaterThan(0);
        expect(killed.canceled).toEqual([]);
        for (const t of killed.timedOut) {
          expect(Number(t.eventId)).toBeGreaterThan(cancelRequestedId);
          expect(t.activityTaskTimedOutEventAttributes?.failure?.message).toMatch(/heartbeat/i);
        }
        if (c.killDuring === 'deleteEndpoint') {
          // Cleanup is retried, so the lost attempt's timeout is no event of its own: the attempt that
          // completed the deletion (on the new worker) carries it as its last failure.
          expect(killed.timedOut).toEqual([]);
          expect(Math.min(...scheduledIdsOf(events, 'deleteEndpoint'))).toBeGreaterThan(cancelRequestedId);
          const done = events.find(
            (e) =>
              e.activityTaskStartedEventAttributes &&
              scheduledIdsOf(events, 'deleteEndpoint').has(
                Number(e.activityTaskStartedEventAttributes.scheduledEventId),
              ),
          )?.activityTaskStartedEventAttributes;
          expect(done?.attempt).toBeGreaterThanOrEqual(2);
          expect(done?.lastFailure?.message).toMatch(/heartbeat/i);
          expect(
            isProcess(successor.child.pid, killed.completed[0]?.activityTaskCompletedEventAttributes?.identity),
          ).toBe(true);
        } else {
          expect(Number(killed.cancelRequested[0]?.eventId)).toBeGreaterThan(cancelRequestedId);
          expect(killed.completed).toEqual([]);
          // The workflow does not wait for the follower it abandons: the run may close before its timeout.
          if (c.killDuring !== 'awaitPipeline') expect(killed.timedOut).toHaveLength(1);
        }
      } finally {
        await release(holdIds);
        if (clock !== undefined) await admin.setClock({ jobPhaseMs: clock });
        await victim.kill('SIGKILL');
        await successor?.kill('SIGKILL');
      }
    },
    180_000,
  );
});
