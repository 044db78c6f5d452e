// The whole run against the local stack: real Temporal dev server, Azurite and the Azure ML emulator.
import { WorkflowFailedError } from '@temporalio/client';
import { startHarness, resourcesOf, emulator, waitFor, withClock, type TestHarness } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 5 };

describe('fineTune workflow on the local stack', () => {
  let h: TestHarness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('runs every step of the seed and deletes the endpoint at the end', async () => {
    const run = await h.client.start({}, { options: QUICK });
    // The workflow's own result (the record callers get is checked in test/client/runRecord.stack.test.ts).
    const result = await h.client.handle(run.runId).result();

    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => s.status)).toEqual(Array(11).fill('completed'));
    expect(result.model).toMatchObject({ registry: 'azureml', name: 'Phi-3-mini-4k-instruct' });
    expect(result.job.status).toBe('Completed');
    expect(result.job.displayName).toMatch(
      /^Phi-3-mini-4k-instruct-ultrachat-bs\d+-cosine-ds2-lora-save_limit1-seqlen-1$/,
    );
    // model_specific_defaults override the notebook's 3 epochs; learning_rate_min/max are not inputs:
    // noted on the record, not warned about (nobody can act on them).
    expect(result.job.parameters.num_train_epochs).toBe('1');
    expect(result.job.notes?.join('\n')).toMatch(/learning_rate_min/);
    expect(result.warnings.join('\n')).not.toMatch(/learning_rate_m/);
    expect(result.data.train.rows).toBeGreaterThan(0);
    expect(typeof result.metrics.train_loss).toBe('number');
    expect(result.registeredModel.version).toMatch(/^[1-9]\d*$/);
    expect(result.smokeScore.replyChars).toBeGreaterThan(0);
    expect(result.endpoint).toMatchObject({ endpointName: run.names.endpointName, existed: true, deleted: true });

    const seen = await resourcesOf(run.names);
    expect(seen.jobs).toHaveLength(1);
    expect(seen.endpoints).toHaveLength(1);
    expect(seen.endpoints[0].deletedAt).toBeTruthy();
  });

  test('starting twice with the same idempotency key returns one run and one job', async () => {
    const key = `same-${Date.now()}`;
    const first = await h.client.start({}, { idempotencyKey: key, options: QUICK });
    const second = await h.client.start({}, { idempotencyKey: key, options: QUICK });
    expect(second.runId).toBe(first.runId);
    await h.client.result(first.runId);
    const seen = await resourcesOf(first.names);
    expect(seen.jobs).toHaveLength(1);
    expect(seen.endpoints).toHaveLength(1);
  });

  test('cancels the Azure job when the run is cancelled while it waits for training', async () => {
    // A job that runs for minutes, as real ones do, so the cancel reaches it while it runs.
    const run = await withClock({ jobPhaseMs: 60_000 }, async () => {
      const started = await h.client.start({}, { options: QUICK });
      await waitFor('the job to be followed', async () =>
        (await h.client.progress(started.runId)).currentStep === 'awaitPipeline' ? true : undefined,
      );
      return started;
    });
    await h.client.cancel(run.runId);
    await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
    const progress = await h.client.progress(run.runId);
    expect(progress.status).toBe('cancelled');
    const seen = await resourcesOf(run.names);
    expect(seen.jobs).toHaveLength(1);
    expect(seen.jobs[0].state).toBe('Canceled');
    expect(seen.endpoints).toHaveLength(0);
  });

  test('deletes the endpoint when the run is cancelled during deployment', async () => {
    const run = await h.client.start({}, { options: QUICK });
    await waitFor('deployment to start', async () =>
      (await h.client.progress(run.runId)).currentStep === 'deployEndpoint' ? true : undefined,
    );
    await h.client.cancel(run.runId);
    await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
    const progress = await h.client.progress(run.runId);
    expect(progress.steps.find((s) => s.name === 'deleteEndpoint')?.status).toBe('completed');
    const seen = await resourcesOf(run.names);
    for (const endpoint of seen.endpoints) expect(endpoint.deletedAt).toBeTruthy();
  });

  test('refuses a VM size outside the model allow list before creating anything', async () => {
    const before = (await emulator.requests()).length;
    const run = await h.client.start(
      { compute: { name: 'ftflow-t4', vmSize: 'Standard_NC4as_T4_v3' } },
      { options: QUICK },
    );
    const err = await h.client.result(run.runId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const progress = await h.client.progress(run.runId);
    expect(progress.status).toBe('failed');
    expect(progress.error).toMatch(/compute.vmSize Standard_NC4as_T4_v3 is not in the model's finetune allow list/);
    const writes = (await emulator.requests())
      .slice(before)
      .filter((r) => r.method === 'PUT' || (r.method === 'POST' && /cancel|listKeys/.test(r.path)));
    expect(writes).toEqual([]);
  });
});
