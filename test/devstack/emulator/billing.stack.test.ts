// The billing meter on a stepped clock: every figure is computed here from the times this test
// observed (creation times in the PUT responses, the clock when deletions completed) and must
// equal what GET /_emulator/billing reports, per endpoint, deployment (× instances over time) and
// compute node (nodes held while a job runs; a min-0 cluster idles at zero).
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { admin, advance, armToken, call, pipelineJobBody, startTestEmulator, WS } from './helpers';

const CLOCK = {
  jobPhaseMs: 1000,
  jobPhases: { NotStarted: 1000, Queued: 2000, Preparing: 3000, Running: 10_000, Finalizing: 1000 },
  provisionMs: 1000,
  deleteMs: 2000,
  cancelMs: 1000,
};

interface Billing {
  endpoints: { name: string; createdAt: string; deletedAt: string | null; seconds: number }[];
  deployments: { name: string; capacity: number; seconds: number; instanceSeconds: number; deletedAt: string | null }[];
  computes: {
    name: string;
    nodeSeconds: number;
    nodes: { start: string; end: string; count: number }[];
    seconds: number;
  }[];
  totals: {
    endpointSeconds: number;
    deploymentSeconds: number;
    deploymentInstanceSeconds: number;
    computeNodeSeconds: number;
  };
}

let emulator: RunningEmulator;
let token: string;
const v = '?api-version=2022-10-01';

beforeAll(async () => {
  emulator = await startTestEmulator({ timeMode: 'stepped', clock: CLOCK });
  token = await armToken(emulator);
});

afterAll(async () => {
  await emulator?.close();
});

async function now(): Promise<number> {
  return (await admin<{ nowMs: number }>(emulator, 'clock')).nowMs;
}

async function put(path: string, body: unknown): Promise<{ status: number; createdAt: number; headers: Headers }> {
  const res = await call(emulator, `${WS}${path}${v}`, { method: 'PUT', token, body });
  expect(res.status).toBeLessThan(300);
  const created = (res.body as { systemData?: { createdAt?: string } }).systemData?.createdAt;
  return { status: res.status, createdAt: created ? Date.parse(created) : NaN, headers: res.headers };
}

async function nodesNow(compute: string): Promise<number> {
  const c = (await call(emulator, `${WS}/computes/${compute}${v}`, { token })).body as {
    properties: { properties: { currentNodeCount: number } };
  };
  return c.properties.properties.currentNodeCount;
}

const billing = (): Promise<Billing> => admin<Billing>(emulator, 'billing');

test('endpoint and deployment seconds (× instances) match the times observed', async () => {
  const endpoint = await put('/onlineEndpoints/ep-bill', { location: 'eastus', properties: { authMode: 'Key' } });
  await advance(emulator, 1000);
  await put('/models/m/versions/1', { properties: { modelUri: 'https://example.invalid/m' } });
  const deployment = await put('/onlineEndpoints/ep-bill/deployments/blue', {
    location: 'eastus',
    sku: { name: 'Default', capacity: 2 },
    properties: {
      endpointComputeType: 'Managed',
      model: `${WS}/models/m/versions/1`,
      instanceType: 'Standard_NC6s_v3',
    },
  });
  await advance(emulator, 5000);
  const scaledAt = await now();
  await put('/onlineEndpoints/ep-bill/deployments/blue', {
    location: 'eastus',
    sku: { name: 'Default', capacity: 3 },
    properties: {
      endpointComputeType: 'Managed',
      model: `${WS}/models/m/versions/1`,
      instanceType: 'Standard_NC6s_v3',
    },
  });
  await advance(emulator, 7000);
  const midway = await billing();
  const live = await now();
  expect(midway.endpoints[0]).toMatchObject({
    name: 'ep-bill',
    deletedAt: null,
    seconds: (live - endpoint.createdAt) / 1000,
  });

  const del = await call(emulator, `${WS}/onlineEndpoints/ep-bill${v}`, { method: 'DELETE', token });
  expect(del.status).toBe(202);
  const location = del.headers.get('location') ?? '';
  expect((await call(emulator, location, { token })).status).toBe(202);
  await advance(emulator, 1000);
  expect((await call(emulator, location, { token })).status).toBe(202);
  await advance(emulator, 1000);
  expect((await call(emulator, location, { token })).status).toBe(200);
  const deletedAt = await now(); // the moment the deletion was seen complete
  await advance(emulator, 60_000); // time after deletion costs nothing

  const b = await billing();
  const ep = b.endpoints.find((e) => e.name === 'ep-bill');
  expect(ep).toMatchObject({
    createdAt: new Date(endpoint.createdAt).toISOString(),
    deletedAt: new Date(deletedAt).toISOString(),
    seconds: (deletedAt - endpoint.createdAt) / 1000,
  });
  const blue = b.deployments.find((d) => d.name === 'blue');
  expect(blue).toMatchObject({
    capacity: 3,
    deletedAt: new Date(deletedAt).toISOString(),
    seconds: (deletedAt - deployment.createdAt) / 1000,
    instanceSeconds: (2 * (scaledAt - deployment.createdAt) + 3 * (deletedAt - scaledAt)) / 1000,
  });
  expect(b.totals.endpointSeconds).toBe(ep?.seconds);
  expect(b.totals.deploymentInstanceSeconds).toBe(blue?.instanceSeconds);
  // The resource listing agrees, with the PUT counts.
  const resources = await admin<{
    endpoints: { name: string; putCount: number; deletedAt: string }[];
    deployments: { name: string; putCount: number }[];
  }>(emulator, 'resources');
  expect(resources.endpoints.find((e) => e.name === 'ep-bill')).toMatchObject({
    putCount: 1,
    deletedAt: new Date(deletedAt).toISOString(),
  });
  expect(resources.deployments.find((d) => d.name === 'blue')).toMatchObject({ putCount: 2 });
});

test('compute nodes bill while a job runs on the cluster (min 0 idles at zero), cancel included', async () => {
  await put('/computes/gpu-bill', {
    location: 'eastus',
    properties: {
      computeType: 'AmlCompute',
      properties: { vmSize: 'Standard_NC24ads_A100_v4', scaleSettings: { maxNodeCount: 2, minNodeCount: 0 } },
    },
  });
  await advance(emulator, 1000);
  const idle = await billing();
  expect(idle.computes.find((c) => c.name === 'gpu-bill')).toMatchObject({ nodeSeconds: 0, nodes: [] });

  // Two nodes for the fine-tune step (num_nodes_finetune = 2), from Preparing until the job ends.
  const body = pipelineJobBody({
    compute: 'gpu-bill',
    train: 'x/train.jsonl',
    test: 'x/test.jsonl',
    extraInputs: { num_nodes_finetune: { job_input_type: 'literal', value: '2' } },
  });
  const job = await put('/jobs/job-bill', body);
  expect(job.status).toBe(201);
  const submitted = Date.parse(
    ((await call(emulator, `${WS}/jobs/job-bill${v}`, { token })).body as { systemData: { createdAt: string } })
      .systemData.createdAt,
  );
  await advance(emulator, 2500); // Queued
  expect(await nodesNow('gpu-bill')).toBe(0);
  await advance(emulator, 1000); // Preparing
  expect(await nodesNow('gpu-bill')).toBe(2);
  await advance(emulator, 20_000); // Completed long ago
  expect(await nodesNow('gpu-bill')).toBe(0);
  const preparingStart = submitted + 3000;
  const completed = submitted + 17_000;
  let b = await billing();
  expect(b.computes.find((c) => c.name === 'gpu-bill')).toMatchObject({
    nodeSeconds: (2 * (completed - preparingStart)) / 1000,
    nodes: [{ start: new Date(preparingStart).toISOString(), end: new Date(completed).toISOString(), count: 2 }],
  });

  // A cancelled job releases its nodes when the cancellation completes.
  await put('/jobs/job-bill-cancel', body);
  const second = await now();
  await advance(emulator, 8000); // Running
  const cancel = await call(emulator, `${WS}/jobs/job-bill-cancel/cancel${v}`, { method: 'POST', token });
  expect(cancel.status).toBe(202);
  const cancelledAt = await now();
  await advance(emulator, 1000);
  expect(await nodesNow('gpu-bill')).toBe(0);
  b = await billing();
  expect(b.computes.find((c) => c.name === 'gpu-bill')?.nodeSeconds).toBe(
    (2 * (completed - preparingStart) + 2 * (cancelledAt + 1000 - (second + 3000))) / 1000,
  );
  expect(b.totals.computeNodeSeconds).toBe(b.computes.reduce((s, c) => s + c.nodeSeconds, 0));
});

test("a job holds nodes on the clusters its pipeline's steps run on, as many as each step asks for", async () => {
  const cluster = (vmSize: string) => ({
    location: 'eastus',
    properties: { computeType: 'AmlCompute', properties: { vmSize, scaleSettings: { maxNodeCount: 4 } } },
  });
  await put('/computes/steps-cpu', cluster('Standard_DS3_v2'));
  await put('/computes/steps-gpu', cluster('Standard_NC24ads_A100_v4'));
  await put('/computes/steps-eval', cluster('Standard_DS3_v2'));
  await advance(emulator, 1000);
  const lit = (value: string) => ({ job_input_type: 'literal', value });
  // Each step's `compute` binding names the cluster; the fine-tune step's resources.instance_count
  // (num_nodes_finetune) is the node count it asks for. compute_model_evaluation binds no step of
  // 0.0.82 (its evaluation steps are commented out), but two of 0.0.78.
  const body = (componentVersion: string) =>
    pipelineJobBody({
      compute: 'steps-cpu',
      train: 'x/train.jsonl',
      test: 'x/test.jsonl',
      componentVersion,
      extraInputs: {
        compute_finetune: lit('steps-gpu'),
        compute_model_evaluation: lit('steps-eval'),
        num_nodes_finetune: lit('3'),
      },
    });
  await put('/jobs/job-steps-82', body('0.0.82'));
  await advance(emulator, 3500); // Preparing
  expect([await nodesNow('steps-cpu'), await nodesNow('steps-gpu'), await nodesNow('steps-eval')]).toEqual([1, 3, 0]);
  await advance(emulator, 20_000); // Completed
  await put('/jobs/job-steps-78', body('0.0.78'));
  await advance(emulator, 3500);
  expect([await nodesNow('steps-cpu'), await nodesNow('steps-gpu'), await nodesNow('steps-eval')]).toEqual([1, 3, 1]);
  await advance(emulator, 20_000);
});

test('a cluster with a minimum of one node bills that node from creation to deletion', async () => {
  const created = await put('/computes/cpu-min1', {
    location: 'eastus',
    properties: {
      computeType: 'AmlCompute',
      properties: { vmSize: 'Standard_DS3_v2', scaleSettings: { maxNodeCount: 1, minNodeCount: 1 } },
    },
  });
  await advance(emulator, 10_000);
  const del = await call(emulator, `${WS}/computes/cpu-min1${v}&underlyingResourceAction=Delete`, {
    method: 'DELETE',
    token,
  });
  expect(del.status).toBe(202);
  await advance(emulator, 2000);
  const gone = await now();
  await advance(emulator, 5000);
  const c = (await billing()).computes.find((x) => x.name === 'cpu-min1');
  expect(c).toMatchObject({
    nodeSeconds: (gone - created.createdAt) / 1000,
    seconds: (gone - created.createdAt) / 1000,
  });
});
