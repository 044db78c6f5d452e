// The typed client against the local stack: idempotent start, get, list, events, cancel, resume.
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { createActivities, createDeps } from '../../src/activities';
import { loadAzureConfig } from '../../src/azure/config';
import { IdempotencyConflictError, RunNotResumableError, type RunEvent } from '../../src/client';
import type { SubmitPipelineInput, DeployEndpointInput } from '../../src/activities/types';
import { startHarness, emulator, waitFor, withClock, FAST_TUNING, type TestHarness } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 3 };

/** A spec of its own: its content key (and so its staged blobs) belongs to this test alone. */
function uniqueSpec(percent: number) {
  return { dataset: { percent } };
}

async function jobsOf(jobName: string) {
  return (await emulator.resources()).jobs.filter((j) => j.name === jobName || j.name.startsWith(`${jobName}-r`));
}

describe('the typed client on the local stack', () => {
  let h: TestHarness;
  // Failures injected per run id: a job submitted with a missing training file, a deployment refused.
  const failJob = new Set<string>();
  const failDeploy = new Set<string>();
  const env = { ...process.env, ...FAST_TUNING };
  const real = createActivities(createDeps(loadAzureConfig(env), env));

  beforeAll(async () => {
    h = await startHarness({
      async submitPipeline(input: SubmitPipelineInput) {
        if (!failJob.delete(input.names.runId)) return real.submitPipeline(input);
        // The job is accepted and fails after Preparing, as Azure fails a job whose input file is missing.
        const missing = { ...input.data.train, uri: input.data.train.uri.replace(/[^/]+\.jsonl$/, 'missing.jsonl') };
        return real.submitPipeline({ ...input, data: { ...input.data, train: missing } });
      },
      async deployEndpoint(input: DeployEndpointInput) {
        if (failDeploy.delete(input.runId))
          throw ApplicationFailure.nonRetryable('injected: deployment capacity unavailable', 'DeploymentFailed');
        return real.deployEndpoint(input);
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  let finished: { runId: string };

  test('starting with the same idempotency key returns one run, also after it ended; another spec under the key is refused', async () => {
    const key = `client-${Date.now()}`;
    const first = await h.client.start(uniqueSpec(2.1), { idempotencyKey: key, options: QUICK });
    const second = await h.client.start(uniqueSpec(2.1), { idempotencyKey: key, options: QUICK });
    expect(first).toMatchObject({ runId: `ft-${key}`, created: true });
    expect(second).toMatchObject({ runId: first.runId, created: false });
    await expect(h.client.start(uniqueSpec(2.2), { idempotencyKey: key })).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );

    await h.client.result(first.runId);
    const after = await h.client.start(uniqueSpec(2.1), { idempotencyKey: key, options: QUICK });
    expect(after).toMatchObject({ runId: first.runId, created: false });
    expect((await h.client.get(first.runId)).status).toBe('succeeded');
    expect(await jobsOf(first.names.jobName)).toHaveLength(1);
    finished = first;
  });

  test('get() returns the record: spec, steps, job status, metrics, source', async () => {
    const run = await h.client.get(finished.runId);
    expect(run).toMatchObject({
      id: finished.runId,
      object: 'fine_tune',
      status: 'succeeded',
      outcome: 'succeeded',
      source: 'client',
      progressAvailable: true,
    });
    expect(run.spec?.dataset.percent).toBe(2.1);
    expect(run.steps.every((s) => s.status === 'completed')).toBe(true);
    expect(run.jobStatus).toBe('Completed');
    expect(typeof run.metrics?.train_loss).toBe('number');
  });

  test('list() filters by status, model and dataset and pages with a token', async () => {
    const filter = {
      status: 'succeeded' as const,
      model: 'azureml/Phi-3-mini-4k-instruct',
      dataset: 'HuggingFaceH4/ultrachat_200k',
    };
    const seen = await waitFor('the run to be listed as succeeded', async () => {
      const page = await h.client.list({ ...filter, limit: 100 });
      return page.data.some((r) => r.id === finished.runId) ? page : undefined;
    });
    expect(seen.data.every((r) => r.status === 'succeeded' && r.model === filter.model)).toBe(true);
    expect(await h.client.list({ ...filter, status: 'running', limit: 100 })).toMatchObject({
      data: expect.not.arrayContaining([expect.objectContaining({ id: finished.runId })]),
    });

    // Pages of one, followed by their tokens, give the same runs as one big page.
    const paged: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await h.client.list({ limit: 1, pageToken });
      expect(page.data.length).toBeLessThanOrEqual(1);
      paged.push(...page.data.map((r) => r.id));
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken !== undefined);
    expect(paged).toEqual((await h.client.list({ limit: 100 })).data.map((r) => r.id));
    await expect(h.client.list({ pageToken: 'not a token' })).rejects.toMatchObject({ code: 'invalid' });
    await expect(h.client.list({ model: "x' OR 1=1" })).rejects.toMatchObject({
      code: 'invalid',
      issues: [expect.objectContaining({ field: 'model' })],
    });
  });

  test('events() lists what happened, oldest first, with stable ids as cursors', async () => {
    const all: RunEvent[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await h.client.events(finished.runId, { after, limit: 7 });
      all.push(...page.data);
      if (!page.hasMore) break;
      after = page.lastId ?? undefined;
    }
    const types = all.map((e) => e.type);
    expect(types[0]).toBe('run.started');
    expect(types[types.length - 1]).toBe('run.succeeded');
    expect(types).toEqual(
      expect.arrayContaining(['step.started', 'step.completed', 'job.submitted', 'job.status', 'metrics', 'warning']),
    );
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.find((e) => e.type === 'job.status')?.message).toMatch(/Completed$/);
    // The same events, in one page, with the same ids.
    expect((await h.client.events(finished.runId, { limit: 500 })).data.map((e) => e.id)).toEqual(all.map((e) => e.id));
    await expect(h.client.events(finished.runId, { after: 'nope' })).rejects.toMatchObject({ code: 'invalid' });
  });

  test('cancel() returns once cleanup is confirmed, or says it stopped waiting first', async () => {
    const run = await withClock({ jobPhaseMs: 60_000, cancelMs: 2_500 }, async () => {
      const started = await h.client.start(uniqueSpec(2.3), { options: QUICK });
      await waitFor('the job to be followed', async () =>
        (await h.client.progress(started.runId)).currentStep === 'awaitPipeline' ? true : undefined,
      );
      return started;
    });
    const early = await h.client.cancel(run.runId, { waitSeconds: 0.3 });
    expect(early).toMatchObject({ cleanup: 'timed-out', status: 'running' });
    const done = await h.client.cancel(run.runId, { waitSeconds: 60 });
    expect(done).toMatchObject({ cleanup: 'confirmed', status: 'cancelled' });
    expect((await jobsOf(run.names.jobName)).map((j) => j.state)).toEqual(['Canceled']);
    expect(await h.client.cancel(run.runId)).toMatchObject({ cleanup: 'already-ended', status: 'cancelled' });
  });

  test('resume after a failed job restages nothing and trains once more under the next job name', async () => {
    const run = await h.client.start(uniqueSpec(2.4), { options: QUICK });
    failJob.add(run.runId);
    await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
    const failed = await h.client.get(run.runId);
    expect(failed.status).toBe('failed');
    expect(failed.steps.find((s) => s.name === 'stageDataset')?.detail).not.toMatch(/already staged/);

    const resumed = await h.client.resume(run.runId);
    expect(resumed.previousStatus).toBe('failed');
    const result = await h.client.handle(run.runId).result();
    expect(result.data.train.reused && result.data.test.reused && result.data.scoring.reused).toBe(true);
    expect(result.job).toMatchObject({ jobName: `${run.names.jobName}-r2`, adopted: false, status: 'Completed' });
    expect((await jobsOf(run.names.jobName)).map((j) => j.state).sort()).toEqual(['Completed', 'Failed']);
    // The events cover both executions; the second one says it staged nothing.
    const events = (await h.client.events(run.runId, { limit: 500 })).data;
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['run.failed', 'run.resumed', 'run.succeeded']));
    expect(
      events
        .filter((e) => e.step === 'stageDataset' && e.type === 'step.completed')
        .map((e) => /already staged/.test(e.message)),
    ).toEqual([false, true]);
  });

  test('resume after a failed deployment adopts the completed job and the registered model: no second job', async () => {
    const run = await h.client.start(uniqueSpec(2.5), { options: QUICK });
    failDeploy.add(run.runId);
    await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await h.client.get(run.runId)).error).toMatch(/injected: deployment capacity unavailable/);

    await h.client.resume(run.runId);
    const result = await h.client.handle(run.runId).result();
    expect(result.job).toMatchObject({ jobName: run.names.jobName, adopted: true });
    expect(result.registeredModel.adopted).toBe(true);
    expect(result.endpoint).toMatchObject({ existed: true, deleted: true });
    expect(await jobsOf(run.names.jobName)).toHaveLength(1);
  });

  test('resume refuses a run that succeeded or still runs, and names an unknown run', async () => {
    await expect(h.client.resume(finished.runId)).rejects.toBeInstanceOf(RunNotResumableError);
    await expect(h.client.resume('ft-no-such-run')).rejects.toMatchObject({ code: 'not-found' });
  });
});
