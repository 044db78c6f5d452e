// Faults on demand through POST /_emulator/faults: status codes with and without Retry-After,
// connection resets, delays, failed provisioning, a job failing at a chosen phase, quota errors;
// count-limited or probabilistic with a seed; listed with hit counts; cleared.
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { AzureRestClient } from '../../../src/azure/rest';
import { LOCAL_AZURE } from '../../../src/config/local';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import {
  admin,
  armClient,
  armToken,
  call,
  credentialFor,
  jobEnded,
  jobWalk,
  pipelineJobBody,
  sleep,
  startTestEmulator,
  WS,
} from './helpers';

const { resourceGroup: RG, workspace: WSNAME, location: LOCATION } = LOCAL_AZURE;
const WS_URL = `${WS}?api-version=2022-10-01`;
const LRO = { updateIntervalInMs: 10 };
let emulator: RunningEmulator;
let client: AzureMachineLearningWorkspaces;
let token: string;

interface Rule {
  id: string;
  hits: number;
  matched: number;
  remaining?: number;
}

const addFault = async (rule: unknown): Promise<Rule> =>
  (await admin<{ rules: Rule[] }>(emulator, 'faults', { method: 'POST', body: rule })).rules[0] as Rule;
const listFaults = async (): Promise<Rule[]> => (await admin<{ rules: Rule[] }>(emulator, 'faults')).rules;

beforeAll(async () => {
  emulator = await startTestEmulator({ clock: { jobPhaseMs: 120, provisionMs: 30, deleteMs: 30, cancelMs: 30 } });
  client = armClient(emulator);
  token = await armToken(emulator);
  await client.computeOperations.beginCreateOrUpdateAndWait(
    RG,
    WSNAME,
    'gpu',
    {
      location: LOCATION,
      properties: {
        computeType: 'AmlCompute',
        properties: { vmSize: 'Standard_NC24ads_A100_v4', scaleSettings: { maxNodeCount: 1 } },
      },
    },
    LRO,
  );
  await client.modelVersions.createOrUpdate(RG, WSNAME, 'm', '1', {
    properties: { modelUri: 'https://example.invalid/model', modelType: 'mlflow_model' },
  });
  await client.onlineEndpoints.beginCreateOrUpdateAndWait(
    RG,
    WSNAME,
    'ep-faults',
    { location: LOCATION, properties: { authMode: 'Key' } },
    LRO,
  );
});

afterEach(async () => {
  await admin(emulator, 'faults', { method: 'DELETE' });
});

afterAll(async () => {
  await emulator?.close();
});

const deployment = {
  location: LOCATION,
  sku: { name: 'Default', capacity: 1 },
  properties: {
    endpointComputeType: 'Managed' as const,
    model: `${WS}/models/m/versions/1`,
    instanceType: 'Standard_NC6s_v3',
  },
};

test('a status code with Retry-After: the SDK retries through it; the rule counts its hits', async () => {
  const rule = await addFault({
    method: 'GET',
    path: '*/workspaces/*',
    action: { type: 'status', status: 503, retryAfter: 0 },
    count: 2,
  });
  const ws = await client.workspaces.get(RG, WSNAME);
  expect(ws.name).toBe(WSNAME);
  expect((await listFaults()).find((r) => r.id === rule.id)).toMatchObject({ hits: 2, remaining: 0 });
  const again = await call(emulator, WS_URL, { token });
  expect(again.status).toBe(200);
});

test('a 429 without Retry-After is not retried by the SDK; the raw answer is ARM-shaped', async () => {
  await addFault({
    method: 'GET',
    path: '/subscriptions/*/workspaces/' + WSNAME,
    action: { type: 'status', status: 429, code: 'TooManyRequests' },
    count: 1,
  });
  await expect(client.workspaces.get(RG, WSNAME)).rejects.toMatchObject({ statusCode: 429, code: 'TooManyRequests' });
  await addFault({
    path: '/subscriptions/*/workspaces/' + WSNAME,
    action: { type: 'status', status: 500, message: 'boom', retryAfterMs: 5 },
    count: 1,
  });
  const res = await call(emulator, WS_URL, { token });
  expect(res).toMatchObject({ status: 500, body: { error: { code: 'InternalServerError', message: 'boom' } } });
  expect(res.headers.get('retry-after-ms')).toBe('5');
});

test('a connection reset: raw fetch fails, the product REST client retries and succeeds', async () => {
  await addFault({ method: 'GET', path: `*/workspaces/${WSNAME}`, action: { type: 'reset' }, count: 1 });
  await expect(fetch(`${emulator.url}${WS_URL}`, { headers: { authorization: `Bearer ${token}` } })).rejects.toThrow();
  await addFault({ method: 'GET', path: `*/workspaces/${WSNAME}`, action: { type: 'reset' }, count: 1 });
  const rest = new AzureRestClient(credentialFor(emulator));
  const ws = await rest.get<{ name: string }>(`${emulator.url}${WS_URL}`);
  expect(ws.name).toBe(WSNAME);
  expect((await listFaults())[0]).toMatchObject({ hits: 1 });
});

test('a plain path ending in lowercase letters is a path, not a /regex/ with flags', async () => {
  // `/.../datastores` once read as the regex `.../` with flags 'datastores', and the rule was refused.
  await addFault({ method: 'GET', path: `${WS}/datastores`, action: { type: 'status', status: 503 }, count: 1 });
  const res = await fetch(`${emulator.url}${WS}/datastores?api-version=2024-10-01`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(503);
  expect((await listFaults())[0]).toMatchObject({ hits: 1 });
});

test('a delay slows the matching requests only', async () => {
  const rule = await addFault({ method: 'GET', path: '/^.*\\/datastores$/', action: { type: 'delay', ms: 300 } });
  const started = Date.now();
  await call(emulator, `${WS}/datastores?api-version=2022-10-01`, { token });
  expect(Date.now() - started).toBeGreaterThanOrEqual(290); // a lower bound: a loaded machine only adds to it
  await call(emulator, WS_URL, { token });
  // The emulator's records, not the wall clock, tell the other request was not held: the rule met (and
  // held) the datastores request only, and the emulator took the delay's time over that one.
  expect((await listFaults()).find((r) => r.id === rule.id)).toMatchObject({ matched: 1, hits: 1 });
  const log = (await admin<{ requests: { path: string; durationMs: number }[] }>(emulator, 'requests?method=GET'))
    .requests;
  expect(log.filter((r) => r.path.endsWith('/datastores')).at(-1)?.durationMs).toBeGreaterThanOrEqual(290);
});

test('removing a delay rule lets the requests it holds go on at once', async () => {
  const rule = await addFault({ method: 'GET', path: '/^.*\\/datastores$/', action: { type: 'delay', ms: 60_000 } });
  const started = Date.now();
  const held = call(emulator, `${WS}/datastores?api-version=2022-10-01`, { token });
  while ((await listFaults()).find((r) => r.id === rule.id)?.hits !== 1) await sleep(20);
  await admin(emulator, `faults/${rule.id}`, { method: 'DELETE' });
  await held;
  expect(Date.now() - started).toBeLessThan(10_000);
  // Clearing every rule releases too.
  await addFault({ method: 'GET', path: '/^.*\\/datastores$/', action: { type: 'delay', ms: 60_000 } });
  const again = Date.now();
  const heldAgain = call(emulator, `${WS}/datastores?api-version=2022-10-01`, { token });
  while ((await listFaults())[0]?.hits !== 1) await sleep(20);
  await admin(emulator, 'faults', { method: 'DELETE' });
  await heldAgain;
  expect(Date.now() - again).toBeLessThan(10_000);
});

test('failed provisioning of the next deployment, then a quota error on the one after', async () => {
  const rule = await addFault({
    action: { type: 'failProvisioning', code: 'ResourceNotReady', message: 'Container crashed' },
    path: '*/deployments/*',
    count: 1,
  });
  await expect(
    client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WSNAME, 'ep-faults', 'blue', deployment, LRO),
  ).rejects.toThrow(/The long-running operation has failed\. ResourceNotReady\. Container crashed/);
  expect((await client.onlineDeployments.get(RG, WSNAME, 'ep-faults', 'blue')).properties.provisioningState).toBe(
    'Failed',
  );
  expect((await listFaults()).find((r) => r.id === rule.id)).toMatchObject({ hits: 1 });
  await addFault({ action: { type: 'quota' }, count: 1 });
  await expect(
    client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WSNAME, 'ep-faults', 'green', deployment, LRO),
  ).rejects.toThrow(/OutOfQuota/);
  // Rules spent, the next one provisions; a re-PUT of the failed deployment recovers it.
  const ok = await client.onlineDeployments.beginCreateOrUpdateAndWait(
    RG,
    WSNAME,
    'ep-faults',
    'blue',
    deployment,
    LRO,
  );
  expect(ok.properties.provisioningState).toBe('Succeeded');
  const resources = await admin<{ deployments: { name: string; state: string; error: unknown; putCount: number }[] }>(
    emulator,
    'resources',
  );
  expect(resources.deployments.find((d) => d.name === 'green')).toMatchObject({
    state: 'Failed',
    error: { code: 'OutOfQuota' },
    putCount: 1,
  });
  expect(resources.deployments.find((d) => d.name === 'blue')).toMatchObject({ state: 'Succeeded', putCount: 2 });
});

test('a job failing at a chosen phase: it walks there, then Failed with the fault error; MLflow stops there', async () => {
  await addFault({
    action: {
      type: 'failJob',
      phase: 'Running',
      fraction: 0.5,
      code: 'ExecutionFailed',
      message: 'CUDA out of memory',
    },
    count: 1,
  });
  const put = await call(emulator, `${WS}/jobs/job-fault?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: pipelineJobBody({ compute: 'gpu', train: 'x/train.jsonl', test: 'x/test.jsonl' }),
  });
  expect(put.status).toBe(201);
  expect((await listFaults())[0]).toMatchObject({ hits: 1 });
  // The emulator's record of the job, once it ended: every status it had, with its emulator time. A
  // 120 ms phase can pass between two polls on a loaded machine; the record keeps it.
  const job = await jobEnded(emulator, 'job-fault');
  expect(jobWalk(job)).toEqual([
    ['NotStarted', 0],
    ['Queued', 120],
    ['Preparing', 240],
    ['Running', 360],
    ['Failed', 420], // half-way through Running, as the rule says; never Finalizing
  ]);
  const failed = await client.jobs.get(RG, WSNAME, 'job-fault');
  expect(failed.properties.status).toBe('Failed');
  expect(failed.properties.properties).toMatchObject({
    'azureml.error.code': 'ExecutionFailed',
    'azureml.error.message': 'CUDA out of memory',
  });
  const runs = (
    await call(emulator, `/mlflow/v1.0${WS}/api/2.0/mlflow/runs/search`, {
      method: 'POST',
      token,
      body: { filter: "tags.mlflow.rootRunId='job-fault'" },
    })
  ).body as { runs: { info: { status: string }; data: { metrics: { key: string }[] } }[] };
  expect(runs.runs.map((r) => r.info.status)).toEqual(['FAILED', 'FAILED']);
  expect(runs.runs.flatMap((r) => r.data.metrics.map((m) => m.key))).not.toContain('train_loss');
});

test('probabilistic rules are reproducible for a seed', async () => {
  const pattern = async (): Promise<number[]> => {
    await admin(emulator, 'faults', { method: 'DELETE' });
    await addFault({
      method: 'GET',
      path: '*/datastores',
      action: { type: 'status', status: 503 },
      probability: 0.5,
      seed: 42,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      statuses.push((await call(emulator, `${WS}/datastores?api-version=2022-10-01`, { token })).status);
    return statuses;
  };
  const first = await pattern();
  const second = await pattern();
  expect(second).toEqual(first);
  const failures = first.filter((s) => s === 503).length;
  expect(failures).toBeGreaterThan(3);
  expect(failures).toBeLessThan(17);
  expect((await listFaults())[0]).toMatchObject({ matched: 20, hits: failures });
});

test('rules are validated, listed, deleted one by one or all at once', async () => {
  const res = await call(emulator, '/_emulator/faults', { method: 'POST', body: { action: { type: 'explode' } } });
  expect(res).toMatchObject({ status: 400, body: { error: { code: 'InvalidFaultRule' } } });
  expect(
    (
      await call(emulator, '/_emulator/faults', {
        method: 'POST',
        body: { action: { type: 'failJob', phase: 'Sleeping' } },
      })
    ).status,
  ).toBe(400);
  const created = (
    await admin<{ rules: Rule[] }>(emulator, 'faults', {
      method: 'POST',
      body: { rules: [{ action: { type: 'reset' }, path: '/nowhere' }, { action: { type: 'delay', ms: 1 } }] },
    })
  ).rules;
  expect(created).toHaveLength(2);
  await admin(emulator, `faults/${created[0]?.id ?? ''}`, { method: 'DELETE' });
  expect((await listFaults()).map((r) => r.id)).toEqual([created[1]?.id]);
  expect(await admin(emulator, 'faults', { method: 'DELETE' })).toEqual({ removed: 1 });
  // Admin routes are never faulted.
  await addFault({ action: { type: 'status', status: 503 } });
  expect((await call(emulator, '/_emulator/health')).status).toBe(200);
  expect((await call(emulator, WS_URL, { token })).status).toBe(503);
});
