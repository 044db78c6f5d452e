// Walks every route of the flow, in every api-version the emulator accepts (the stable ones for every
// resource type; each preview one for the resource types it is registered for, the rest of the walk in
// 2024-04-01), with a valid and an invalid request each, and validates every response against the
// swagger operation it belongs to in that api-version (its own swagger, or the nearest stable one's:
// contract/apiVersionTable.ts), with a Contract of its own, independent of the emulator's self-check.
// At the end every operation of every row of the api-version table has been answered validly, and the
// emulator recorded no contract violation of its own.
import { LOCAL_AZURE } from '../../../src/config/local';
import { Contract, resourceTypeOf } from '../../../devstack/emulator/contract';
import { registersType } from '../../../devstack/emulator/contract/apiVersions';
import { CONTRACT_DATA } from '../../../devstack/emulator/contract/data';
import { EXTRA_OPERATIONS } from '../../../devstack/emulator/contract/extra';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { admin, advance, armToken, call, pipelineJobBody, startTestEmulator, WS } from './helpers';

const contract = new Contract();
const covered = new Set<string>();
const CLOCK = { jobPhaseMs: 1000, provisionMs: 1000, deleteMs: 1000, cancelMs: 1000 };
const REGISTRY_ARM = `/subscriptions/${LOCAL_AZURE.registrySubscriptionId}/resourceGroups/${LOCAL_AZURE.registryResourceGroup}/providers/Microsoft.MachineLearningServices/registries/azureml`;
const LONG_RG = 'r'.repeat(91);

let emulator: RunningEmulator;
let token: string;

beforeAll(async () => {
  emulator = await startTestEmulator({ timeMode: 'stepped', clock: CLOCK });
  token = await armToken(emulator);
});

afterAll(async () => {
  await emulator?.close();
});

type Res = Awaited<ReturnType<typeof call>>;

function headersOf(res: Res): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    out[k.toLowerCase()] = v;
  });
  return out;
}

/** Sends a request and checks the response against the operation it addresses. */
async function send(
  method: string,
  path: string,
  body?: unknown,
  withToken = true,
): Promise<Res & { operationId: string }> {
  const url = new URL(path.startsWith('https://') ? path : `${emulator.url}${path}`);
  const res = await call(emulator, url.toString(), {
    method,
    ...(withToken ? { token } : {}),
    ...(body !== undefined ? { body } : {}),
  });
  const apiVersion = url.searchParams.get('api-version') ?? '';
  const m = contract.match(method, url.pathname, apiVersion);
  if (!m) throw new Error(`no contract operation for ${method} ${url.pathname} (${apiVersion})`);
  const issues = contract.validateResponse(m, res.status, headersOf(res), res.body);
  if (issues.length > 0)
    throw new Error(`${method} ${url.pathname} → ${res.status}: ${JSON.stringify(issues)} ${JSON.stringify(res.body)}`);
  return { ...res, operationId: m.operation.operationId };
}

/** A valid request: 2xx, and its operation counts as walked. */
async function ok(method: string, path: string, body?: unknown, status?: number): Promise<Res> {
  const res = await send(method, path, body);
  if (res.status >= 300 || (status !== undefined && res.status !== status))
    throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  const version = new URL(`${emulator.url}${path.replace(emulator.url, '')}`).searchParams.get('api-version') ?? '';
  covered.add(`${version} ${res.operationId}`);
  return res;
}

/** An invalid request: the given error status and code, in ARM's envelope (checked against `default`). */
async function rejected(
  method: string,
  path: string,
  expected: { status: number; code: string; target?: string },
  body?: unknown,
  withToken = true,
): Promise<Res> {
  const res = await send(method, path, body, withToken);
  expect({ path, status: res.status, body: res.body }).toMatchObject({
    status: expected.status,
    body: { error: { code: expected.code, ...(expected.target ? { target: expected.target } : {}) } },
  });
  return res;
}

const q = (version: string, extra = ''): string => `?api-version=${version}${extra}`;
const bad = (_version: string) => ({ status: 400, code: 'BadRequest' });
/** The same URL in another api-version (operation status URLs answer in every ARM api-version). */
const inVersion = (url: string, version: string): string => url.replace(/api-version=[^&]+/, `api-version=${version}`);

/** The api-version to walk each resource type in: `own` where it is registered, else 2024-04-01. */
function versionsOf(own: string): (type: string) => string {
  const row = CONTRACT_DATA.apiVersions.find((r) => r.version === own && r.surface === 'arm');
  if (!row) throw new Error(`${own} is not an ARM api-version of the table`);
  return (type) => (row.resourceTypes.includes(type) ? own : '2024-04-01');
}

async function walkWorkspace(own: string, n: string): Promise<void> {
  const versionOf = versionsOf(own);
  const badWs = WS.replace(`/resourceGroups/${LOCAL_AZURE.resourceGroup}/`, `/resourceGroups/${LONG_RG}/`);
  let v = versionOf('workspaces');
  await ok('GET', `${WS}${q(v)}`);
  await rejected('GET', `${badWs}${q(v)}`, { ...bad(v), target: 'resourceGroupName' });
  await rejected('GET', `${WS}${q(v)}`, { status: 401, code: 'InvalidAuthenticationToken' }, undefined, false);

  v = versionOf('workspaces/datastores');
  await ok('GET', `${WS}/datastores${q(v, '&isDefault=true&count=5')}`);
  await rejected('GET', `${WS}/datastores${q(v, '&count=five')}`, { ...bad(v), target: 'count' });
  await ok('GET', `${WS}/datastores/workspaceblobstore${q(v)}`);
  await rejected('GET', `${badWs}/datastores/workspaceblobstore${q(v)}`, bad(v));
  const secrets = await ok('POST', `${WS}/datastores/workspaceblobstore/listSecrets${q(v)}`);
  expect(secrets.body).toMatchObject({ secretsType: 'AccountKey' });
  await rejected('POST', `${badWs}/datastores/workspaceblobstore/listSecrets${q(v)}`, bad(v));

  const loc = `/subscriptions/${LOCAL_AZURE.subscriptionId}/providers/Microsoft.MachineLearningServices/locations`;
  v = versionOf('locations/vmSizes');
  await ok('GET', `${loc}/${LOCAL_AZURE.location}/vmSizes${q(v)}`);
  await rejected('GET', `${loc}/east%20us!/vmSizes${q(v)}`, { ...bad(v), target: 'location' });
  v = versionOf('locations/usages');
  await ok('GET', `${loc}/${LOCAL_AZURE.location}/usages${q(v)}`);
  await rejected('GET', `${loc}/east%20us!/usages${q(v)}`, { ...bad(v), target: 'location' });

  // Computes: create (LRO), status, get, list, update, delete (LRO).
  const computeBody = {
    location: LOCAL_AZURE.location,
    properties: {
      computeType: 'AmlCompute',
      properties: {
        vmSize: 'Standard_NC24ads_A100_v4',
        scaleSettings: { maxNodeCount: 1, minNodeCount: 0, nodeIdleTimeBeforeScaleDown: 'PT120S' },
      },
    },
  };
  v = versionOf('workspaces/computes');
  const created = await ok('PUT', `${WS}/computes/gpu-${n}${q(v)}`, computeBody, 201);
  const status = created.headers.get('azure-asyncoperation') ?? '';
  expect(status).toContain(`api-version=${v}`);
  expect((await ok('GET', status)).body).toMatchObject({ status: 'InProgress' });
  expect((await ok('GET', inVersion(status, own))).body).toMatchObject({ status: 'InProgress' });
  await rejected('GET', status.replace(/\/locations\/[^/]+\//, '/locations/bad%20loc!/'), {
    ...bad(v),
    target: 'location',
  });
  await rejected(
    'PUT',
    `${WS}/computes/gpu-bad-${n}${q(v)}`,
    { ...bad(v), target: 'properties.properties.scaleSettings.maxNodeCount' },
    {
      ...computeBody,
      properties: { computeType: 'AmlCompute', properties: { vmSize: 'Standard_NC24ads_A100_v4', scaleSettings: {} } },
    },
  );
  await advance(emulator, 1000);
  expect((await ok('GET', status)).body).toMatchObject({ status: 'Succeeded' });
  await ok('GET', `${WS}/computes/gpu-${n}${q(v)}`);
  await rejected('GET', `${badWs}/computes/gpu-${n}${q(v)}`, bad(v));
  await ok('GET', `${WS}/computes${q(v)}`);
  await rejected('GET', `${badWs}/computes${q(v)}`, bad(v));
  await ok('PUT', `${WS}/computes/gpu-${n}${q(v)}`, computeBody, 200);

  // Jobs: submit, get, list, cancel (LRO via Location).
  v = versionOf('workspaces/jobs');
  const job = pipelineJobBody({ compute: `gpu-${n}`, train: 'a/train.jsonl', test: 'a/test.jsonl' });
  await ok('PUT', `${WS}/jobs/job-${n}${q(v)}`, job, 201);
  await rejected(
    'PUT',
    `${WS}/jobs/job-enum-${n}${q(v)}`,
    { ...bad(v), target: 'properties.jobType' },
    { properties: { ...job.properties, jobType: 'Shell' } },
  );
  await rejected('PUT', `${WS}/jobs/-job-${n}${q(v)}`, { ...bad(v), target: 'id' }, job);
  await ok('GET', `${WS}/jobs/job-${n}${q(v)}`);
  await rejected('GET', `${badWs}/jobs/job-${n}${q(v)}`, bad(v));
  await ok('GET', `${WS}/jobs${q(v, '&listViewType=All')}`);
  await rejected('GET', `${WS}/jobs${q(v, '&listViewType=Some')}`, { ...bad(v), target: 'listViewType' });
  const cancel = await ok('POST', `${WS}/jobs/job-${n}/cancel${q(v)}`, undefined, 202);
  const result = cancel.headers.get('location') ?? '';
  expect((await ok('GET', result)).status).toBe(202);
  expect((await ok('GET', inVersion(result, own))).status).toBe(202);
  await rejected('POST', `${badWs}/jobs/job-${n}/cancel${q(v)}`, bad(v));
  await advance(emulator, 1000);
  expect((await ok('GET', result)).status).toBe(200);
  await rejected('GET', result.replace(/mfeOperationResults\/[^?]+/, 'mfeOperationResults/jc:unknown'), {
    status: 404,
    code: 'NotFound',
  });

  // A completed job, its output registered as a model.
  await ok('PUT', `${WS}/jobs/done-${n}${q(v)}`, job, 201);
  await advance(emulator, 5000);
  v = versionOf('workspaces/models/versions');
  await ok(
    'PUT',
    `${WS}/models/ft-${n}/versions/1${q(v)}`,
    {
      properties: {
        modelType: 'mlflow_model',
        modelUri: `azureml://jobs/done-${n}/outputs/trained_model`,
        description: 'x',
      },
    },
    201,
  );
  await rejected('PUT', `${WS}/models/ft-${n}/versions/2${q(v)}`, { ...bad(v), target: 'properties' }, {});
  await ok('GET', `${WS}/models/ft-${n}/versions/1${q(v)}`);
  await rejected('GET', `${badWs}/models/ft-${n}/versions/1${q(v)}`, bad(v));
  await ok('GET', `${WS}/models/ft-${n}/versions${q(v, '&$top=10')}`);
  await rejected('GET', `${WS}/models/ft-${n}/versions${q(v, '&$top=ten')}`, { ...bad(v), target: '$top' });
  v = versionOf('workspaces/models');
  await ok('GET', `${WS}/models/ft-${n}${q(v)}`);
  await rejected('GET', `${badWs}/models/ft-${n}${q(v)}`, bad(v));

  // Endpoint and deployment (LROs), keys, traffic, deletes. The endpoint body is azure-ai-ml's: it
  // sends mirrorTraffic (an empty map by default) on every endpoint PUT.
  v = versionOf('workspaces/onlineEndpoints');
  const ep = `ep-walk-${n}`;
  const endpointBody = (traffic: Record<string, number>) => ({
    location: LOCAL_AZURE.location,
    identity: { type: 'SystemAssigned' },
    properties: { authMode: 'Key', traffic, ...(v === '2022-10-01' ? {} : { mirrorTraffic: {} }) },
  });
  await ok('PUT', `${WS}/onlineEndpoints/${ep}${q(v)}`, endpointBody({}), 201);
  await rejected(
    'PUT',
    `${WS}/onlineEndpoints/${ep}-x${q(v)}`,
    { ...bad(v), target: 'properties.authMode' },
    { location: LOCAL_AZURE.location, properties: { authMode: 'Password' } },
  );
  await advance(emulator, 1000);
  await ok('GET', `${WS}/onlineEndpoints/${ep}${q(v)}`);
  await rejected('GET', `${badWs}/onlineEndpoints/${ep}${q(v)}`, bad(v));
  await ok('GET', `${WS}/onlineEndpoints${q(v, '&computeType=Managed')}`);
  await rejected('GET', `${WS}/onlineEndpoints${q(v, '&computeType=Serverless')}`, {
    ...bad(v),
    target: 'computeType',
  });
  await ok('POST', `${WS}/onlineEndpoints/${ep}/listKeys${q(v)}`);
  await rejected('POST', `${badWs}/onlineEndpoints/${ep}/listKeys${q(v)}`, bad(v));
  const vEndpoint = v;
  v = versionOf('workspaces/onlineEndpoints/deployments');
  const deployment = {
    location: LOCAL_AZURE.location,
    sku: { name: 'Default', capacity: 1 },
    properties: {
      endpointComputeType: 'Managed',
      model: `${WS}/models/ft-${n}/versions/1`,
      instanceType: 'Standard_NC6s_v3',
      livenessProbe: { initialDelay: 'PT10M' },
      requestSettings: { requestTimeout: 'PT1M30S' },
      appInsightsEnabled: false,
      properties: {},
    },
  };
  await ok('PUT', `${WS}/onlineEndpoints/${ep}/deployments/demo${q(v)}`, deployment, 201);
  await rejected(
    'PUT',
    `${WS}/onlineEndpoints/${ep}/deployments/demo2${q(v)}`,
    { ...bad(v), target: 'properties.livenessProbe.initialDelay' },
    { ...deployment, properties: { ...deployment.properties, livenessProbe: { initialDelay: '600' } } },
  );
  await advance(emulator, 1000);
  await ok('GET', `${WS}/onlineEndpoints/${ep}/deployments/demo${q(v)}`);
  await rejected('GET', `${badWs}/onlineEndpoints/${ep}/deployments/demo${q(v)}`, bad(v));
  await ok('GET', `${WS}/onlineEndpoints/${ep}/deployments${q(v, '&$top=5')}`);
  await rejected('GET', `${WS}/onlineEndpoints/${ep}/deployments${q(v, '&$top=many')}`, { ...bad(v), target: '$top' });
  await ok('PUT', `${WS}/onlineEndpoints/${ep}${q(vEndpoint)}`, endpointBody({ demo: 100 }), 201);
  await advance(emulator, 1000);
  await ok('DELETE', `${WS}/onlineEndpoints/${ep}/deployments/absent${q(v)}`, undefined, 204);
  await rejected('DELETE', `${badWs}/onlineEndpoints/${ep}/deployments/demo${q(v)}`, bad(v));
  await ok('PUT', `${WS}/onlineEndpoints/${ep}${q(vEndpoint)}`, endpointBody({ demo: 0 }), 201);
  await advance(emulator, 1000);
  const deletedDeployment = await ok('DELETE', `${WS}/onlineEndpoints/${ep}/deployments/demo${q(v)}`, undefined, 202);
  await advance(emulator, 1000);
  expect((await ok('GET', deletedDeployment.headers.get('location') ?? '')).status).toBe(200);
  v = vEndpoint;
  const deleted = await ok('DELETE', `${WS}/onlineEndpoints/${ep}${q(v)}`, undefined, 202);
  await rejected('DELETE', `${badWs}/onlineEndpoints/${ep}${q(v)}`, bad(v));
  const location = deleted.headers.get('location') ?? '';
  expect((await ok('GET', location)).status).toBe(202);
  await advance(emulator, 1000);
  expect((await ok('GET', location)).status).toBe(200);
  await ok('DELETE', `${WS}/onlineEndpoints/${ep}${q(v)}`, undefined, 204);

  v = versionOf('workspaces/computes');
  await rejected('DELETE', `${WS}/computes/gpu-${n}${q(v)}`, { ...bad(v), target: 'underlyingResourceAction' });
  await ok('DELETE', `${WS}/computes/gpu-${n}${q(v, '&underlyingResourceAction=Delete')}`, undefined, 202);
}

test('every route of the flow in 2022-10-01, valid and invalid, answers within the contract', async () => {
  await walkWorkspace('2022-10-01', 'a');
});

test('every route of the flow in 2024-04-01, valid and invalid, answers within the contract', async () => {
  await walkWorkspace('2024-04-01', 'b');
  // The registry asset routes, at the ARM path and on the data plane azure-ai-ml uses.
  for (const base of [REGISTRY_ARM, `/mferp/managementfrontend${REGISTRY_ARM}`]) {
    const v = base === REGISTRY_ARM ? '2024-04-01' : '2021-10-01-dataplanepreview';
    await ok('GET', `${base}/models/Phi-3-mini-4k-instruct/versions${q(v, '&$orderBy=createdtime%20desc&$top=1')}`);
    await rejected('GET', `${base}/models/Phi-3-mini-4k-instruct/versions${q(v, '&listViewType=Everything')}`, {
      ...bad(v),
      target: 'listViewType',
    });
    await ok('GET', `${base}/models/Phi-3-mini-4k-instruct/versions/15${q(v)}`);
    await rejected(
      'GET',
      `${base.replace('/registries/azureml', '/registries/a')}/models/Phi-3-mini-4k-instruct/versions/15${q(v)}`,
      { ...bad(v), target: 'registryName' },
    );
    await ok('GET', `${base}/components/chat_completion_pipeline/versions${q(v, '&$top=2')}`);
    await rejected('GET', `${base}/components/chat_completion_pipeline/versions${q(v, '&$top=two')}`, {
      ...bad(v),
      target: '$top',
    });
    await ok('GET', `${base}/components/chat_completion_pipeline/versions/0.0.82${q(v)}`);
    await rejected('GET', `${base}/components/-chat/versions/0.0.82${q(v)}`, { ...bad(v), target: 'componentName' });
  }
});

/** The ARM api-versions checked against another version's swagger: the previews azure-ai-ml calls. */
const PREVIEWS = CONTRACT_DATA.apiVersions.filter((r) => r.surface === 'arm' && r.source === 'nearest stable');

test('the table has the preview api-versions azure-ai-ml 1.35.2 calls the flow with', () => {
  expect(PREVIEWS.map((r) => r.version).sort()).toEqual([
    '2022-02-01-preview',
    '2023-04-01-preview',
    '2023-08-01-preview',
    '2024-01-01-preview',
    '2024-10-01-preview',
  ]);
});

test.each(PREVIEWS.map((r, i) => [r.version, r.schema, String.fromCharCode('c'.charCodeAt(0) + i)] as const))(
  'every route of the flow in %s (checked against the %s swagger), valid and invalid, answers within the contract',
  async (version, _schema, n) => {
    await walkWorkspace(version, n);
  },
);

test('every operation of every api-version row was walked, and the emulator saw no violation', async () => {
  const expected = new Set<string>();
  for (const row of CONTRACT_DATA.apiVersions) {
    const operations = [
      ...(CONTRACT_DATA.versions[row.schema]?.operations ?? []),
      ...(row.surface === 'arm' ? EXTRA_OPERATIONS : []),
    ];
    for (const op of operations)
      if (registersType(row, resourceTypeOf(op.path))) expected.add(`${row.version} ${op.operationId}`);
  }
  // Each preview api-version covers its own resource types' operations, e.g.:
  expect(expected).toContain('2023-08-01-preview Compute_CreateOrUpdate');
  expect(expected).toContain('2024-10-01-preview Datastores_ListSecrets');
  expect(expected).toContain('2022-02-01-preview OnlineEndpoints_ListKeys');
  expect(expected).not.toContain('2024-01-01-preview Compute_Get');
  expect([...expected].filter((e) => !covered.has(e))).toEqual([]);
  const report = await admin<{
    violations: unknown[];
    counters: { requestsRejected: number; responsesChecked: number };
  }>(emulator, 'contract');
  expect(report.violations).toEqual([]);
  expect(report.counters.requestsRejected).toBeGreaterThan(20 * (2 + PREVIEWS.length));
  expect(report.counters.responsesChecked).toBeGreaterThan(50 * (2 + PREVIEWS.length));
});
