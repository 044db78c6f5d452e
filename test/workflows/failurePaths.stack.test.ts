// docs/design.md, invariant 1 (billing safety), step by step: whichever step the run is in when it is cancelled
// or fails for good, it ends with no live endpoint and no running pipeline job. Each step's real
// activity is wrapped so the step is reliably "in progress" (or failing) at a chosen moment: the wrapper
// runs the real activity first, so what that step creates really exists in the emulator, then blocks
// (heartbeating, until cancelled or released) or throws a non-retryable failure.
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { RestError } from '@azure/core-rest-pipeline';
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, createDeps, type FineTuneActivities } from '../../src/activities';
import { loadAzureConfig } from '../../src/azure/config';
import { STEPS, type RunProgress, type StepName } from '../../src/workflows/definitions';
import { FAST_TUNING, resourcesOf, waitFor, withClock, type TestHarness, startHarness } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 3 };
/** Job states after which a pipeline job bills nothing more. */
const TERMINAL_JOB_STATES = ['Canceled', 'Completed', 'Failed'];
/** A job phase long enough that the job is still running when the run is cancelled or fails. */
const LONG_JOB = { jobPhaseMs: 120_000 };

const STEPS_UNDER_TEST = STEPS.filter((s) => s !== 'deleteEndpoint');
const stepIndex = (s: StepName) => STEPS.indexOf(s);
const JOB_SUBMITTED_AT = stepIndex('submitPipeline');
const JOB_FINISHED_AFTER = stepIndex('awaitPipeline');
const ENDPOINT_FROM = stepIndex('deployEndpoint');

class Deferred {
  done = false;
  private settle!: () => void;
  readonly promise = new Promise<void>((resolve) => {
    this.settle = resolve;
  });
  resolve(): void {
    this.done = true;
    this.settle();
  }
}

interface Plan {
  step: StepName;
  mode: 'cancel' | 'fail';
  /** Run the real activity before blocking or failing (so what the step creates exists). */
  realFirst: boolean;
  /** Run the real activity after the gate is released (a slow request that lands late). */
  realAfterRelease?: boolean;
  /** Heartbeat while blocked (so a cancellation reaches the activity); the real quick steps do not. */
  heartbeat: boolean;
  /** Attempts of the step's activity in this run. */
  attempts: number;
  entered: Deferred;
  release: Deferred;
  settled: Deferred;
}

/** Plans by run id (= workflow id); activities of runs without a plan, and other steps, run for real. */
const plans = new Map<string, Plan>();

/** Blocks until released or (when heartbeating) cancelled; a cancellation surfaces as CancelledFailure. */
async function gate(plan: Plan): Promise<void> {
  const ctx = Context.current();
  while (!plan.release.done) {
    if (plan.heartbeat) ctx.heartbeat({ gated: plan.step });
    await Promise.race([
      plan.heartbeat ? ctx.sleep(100) : new Promise((r) => setTimeout(r, 100)),
      plan.release.promise,
    ]);
  }
}

type AnyActivity = (...args: any[]) => Promise<any>;

function intercept(step: StepName, real: AnyActivity): AnyActivity {
  return async (...args: any[]) => {
    const plan = plans.get(Context.current().info.workflowExecution?.workflowId ?? '');
    if (!plan || plan.step !== step) return real(...args);
    plan.attempts += 1;
    try {
      let result = plan.realFirst ? await real(...args) : undefined;
      plan.entered.resolve();
      if (plan.mode === 'fail') throw ApplicationFailure.nonRetryable(`injected failure of ${step}`, 'InjectedFailure');
      await gate(plan);
      if (plan.realAfterRelease) result = await real(...args);
      return result;
    } finally {
      plan.settled.resolve();
    }
  };
}

const env = { ...process.env, ...FAST_TUNING };
const real = createActivities(createDeps(loadAzureConfig(env), env));

/** Runs whose first deleteEndpoint attempt fails as a classified 403 would (non-retryable), then attempts run for real. */
// The endpoint DELETE answers 403 once for the runs registered here, as Azure does while a role
// assignment propagates: injected at the Azure client, so the real deleteEndpoint activity handles it.
const deleteFailsOnce = new Map<string, { attempts: number }>();
const flakyDeps = createDeps(loadAzureConfig(env), env);
const beginDelete = flakyDeps.arm.onlineEndpoints.beginDelete.bind(flakyDeps.arm.onlineEndpoints);
flakyDeps.arm.onlineEndpoints.beginDelete = async (...args: Parameters<typeof beginDelete>) => {
  const flaky = deleteFailsOnce.get(Context.current().info.workflowExecution?.workflowId ?? '');
  if (flaky && ++flaky.attempts === 1) {
    throw new RestError(`The client does not have authorization to perform action 'delete' over scope '${args[2]}'.`, {
      statusCode: 403,
      code: 'AuthorizationFailed',
    });
  }
  return beginDelete(...args);
};
const flakyDeleteEndpoint = createActivities(flakyDeps).deleteEndpoint;

const overrides: Partial<FineTuneActivities> = {
  ...Object.fromEntries(
    STEPS_UNDER_TEST.map((s) => [s, intercept(s, real[s as keyof FineTuneActivities] as AnyActivity)]),
  ),
  deleteEndpoint: flakyDeleteEndpoint,
};

function stepOf(progress: RunProgress, name: StepName) {
  const s = progress.steps.find((x) => x.name === name);
  if (!s) throw new Error(`progress has no step ${name}`);
  return s;
}

describe('billing safety: a run cancelled or failing in any step leaves no endpoint and no running job', () => {
  let h: TestHarness;
  beforeAll(async () => {
    h = await startHarness(overrides);
  });
  afterAll(async () => {
    for (const plan of plans.values()) plan.release.resolve();
    await h?.stop();
  });

  async function runWithPlan(step: StepName, mode: Plan['mode'], extra: Partial<Plan> = {}) {
    const key = `fp-${mode}-${step}-${randomUUID().slice(0, 8)}`;
    const runId = `ft-${key}`;
    const plan: Plan = {
      step,
      mode,
      // awaitPipeline only reads: block (or fail) while the job is still running instead.
      realFirst: step !== 'awaitPipeline',
      heartbeat: true,
      attempts: 0,
      entered: new Deferred(),
      release: new Deferred(),
      settled: new Deferred(),
      ...extra,
    };
    plans.set(runId, plan);
    const jobMayRun = stepIndex(step) >= JOB_SUBMITTED_AT && stepIndex(step) <= JOB_FINISHED_AFTER;
    const startAndEnter = async () => {
      const run = await h.client.start({}, { idempotencyKey: key, options: QUICK });
      expect(run.runId).toBe(runId);
      await waitFor(`${step} to be entered`, async () => (plan.entered.done ? true : undefined), 90_000);
      return run;
    };
    const run = jobMayRun ? await withClock(LONG_JOB, startAndEnter) : await startAndEnter();
    return { run, plan };
  }

  async function expectNothingBilling(
    step: StepName,
    names: { jobName: string; endpointName: string },
    progress: RunProgress,
  ) {
    const seen = await resourcesOf(names);
    // Endpoints: none before deployEndpoint; from it on, every one created for this run is deleted.
    if (stepIndex(step) < ENDPOINT_FROM) {
      expect(seen.endpoints).toEqual([]);
      expect(stepOf(progress, 'deleteEndpoint').status).toBe('skipped');
    } else {
      expect(seen.endpoints.length).toBeGreaterThan(0);
      for (const e of seen.endpoints) expect(e.deletedAt).toBeTruthy();
      expect(stepOf(progress, 'deleteEndpoint')).toMatchObject({ status: 'completed', detail: 'deleted' });
    }
    // The job: none before submitPipeline; cancelled while it ran; completed once followed to its end.
    if (stepIndex(step) < JOB_SUBMITTED_AT) expect(seen.jobs).toEqual([]);
    else if (stepIndex(step) <= JOB_FINISHED_AFTER) expect(seen.jobs.map((j) => j.state)).toEqual(['Canceled']);
    else expect(seen.jobs.map((j) => j.state)).toEqual(['Completed']);
    for (const j of seen.jobs) expect(TERMINAL_JOB_STATES).toContain(j.state);
  }

  test.each(STEPS_UNDER_TEST)(
    'cancelling the run while %s runs ends with zero endpoints and no running job',
    async (step) => {
      const { run, plan } = await runWithPlan(step, 'cancel');
      try {
        expect((await h.client.progress(run.runId)).currentStep).toBe(step);
        await h.client.cancel(run.runId);
        await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
        const progress = await h.client.progress(run.runId);
        expect(progress.status).toBe('cancelled');
        expect(stepOf(progress, step).status).toBe('cancelled');
        await expectNothingBilling(step, run.names, progress);
      } finally {
        plan.release.resolve();
      }
    },
  );

  test.each(STEPS_UNDER_TEST)(
    'a non-retryable failure of %s ends with zero endpoints and no running job',
    async (step) => {
      const { run, plan } = await runWithPlan(step, 'fail');
      try {
        await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
        const progress = await h.client.progress(run.runId);
        expect(progress.status).toBe('failed');
        expect(progress.error).toContain(`injected failure of ${step}`);
        expect(stepOf(progress, step).status).toBe('failed');
        // A non-retryable failure is not retried: the step ran once.
        expect(plan.attempts).toBe(1);
        await expectNothingBilling(step, run.names, progress);
      } finally {
        plan.release.resolve();
      }
    },
  );

  // Regression (found by this suite): submitPipeline used to be abandoned on cancellation, so a PUT still
  // on its way created a GPU job after cancelPipeline had found none. The workflow now waits for the
  // submit attempt to settle before it cancels the run's jobs.
  test('a cancel that lands while submitPipeline is still before its PUT leaves no job running after the run', async () => {
    const { run, plan } = await runWithPlan('submitPipeline', 'cancel', {
      realFirst: false,
      realAfterRelease: true,
      heartbeat: false,
    });
    try {
      // Only request the cancellation: client.cancel() waits for confirmed cleanup, which waits for this attempt.
      await h.client.handle(run.runId).cancel();
      // The attempt's PUT goes out after the cancel request: the run must wait for it, then cancel the job.
      await withClock(LONG_JOB, async () => {
        plan.release.resolve();
        await plan.settled.promise;
      });
      await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
      const progress = await h.client.progress(run.runId);
      expect(progress.status).toBe('cancelled');
      const seen = await resourcesOf(run.names);
      expect(seen.jobs.map((j) => j.state)).toEqual(['Canceled']);
      expect(seen.endpoints).toEqual([]);
    } finally {
      plan.release.resolve();
      await plan.settled.promise;
      // Never leave a job running in the shared emulator, whatever the outcome.
      await new MockActivityEnvironment().run(real.cancelPipeline, run.names.jobName);
    }
  });

  // Regression (found by this suite): a 403 on the endpoint DELETE is classified non-retryable, and used
  // to end cleanup for good with the endpoint still billing. Cleanup now retries every failure.
  test('a cleanup delete that Azure refuses once with 403 is retried until the endpoint is gone', async () => {
    const key = `fp-flakydelete-${randomUUID().slice(0, 8)}`;
    const flaky = { attempts: 0 };
    deleteFailsOnce.set(`ft-${key}`, flaky);
    const run = await h.client.start({}, { idempotencyKey: key, options: QUICK });
    try {
      await h.client.result(run.runId).catch(() => undefined);
      const seen = await resourcesOf(run.names);
      expect(seen.endpoints.length).toBeGreaterThan(0);
      for (const e of seen.endpoints) expect(e.deletedAt).toBeTruthy();
      expect(flaky.attempts).toBeGreaterThan(1);
    } finally {
      // Do not leave the endpoint billing in the shared emulator.
      await new MockActivityEnvironment().run(real.deleteEndpoint, run.names.endpointName);
    }
  });
});
