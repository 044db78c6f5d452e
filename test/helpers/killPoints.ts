// Where a test kills a worker: right after a step completed ("after"), or while a long step runs on it
// ("during"). Each point is reached on Temporal's records (history long poll, pending activities), and
// held open by an emulator delay on the next request the run makes there, so the kill cannot come too
// late on a slow machine: after a step, the next step cannot finish before the kill; during a step, the
// step is blocked inside the emulator when the kill comes. A delay ends as soon as its rule is removed,
// right after the kill.
import type { Client } from '@temporalio/client';
import type { RunNames } from '../../src/runSpec/names';
import { STEPS, type StepName } from '../../src/workflows/definitions';
import type { EmulatorAdmin, FaultRule } from './privateStack';
import { awaitHistory, hasCompleted, pendingActivity, runningOn, stepAttempts } from './runRecords';
import { waitFor } from './localStack';

export type LongStep = 'stageDataset' | 'awaitPipeline' | 'deployEndpoint' | 'smokeScore' | 'deleteEndpoint';
export type KillPoint = { after: StepName } | { during: LongStep };

export function describePoint(point: KillPoint): string {
  return 'after' in point ? `after ${point.after}` : `during ${point.during}`;
}

/**
 * A hold that only ends when its rule goes: far beyond the seconds a loaded machine may take to notice
 * the point. For rules on the run's own paths, and for shared paths that only heartbeating steps use
 * (a step held there stays alive, however long other runs wait behind it).
 */
const HOLD_MS = 60_000;
/**
 * A path that a quick step (no heartbeats, timed out after quickStepTimeoutSeconds) also uses while the
 * hold is up: other runs' quick steps on a shared path, or this run's own step before the point. Such a
 * hold must stay well under that timeout.
 */
const BRIEF_HOLD_MS = 1_500;

/**
 * Delay rules that hold the run at the point: after a step, the first request of the step that follows;
 * during a step, a request in its middle. Rules on paths no run owns (registry, computes, Hub, MLflow,
 * operation results) hold every run that passes there meanwhile, until they are removed after the kill.
 */
export function holdsFor(point: KillPoint, names: RunNames): FaultRule[] {
  const ep = `*/onlineEndpoints/${names.endpointName}`;
  const delay = (method: string, path: string, ms = HOLD_MS): FaultRule => ({
    method,
    path,
    action: { type: 'delay', ms },
  });
  if ('after' in point) {
    const next: Record<StepName, FaultRule | undefined> = {
      authenticate: delay('GET', '*/registries/azureml/discovery', BRIEF_HOLD_MS),
      // Runs stage the dataset before they look up (or create) the cluster.
      resolveModel: delay('GET', '*/hf/api/datasets/*/revision/main'),
      stageDataset: delay('GET', '*/computes/*', BRIEF_HOLD_MS),
      validateCompute: delay('PUT', `*/jobs/${names.jobName}`),
      // submitPipeline reads the job first too (is it there already?); the job's training keeps
      // awaitPipeline from completing on the victim, should the kill come late.
      submitPipeline: delay('GET', `*/jobs/${names.jobName}`, BRIEF_HOLD_MS),
      awaitPipeline: delay('GET', '*/mlflow/experiments/get-by-name', BRIEF_HOLD_MS),
      // registerModel lists the model's versions first (a path every run registering that model shares).
      collectMetrics: delay('GET', '*/models/*/versions', BRIEF_HOLD_MS),
      registerModel: delay('GET', ep),
      deployEndpoint: delay('POST', `${ep}/listKeys`),
      smokeScore: delay('DELETE', ep),
      deleteEndpoint: undefined,
    };
    const rule = next[point.after];
    if (!rule) throw new Error(`no step follows ${point.after}`);
    return [rule];
  }
  const during: Record<LongStep, FaultRule | undefined> = {
    // The last split (test_gen, the scoring sample): train and test are staged when it blocks.
    stageDataset: delay('GET', '*/data/test_gen-*'),
    // The job itself keeps running on the emulator's clock: nothing to hold.
    awaitPipeline: undefined,
    // The endpoint exists; its deployment is being created.
    deployEndpoint: delay('PUT', `${ep}/deployments/*`),
    smokeScore: delay('POST', `*/inference/${names.endpointName}/score`),
    // The delete was accepted; its operation is being followed.
    deleteEndpoint: delay('GET', '*/mfeOperationResults/*'),
  };
  const rule = during[point.during];
  return rule ? [rule] : [];
}

export interface Reached {
  /** For "during awaitPipeline": the job's state on the emulator when the point was reached. */
  jobState?: string;
}

/**
 * Resolves once the run is at the point on the worker process `pid`: after a step, as soon as the
 * history records its completion; during a step, once it runs (and has heartbeated) on that worker and is
 * blocked on its hold (or, for awaitPipeline, follows a job that is still running).
 */
export async function reach(
  temporal: Client,
  admin: EmulatorAdmin,
  runId: string,
  names: RunNames,
  point: KillPoint,
  pid: number | undefined,
  holdIds: string[],
  timeoutMs = 120_000,
): Promise<Reached> {
  if ('after' in point) {
    await awaitHistory(temporal, runId, `${point.after} to complete`, hasCompleted(point.after), timeoutMs);
    return {};
  }
  const step = point.during;
  return waitFor(
    `${step} to be under way on worker ${pid}`,
    async () => {
      if (!runningOn(await pendingActivity(temporal, runId, step), pid)) return undefined;
      if (step === 'awaitPipeline') {
        const job = (await admin.resources()).jobs.find((j) => j.name === names.jobName);
        return job?.state && !['Completed', 'Failed', 'Canceled'].includes(job.state)
          ? { jobState: job.state }
          : undefined;
      }
      const held = (await admin.faults()).filter((r) => holdIds.includes(r.id) && r.hits > 0);
      return held.length > 0 ? {} : undefined;
    },
    timeoutMs,
  );
}

export interface KillRecord {
  point: KillPoint;
  /** The killed worker process. */
  pid: number | undefined;
  /** Its replacement. */
  nextPid: number | undefined;
  killedAtMs: number;
  /** How long the replacement took to start polling. */
  restartMs: number;
  reached: Reached;
}

/**
 * What the history says about a kill: whether it came where it was meant to (after the step: the killed
 * worker completed that step and nothing after it; during the step: it did not complete it, another
 * worker did, on a later attempt), and how the next step went.
 */
export function verdictOf(events: Parameters<typeof stepAttempts>[0], kill: KillRecord) {
  // The run's steps only: bookkeeping between two steps (estimateCost after validateCompute, measureCost at the
  // end, webhook audience checks) calls no Azure write and may complete on the victim before the kill lands.
  const attempts = stepAttempts(events).filter((a) => (STEPS as readonly string[]).includes(a.step));
  const byVictim = attempts.filter((a) => a.outcome === 'completed' && a.completedBy?.startsWith(`${kill.pid}@`));
  const lastByVictim = byVictim.at(-1)?.step;
  if ('after' in kill.point) {
    const step = kill.point.after;
    const index = attempts.findIndex((a) => a.step === step && a.outcome === 'completed');
    const next = attempts.slice(index + 1).find((a) => a.outcome === 'completed');
    return {
      where: lastByVictim === step ? 'as planned' : `victim last completed ${lastByVictim ?? 'nothing'}`,
      next: next && { step: next.step, attempt: next.attempt },
    };
  }
  const step = kill.point.during;
  const done = attempts.find((a) => a.step === step && a.outcome === 'completed');
  const tookOver = done !== undefined && !done.completedBy?.startsWith(`${kill.pid}@`) && done.attempt >= 2;
  return {
    where: tookOver
      ? 'as planned'
      : `${step} completed by ${done?.completedBy ?? 'nobody'} on attempt ${done?.attempt ?? 0}`,
    next: done && { step, attempt: done.attempt },
  };
}
