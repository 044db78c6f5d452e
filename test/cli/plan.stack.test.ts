// A dry run (issue 18) from the client, the CLI and the HTTP API, against the local stack: the plan names what
// the run then uses (the same derived names, blob paths, merged parameters and display name: one code path),
// shows the slices' rows and bytes and the cost estimate the run makes itself, and nothing is created,
// uploaded or submitted while it is made. `ftflow start` plans first: a spec the run would refuse exits
// non-zero with the run's own message and starts nothing; --no-plan starts it as before.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { ApiKeyStore, hashKey } from '../../src/api/keys';
import { buildApi } from '../../src/api/server';
import { createDeps } from '../../src/activities';
import { loadAzureConfig } from '../../src/azure/config';
import { deriveRunNames, fineTunedModelName } from '../../src/runSpec/names';
import type { FineTunePlan } from '../../src/workflows/definitions';
import { ftflow } from '../helpers/frontEnds';
import { emulator, startHarness, type EmulatorRequest, type TestHarness } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 5 };
const MUTATING = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);
const KEY = 'ftflow_plan-test-key';

let h: TestHarness;
let app: FastifyInstance;
let base: string;
const stamp = Date.now();

async function mutationsSince(since: string): Promise<string[]> {
  const all = (await emulator.requests()) as (EmulatorRequest & { time: string })[];
  return all
    .filter((r) => r.time >= since && MUTATING.has(r.method) && !r.path.includes('/oauth2/'))
    .map((r) => `${r.method} ${r.path}`);
}

async function blobs(): Promise<string[]> {
  const ds = await createDeps(loadAzureConfig(process.env), process.env).datastore();
  const out: string[] = [];
  for await (const b of ds.container.listBlobsFlat()) out.push(`${b.name} ${b.properties.etag ?? ''}`);
  return out.sort();
}

async function api(path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

beforeAll(async () => {
  h = await startHarness();
  const keys = ApiKeyStore.fromKeys([
    { id: 'plan', hash: hashKey(KEY), scopes: ['fine-tunes:read', 'fine-tunes:write'], revoked: false },
  ]);
  app = await buildApi({ client: h.client, keys });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await h?.stop();
});

test('the plan names what the run then uses, and makes the estimate the run makes; planning writes nothing', async () => {
  const key = `plan-${stamp}`;
  const spec = { compute: { name: `plan-cluster-${stamp}` }, training: { num_train_epochs: 1 } };
  const before = await blobs();
  const since = new Date().toISOString();
  const t0 = Date.now();
  const plan = await h.client.plan(spec, { idempotencyKey: key, options: QUICK });
  const seconds = (Date.now() - t0) / 1000;
  expect(await mutationsSince(since)).toEqual([]);
  expect(await blobs()).toEqual(before);

  const names = deriveRunNames(`ft-${key}`);
  expect(plan).toMatchObject({
    object: 'fine_tune_plan',
    runId: `ft-${key}`,
    namesFixed: true,
    names: {
      jobName: names.jobName,
      endpointName: names.endpointName,
      modelVersion: 'next',
      registeredModel: fineTunedModelName('Phi-3-mini-4k-instruct', 'HuggingFaceH4/ultrachat_200k'),
      computeName: `plan-cluster-${stamp}`,
    },
    compute: { name: `plan-cluster-${stamp}`, vmSize: 'Standard_NC24ads_A100_v4', wouldCreate: true, created: false },
    job: { parameters: { num_train_epochs: '1' } },
  });
  for (const role of ['train', 'test', 'scoring'] as const) {
    expect(plan.data[role].rows).toBeGreaterThan(0);
    expect(plan.data[role].bytes).toBeGreaterThan(0);
    // Read whole by the dry run, or staged already by an earlier run of the same slice (then reused, as the run will).
    expect(plan.data[role].reused || plan.data[role].preview?.complete).toBe(true);
  }
  expect(plan.cost.totalUsd).toEqual(expect.any(Number));
  expect(plan.cost.assumptions.length).toBeGreaterThan(3);

  // The run itself: the same names, blob paths, parameters, display name and estimate.
  const run = await h.client.start(spec, { idempotencyKey: key, options: QUICK });
  await h.client.result(run.runId);
  // The workflow's own result: the job's parameters and each split's blob path, as the plan named them.
  const result = await h.client.handle(run.runId).result();
  expect(result.job.jobName).toBe(plan.names.jobName);
  expect(result.job.displayName).toBe(plan.job.displayName);
  expect(result.job.parameters).toEqual(plan.job.parameters);
  expect(result.endpoint.endpointName).toBe(plan.names.endpointName);
  expect(result.registeredModel.name).toBe(plan.names.registeredModel);
  expect(result.registeredModel.version).toMatch(/^\d+$/);
  expect([result.data.train.blobPath, result.data.test.blobPath, result.data.scoring.blobPath]).toEqual([
    plan.names.blobs.train,
    plan.names.blobs.test,
    plan.names.blobs.scoring,
  ]);
  expect([result.data.train.rows, result.data.train.bytes]).toEqual([plan.data.train.rows, plan.data.train.bytes]);
  expect(result.compute).toMatchObject({ name: plan.compute.name, created: true });
  expect(result.cost?.estimate).toEqual(plan.cost);
  console.log(`dry run of the seed's spec: ${seconds.toFixed(1)} s; estimate $${plan.cost.totalUsd?.toFixed(2)}`);
});

test('ftflow start --dry-run prints the plan; a refused spec exits 2 with the message the run fails with', async () => {
  const printed = await ftflow(['start', '--dry-run', '--percent', '5'], h.taskQueue);
  expect(printed.code).toBe(0);
  expect(printed.stdout).toMatch(/^plan for ft-[\w-]+ \(an example id/m);
  expect(printed.stdout).toMatch(
    /^cost estimate +\$\d+\.\d\d \(training \$\d+\.\d\d: 1 × Standard_NC24ads_A100_v4 for/m,
  );
  expect(printed.stdout).toMatch(/^nothing was created, uploaded or submitted$/m);
  const asJson = await ftflow(['start', '--dry-run', '--json'], h.taskQueue);
  expect((JSON.parse(asJson.stdout) as FineTunePlan).object).toBe('fine_tune_plan');

  // The same spec, really run (--no-plan): the plan's refusal is its failure, word for word.
  const key = `plan-refused-${stamp}`;
  const refused = await ftflow(['start', '--model', 'gpt-4o-mini', '--idempotency-key', key], h.taskQueue);
  expect(refused.code).toBe(2);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(/^ftflow: the run would be refused at resolveModel \(AzureValidation\): /);
  expect(refused.stderr).toMatch(/model gpt-4o-mini does not exist in registry azureml/);
  await expect(h.temporal.workflow.getHandle(`ft-${key}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

  const started = await ftflow(['start', '--model', 'gpt-4o-mini', '--idempotency-key', key, '--no-plan'], h.taskQueue);
  expect(started.code).toBe(0);
  expect(started.stdout).toMatch(new RegExp(`^ft-${key}  started$`, 'm'));
  const failed = await h.client.result(`ft-${key}`).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  const record = await h.client.get(`ft-${key}`);
  expect(record.status).toBe('failed');
  expect(refused.stderr).toContain(record.error);
  expect(failed).toBeDefined();
});

test('POST /v1/fine-tunes?dryRun=true: 200 with the plan, 422 with the refusal; nothing starts', async () => {
  const ok = await api('/v1/fine-tunes?dryRun=true', { training: { num_train_epochs: 1 } });
  expect(ok.status).toBe(200);
  expect(ok.body).toMatchObject({ object: 'fine_tune_plan', namesFixed: false, cost: { prices: { currency: 'USD' } } });
  const refused = await api('/v1/fine-tunes?dryRun=true', { training: { learning_rat: 0.1 } });
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({
    type: 'run_refused_error',
    step: 'resolveModel',
    code: 'AzureValidation',
    kind: 'validation',
    message: expect.stringMatching(/training\.learning_rat is not an input of the pipeline component/),
  });
  const invalid = await api('/v1/fine-tunes?dryRun=true', { budget: { maxCost: -1 } });
  expect(invalid.status).toBe(400);
  expect(invalid.body.error.fields).toEqual([
    { field: 'budget.maxCost', message: 'budget.maxCost must be greater than 0 (US dollars)' },
  ]);
  const overBudget = await api('/v1/fine-tunes?dryRun=true', { budget: { maxCost: 0.01 } });
  expect(overBudget.status).toBe(422);
  expect(overBudget.body.error).toMatchObject({
    code: 'CostBudgetExceeded',
    message: expect.stringMatching(/^estimated cost \$/),
  });
});
