// Quality gate, training budget, endpoint keep-alive, live job status, and a worker killed mid-wait.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { FineTuneClient } from '../../src/client';
import {
  startHarness,
  resourcesOf,
  emulator,
  waitFor,
  withClock,
  FAST_TUNING,
  type TestHarness,
} from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 3 };

async function failureOf(h: TestHarness, runId: string) {
  const err = await h.client.result(runId).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return h.client.progress(runId);
}

describe('run controls on the local stack', () => {
  let h: TestHarness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('a run that fails its quality gate registers no model and creates no endpoint', async () => {
    const run = await h.client.start({ qualityGate: { eval_loss: { max: 0.0001 } } }, { options: QUICK });
    const progress = await failureOf(h, run.runId);
    expect(progress.outcome).toBe('quality-gate-failed');
    expect(progress.error).toMatch(/quality gate failed: eval_loss [\d.]+ > max 0.0001/);
    expect(progress.qualityGate?.passed).toBe(false);
    expect(progress.steps.find((s) => s.name === 'registerModel')?.status).toBe('skipped');
    const all = await emulator.resources();
    expect(all.models.filter((m) => m.jobName === run.names.jobName)).toEqual([]);
    expect((await resourcesOf(run.names)).endpoints).toEqual([]);
  });

  test('a passing quality gate is recorded with each check', async () => {
    const run = await h.client.start(
      { qualityGate: { eval_loss: { max: 100 }, train_loss: { max: 100 } } },
      { options: QUICK },
    );
    const result = await h.client.result(run.runId);
    expect(result.qualityGate.passed).toBe(true);
    expect(result.qualityGate.checks.map((c) => c.metric).sort()).toEqual(['eval_loss', 'train_loss']);
  });

  test('a job running past budget.maxTrainingMinutes is cancelled and the run fails with that reason', async () => {
    const run = await withClock({ jobPhaseMs: 120_000 }, async () => {
      const started = await h.client.start({ budget: { maxTrainingMinutes: 1 } }, { options: QUICK }); // the smallest budget the schema allows
      await waitFor('the job to be followed', async () =>
        (await h.client.progress(started.runId)).currentStep === 'awaitPipeline' ? true : undefined,
      );
      return started;
    });
    const progress = await failureOf(h, run.runId);
    expect(progress.outcome).toBe('training-budget-exceeded');
    expect(progress.error).toMatch(/budget.maxTrainingMinutes/);
    const seen = await resourcesOf(run.names);
    expect(seen.jobs.map((j) => j.state)).toEqual(['Canceled']);
    expect(seen.endpoints).toEqual([]);
  });

  test('get() reports the Azure job status while the run waits on it', async () => {
    const run = await withClock({ jobPhaseMs: 60_000 }, async () => {
      const started = await h.client.start({}, { options: QUICK });
      await waitFor('the job status', async () => ((await h.client.get(started.runId)).jobStatus ? true : undefined));
      return started;
    });
    const seen = await h.client.get(run.runId);
    expect(['NotStarted', 'Queued', 'Preparing', 'Running']).toContain(seen.jobStatus);
    await h.client.cancel(run.runId);
    await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
  });

  test('a kept-alive endpoint serves until its lifetime ends; an update extends it or ends it now', async () => {
    const run = await h.client.start({ deployment: { keepAliveMinutes: 30 } }, { options: QUICK });
    const first = await waitFor(
      'the endpoint to be kept alive',
      async () => (await h.client.progress(run.runId)).endpointExpiresAt,
    );
    expect((await resourcesOf(run.names)).endpoints[0].deletedAt).toBeFalsy();

    const extended = await h.client.endpointLifetime(run.runId, { extendMinutes: 15 });
    expect(Date.parse(extended.expiresAt ?? '') - Date.parse(first)).toBe(15 * 60_000);
    await expect(h.client.endpointLifetime(run.runId, { extendMinutes: -1 })).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/extendMinutes > 0/) },
    });

    await expect(h.client.endpointLifetime(run.runId, { endNow: true })).resolves.toEqual({ expiresAt: null });
    const result = await h.client.handle(run.runId).result();
    expect(result.endpoint).toMatchObject({ existed: true, deleted: true });
    expect((await resourcesOf(run.names)).endpoints[0].deletedAt).toBeTruthy();
  });
});

describe('a worker killed while the run waits on the job', () => {
  let h: TestHarness;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    // The harness's own worker polls another queue; the run below goes to external worker processes.
    h = await startHarness();
  });
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await h?.stop();
  });

  function startWorker(taskQueue: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'worker.js')], {
      env: { ...process.env, ...FAST_TUNING, FTFLOW_TASK_QUEUE: taskQueue },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.push(child);
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('WORKER_READY')) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`worker exited ${code} before it was ready: ${out}`)));
    });
  }

  test('resumes following the same job after a restart: one job, one endpoint, endpoint deleted', async () => {
    const taskQueue = `killed-${Date.now()}`;
    const client = await FineTuneClient.connect({ client: h.temporal, taskQueue });
    const first = await startWorker(taskQueue);
    const run = await withClock({ jobPhaseMs: 2_000 }, async () => {
      const started = await client.start({}, { options: QUICK });
      await waitFor(
        'the job to be followed',
        async () => ((await client.get(started.runId)).jobStatus ? true : undefined),
        90_000,
      );
      return started;
    });
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await startWorker(taskQueue);
    const result = await client.result(run.runId);
    expect(result.job).toMatchObject({ name: run.names.jobName, status: 'Completed' });
    const seen = await resourcesOf(run.names);
    expect(seen.jobs).toHaveLength(1);
    expect(seen.endpoints).toHaveLength(1);
    expect(seen.endpoints[0].deletedAt).toBeTruthy();
    const jobPuts = (await emulator.requests()).filter(
      (r) => r.method === 'PUT' && r.path.includes(`/jobs/${run.names.jobName}`),
    );
    expect(jobPuts).toHaveLength(1);
  }, 180_000);
});
