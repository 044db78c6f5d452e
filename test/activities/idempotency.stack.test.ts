// docs/design.md, invariant 2 (pay once), activity by activity: each real activity, called directly against the
// local stack in the order of a run, is run twice; the second call adopts what the first created, and
// the emulator's request log proves nothing was created twice. Plus the classified failures that stop a
// run before money is spent (invariant 4). stageDataset is staged once here but tested elsewhere.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, createDeps } from '../../src/activities';
import type {
  CollectedMetrics,
  DeployedEndpoint,
  RegisteredModel,
  ResolvedModel,
  StagedDataset,
  SubmittedJob,
  ValidatedCompute,
} from '../../src/activities/types';
import { loadAzureConfig } from '../../src/azure/config';
import { deriveRunNames, fineTunedModelName } from '../../src/runSpec/names';
import { experimentNameFor, parseRunSpec } from '../../src/runSpec/schema';
import { sizedSpec } from '../../src/runSpec/sizePicking';
import { emulator, emulatorUrl, withClock } from '../helpers/localStack';

const env = { ...process.env, FTFLOW_JOB_POLL_SECONDS: '0.3', FTFLOW_LRO_POLL_MS: '200' };
const config = loadAzureConfig(env);
const deps = createDeps(config, env);
const activities = createActivities(deps);

/** Runs an activity as the worker would (an activity Context with heartbeats), with a fresh context per call. */
function run<P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> {
  return new MockActivityEnvironment({ heartbeatTimeoutMs: 3000 }).run(fn, ...args);
}

/** Requests the emulator answered with this method whose path ends with `suffix`. */
async function requestsTo(method: string, suffix: string): Promise<number> {
  const res = await fetch(
    `${emulatorUrl()}/_emulator/requests?method=${method}&pathContains=${encodeURIComponent(suffix)}`,
  );
  if (!res.ok) throw new Error(`emulator /_emulator/requests answered ${res.status}`);
  const body = (await res.json()) as { requests: { path: string }[] };
  return body.requests.filter((r) => r.path.endsWith(suffix)).length;
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('activities re-run against the emulator adopt what exists and create nothing twice', () => {
  const suffix = randomUUID().slice(0, 8);
  const names = deriveRunNames(`ft-idem-${suffix}`);
  // A cluster of its own, so its creation is this test's.
  // The sizes as the workflow passes them: settled (sizedSpec: the spec's, else the notebook's).
  const spec = sizedSpec(parseRunSpec({ compute: { name: `idem-${suffix}` } }));
  const experimentName = experimentNameFor(spec);
  const computePath = `/computes/${spec.compute.name}`;
  const jobPath = `/jobs/${names.jobName}`;
  const endpointPath = `/onlineEndpoints/${names.endpointName}`;
  const deploymentPath = `${endpointPath}/deployments/${spec.deployment.name}`;

  let model: ResolvedModel;
  let compute: ValidatedCompute;
  let data: StagedDataset;
  let job: SubmittedJob;
  let metrics: CollectedMetrics;
  let registered: RegisteredModel;
  let deployed: DeployedEndpoint;

  test('authenticate reads only: a re-run reports the same workspace and writes nothing', async () => {
    const before = (await emulator.requests()).length;
    const first = await run(activities.authenticate);
    const second = await run(activities.authenticate);
    expect(second).toEqual(first);
    expect(first.workspace).toBeTruthy();
    const writes = (await emulator.requests())
      .slice(before)
      .filter((r) => ['PUT', 'PATCH', 'DELETE'].includes(r.method));
    expect(writes).toEqual([]);
  });

  test('resolveModel reads only: a re-run resolves the same version with the same allow lists', async () => {
    model = await run(activities.resolveModel, spec.model);
    expect(await run(activities.resolveModel, spec.model)).toEqual(model);
    expect(model.name).toBe(spec.model.name);
    expect(model.finetuneComputeAllowList?.length).toBeGreaterThan(0);
  });

  test('resolveModel of an unknown model fails non-retryably, naming the model it could not find', async () => {
    const missing = `No-Such-Model-${suffix}`;
    const err = await failureOf(run(activities.resolveModel, { ...spec.model, name: missing }));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(missing);
    expect(err.message).toContain(spec.model.registry);
  });

  // Regression (found by this suite): the unknown-model error now names the field to fix.
  test('resolveModel of an unknown model names the field to fix: model.name', async () => {
    const err = await failureOf(run(activities.resolveModel, { ...spec.model, name: `No-Such-Model-${suffix}` }));
    expect(err.message).toContain('model.name');
  });

  test('validateCompute refuses a VM size outside the allow list non-retryably, naming compute.vmSize and the allowed sizes, before creating anything', async () => {
    const name = `idem-t4-${suffix}`;
    const err = await failureOf(
      run(activities.validateCompute, {
        compute: { ...spec.compute, name, vmSize: 'Standard_NC4as_T4_v3' },
        deployment: spec.deployment,
        model,
      }),
    );
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/compute\.vmSize Standard_NC4as_T4_v3 is not in the model's finetune allow list/);
    for (const size of model.finetuneComputeAllowList ?? []) expect(err.message).toContain(size);
    expect(await requestsTo('PUT', `/computes/${name}`)).toBe(0);
  });

  test('validateCompute creates the cluster once; a re-run adopts it (one PUT)', async () => {
    compute = await run(activities.validateCompute, { compute: spec.compute, deployment: spec.deployment, model });
    expect(compute).toMatchObject({ name: spec.compute.name, vmSize: spec.compute.vmSize, created: true });
    expect(compute.gpusPerNode).toBeGreaterThan(0);
    const again = await run(activities.validateCompute, { compute: spec.compute, deployment: spec.deployment, model });
    expect(again).toEqual({ ...compute, created: false });
    expect(await requestsTo('PUT', computePath)).toBe(1);
    const clusters = (await emulator.resources()).computes.filter((c) => c.name === spec.compute.name);
    expect(clusters).toHaveLength(1);
  });

  test('submitPipeline submits the job once; a re-run adopts it (adopted: true, one PUT to the job)', async () => {
    data = await run(activities.stageDataset, { dataset: spec.dataset });
    const input = { names, spec, experimentName, model, compute, data };
    job = await run(activities.submitPipeline, input);
    expect(job).toMatchObject({ jobName: names.jobName, adopted: false });
    const again = await run(activities.submitPipeline, input);
    expect(again).toEqual({ ...job, adopted: true });
    expect(await requestsTo('PUT', jobPath)).toBe(1);
    expect((await emulator.resources()).jobs.filter((j) => j.name === names.jobName)).toHaveLength(1);
  });

  test('awaitPipeline follows the same job to Completed twice and never resubmits it', async () => {
    const first = await run(activities.awaitPipeline, job.jobName);
    expect(first).toMatchObject({
      jobName: names.jobName,
      status: 'Completed',
      studioUrl: expect.stringMatching(/^https:/),
    });
    expect(await run(activities.awaitPipeline, job.jobName)).toMatchObject({
      jobName: first.jobName,
      status: first.status,
      studioUrl: first.studioUrl,
    });
    expect(await requestsTo('PUT', jobPath)).toBe(1);
  });

  test('collectMetrics reads the same metrics twice', async () => {
    metrics = await run(activities.collectMetrics, { jobName: job.jobName, experimentName });
    expect(typeof metrics.metrics.train_loss).toBe('number');
    expect(typeof metrics.metrics.eval_loss).toBe('number');
    expect(await run(activities.collectMetrics, { jobName: job.jobName, experimentName })).toEqual(metrics);
  });

  test('registerModel registers the next integer version once; a re-run adopts it (adopted: true, one PUT)', async () => {
    const input = {
      jobName: job.jobName,
      modelName: fineTunedModelName(model.name, spec.dataset.source),
      description: `idempotency test ${suffix}`,
      runId: names.runId,
    };
    const before = (await emulator.resources()).models.filter((m) => m.name === input.modelName);
    const highest = Math.max(0, ...before.map((m) => Number(m.version)).filter((v) => Number.isInteger(v) && v < 1e9));
    registered = await run(activities.registerModel, input);
    expect(registered).toMatchObject({ name: input.modelName, version: String(highest + 1), adopted: false });
    expect(registered.id).toBeTruthy();
    // A retry that heartbeated the version it was creating reads it there; one that did not finds it by its tag.
    const retried = new MockActivityEnvironment({
      heartbeatTimeoutMs: 3000,
      heartbeatDetails: { version: registered.version },
    });
    expect(await retried.run(activities.registerModel, input)).toEqual({ ...registered, adopted: true });
    expect(await run(activities.registerModel, input)).toEqual({ ...registered, adopted: true });
    expect(await requestsTo('PUT', `/models/${input.modelName}/versions/${registered.version}`)).toBe(1);
    const mine = (await emulator.resources()).models.filter((m) => m.jobName === job.jobName);
    expect(mine.map((m) => m.version)).toEqual([registered.version]);
  });

  test("registerModel leaves a version another run took to it: the next run's version is the next integer", async () => {
    const modelName = fineTunedModelName(model.name, spec.dataset.source);
    // Another registration (not from a job: a datastore path) takes the next number first.
    const taken = String(Number(registered.version) + 1);
    const other = await deps.arm.modelVersions.createOrUpdate(
      config.resourceGroup,
      config.workspace,
      modelName,
      taken,
      {
        properties: {
          modelUri: `azureml://datastores/workspaceblobstore/paths/other-${suffix}`,
          modelType: 'custom_model',
        },
      },
    );
    expect(other.name).toBe(taken);
    // This run's own version is still found by its tag and adopted, not registered again.
    const input = { jobName: job.jobName, modelName, description: `idempotency test ${suffix}`, runId: names.runId };
    expect(await run(activities.registerModel, input)).toEqual({ ...registered, adopted: true });
    // A version planned (heartbeated) but taken by someone else meanwhile is not adopted.
    const planned = new MockActivityEnvironment({ heartbeatTimeoutMs: 3000, heartbeatDetails: { version: taken } });
    expect(await planned.run(activities.registerModel, input)).toEqual({ ...registered, adopted: true });
  });

  test('deployEndpoint creates endpoint and deployment once; a re-run adopts them and sends no PUT', async () => {
    const input = {
      runId: names.runId,
      endpointName: names.endpointName,
      deployment: spec.deployment,
      modelId: registered.id,
      modelName: registered.name,
      inferenceComputeAllowList: model.inferenceComputeAllowList,
    };
    deployed = await run(activities.deployEndpoint, input);
    expect(deployed).toMatchObject({
      endpointName: names.endpointName,
      deploymentName: spec.deployment.name,
      adopted: false,
    });
    const endpointPuts = await requestsTo('PUT', endpointPath);
    const deploymentPuts = await requestsTo('PUT', deploymentPath);
    // Create, then route 100% traffic (the notebook's second PUT of the endpoint); one deployment.
    expect(endpointPuts).toBe(2);
    expect(deploymentPuts).toBe(1);

    expect(await run(activities.deployEndpoint, input)).toEqual({ ...deployed, adopted: true });
    expect(await requestsTo('PUT', endpointPath)).toBe(endpointPuts);
    expect(await requestsTo('PUT', deploymentPath)).toBe(deploymentPuts);
    const seen = await emulator.resources();
    expect(seen.endpoints.filter((e) => e.name === names.endpointName)).toHaveLength(1);
    expect(seen.deployments.filter((d) => d.endpoint === names.endpointName)).toHaveLength(1);
  });

  test('smokeScore gets the same reply twice and changes nothing', async () => {
    const input = {
      endpointName: deployed.endpointName,
      deploymentName: deployed.deploymentName,
      sampleBlobPath: data.scoring.blobPath,
      parameters: spec.scoring.parameters,
    };
    const first = await run(activities.smokeScore, input);
    expect(first.replyChars).toBeGreaterThan(0);
    const second = await run(activities.smokeScore, input);
    expect({ ...second, latencyMs: 0 }).toEqual({ ...first, latencyMs: 0 });
    expect(await requestsTo('PUT', endpointPath)).toBe(2);
  });

  test('deleteEndpoint deletes once and confirms; a re-run finds nothing (existed: false, no DELETE)', async () => {
    const first = await run(activities.deleteEndpoint, names.endpointName);
    expect(first).toMatchObject({ endpointName: names.endpointName, existed: true, deleted: true });
    // What the endpoint ran on, read before the deletion: what its cost is measured from.
    expect(first.billing).toMatchObject({
      deployments: [{ name: 'demo', instanceType: 'Standard_NC6s_v3', instances: 1 }],
      deletedAtSeen: 'when the deletion was seen complete',
    });
    const endpoints = (await emulator.resources()).endpoints.filter((e) => e.name === names.endpointName);
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0].deletedAt).toBeTruthy();
    const second = await run(activities.deleteEndpoint, names.endpointName);
    expect(second).toEqual({ endpointName: names.endpointName, existed: false, deleted: true });
    expect(await requestsTo('DELETE', endpointPath)).toBe(1);
  });

  test('cancelPipeline on a completed job leaves it as it is: no cancel POST, twice', async () => {
    expect(await run(activities.cancelPipeline, job.jobName)).toEqual({ jobName: names.jobName, status: 'Completed' });
    expect(await run(activities.cancelPipeline, job.jobName)).toEqual({ jobName: names.jobName, status: 'Completed' });
    expect(await requestsTo('POST', `${jobPath}/cancel`)).toBe(0);
    expect((await emulator.resources()).jobs.find((j) => j.name === names.jobName)?.state).toBe('Completed');
  });

  test('cancelPipeline of a job never submitted sends nothing (NotSubmitted)', async () => {
    const never = deriveRunNames(`ft-idem-never-${suffix}`);
    expect(await run(activities.cancelPipeline, never.jobName)).toEqual({
      jobName: never.jobName,
      status: 'NotSubmitted',
    });
    expect(await requestsTo('POST', `/jobs/${never.jobName}/cancel`)).toBe(0);
  });

  test('cancelPipeline of a running job cancels it once and waits for Canceled; a re-run sends no second cancel', async () => {
    const other = deriveRunNames(`ft-idem-running-${suffix}`);
    const submitted = await withClock({ jobPhaseMs: 120_000 }, () =>
      run(activities.submitPipeline, { names: other, spec, experimentName, model, compute, data }),
    );
    expect(submitted.adopted).toBe(false);
    expect(await run(activities.cancelPipeline, other.jobName)).toEqual({ jobName: other.jobName, status: 'Canceled' });
    expect((await emulator.resources()).jobs.find((j) => j.name === other.jobName)?.state).toBe('Canceled');
    expect(await run(activities.cancelPipeline, other.jobName)).toEqual({ jobName: other.jobName, status: 'Canceled' });
    expect(await requestsTo('POST', `/jobs/${other.jobName}/cancel`)).toBe(1);
  });
});
