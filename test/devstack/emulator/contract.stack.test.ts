// Cross-cutting ARM behaviour: authentication, api-version, name rules, error envelope, headers,
// and the LRO status endpoints.
import { LOCAL_AZURE } from '../../../src/config/local';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { advance, armToken, call, credentialFor, startTestEmulator, withFrozenClock, WS } from './helpers';

let emulator: RunningEmulator;
let token: string;
const WS_GET = `${WS}?api-version=2022-10-01`;

beforeAll(async () => {
  emulator = await startTestEmulator();
  token = await armToken(emulator);
});

afterAll(async () => {
  await emulator?.close();
});

test('answers 401 with a Bearer challenge and ARM envelope without a token', async () => {
  const res = await call(emulator, WS_GET);
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(
    /^Bearer authorization_uri="https:\/\/127\.0\.0\.1:\d+\/[-0-9a-f]+"/,
  );
  expect(res.body).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
  const forged = await call(emulator, WS_GET, { token: `${token.slice(0, -4)}AAAA` });
  expect(forged).toMatchObject({ status: 401, body: { error: { code: 'InvalidAuthenticationToken' } } });
});

test('refuses a token for another audience', async () => {
  const storageToken = await credentialFor(emulator).getToken('https://storage.azure.com/.default');
  const res = await call(emulator, WS_GET, { token: storageToken.token });
  expect(res).toMatchObject({ status: 401, body: { error: { code: 'InvalidAuthenticationTokenAudience' } } });
});

test('refuses an expired token', async () => {
  let offsetMs = 0;
  const shifted = await startTestEmulator({ now: () => Date.now() + offsetMs });
  try {
    const fresh = await armToken(shifted);
    expect((await call(shifted, WS_GET, { token: fresh })).status).toBe(200);
    offsetMs = 2 * 3600_000;
    expect((await call(shifted, WS_GET, { token: fresh })).body).toMatchObject({
      error: { code: 'ExpiredAuthenticationToken' },
    });
    // A token signed by another emulator instance does not verify here.
    expect((await call(shifted, WS_GET, { token })).body).toMatchObject({
      error: { code: 'InvalidAuthenticationToken' },
    });
  } finally {
    await shifted.close();
  }
});

test('requires a supported api-version in ARM style', async () => {
  const missing = await call(emulator, WS, { token });
  expect(missing).toMatchObject({ status: 400, body: { error: { code: 'MissingApiVersionParameter' } } });
  // ARM refuses an api-version the provider does not register for the resource type, naming the ones
  // it does (the api-version table: contract/apiVersionTable.ts).
  for (const version of ['2023-01-01', '2099-01-01', '2023-13-01-preview']) {
    const bad = await call(emulator, `${WS}?api-version=${version}`, { token });
    expect(bad).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'NoRegisteredProviderFound',
          message: `No registered resource provider found for location 'eastus' and API version '${version}' for type 'workspaces'. The supported api-versions are '2024-10-01-preview, 2024-04-01, 2023-08-01-preview, 2022-10-01'. The supported locations are 'eastus'.`,
        },
      },
    });
  }
  const deployments = await call(emulator, `${WS}/onlineEndpoints/ep/deployments?api-version=2021-01-01`, { token });
  expect(deployments.body).toMatchObject({
    error: {
      code: 'NoRegisteredProviderFound',
      message: expect.stringContaining("for type 'workspaces/onlineEndpoints/deployments'"),
    },
  });
  const malformed = await call(emulator, `${WS}?api-version=latest`, { token });
  expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'InvalidApiVersionParameter' } } });
  expect((await call(emulator, `${WS}?api-version=2024-04-01`, { token })).status).toBe(200);
  expect((await call(emulator, `${WS}?api-version=2024-10-01-preview`, { token })).status).toBe(200);
});

test('a preview api-version is accepted for the resource types it is registered for, and refused for the others', async () => {
  const refused = async (method: string, path: string, version: string, type: string, supported: string) => {
    const res = await call(emulator, `${path}?api-version=${version}`, { method, token });
    expect({ path, version, status: res.status, body: res.body }).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'NoRegisteredProviderFound',
          message: `No registered resource provider found for location 'eastus' and API version '${version}' for type '${type}'. The supported api-versions are '${supported}'. The supported locations are 'eastus'.`,
        },
      },
    });
  };
  // Online endpoints are 2022-02-01-preview's; computes are not.
  expect((await call(emulator, `${WS}/onlineEndpoints?api-version=2022-02-01-preview`, { token })).status).toBe(200);
  await refused(
    'GET',
    `${WS}/computes`,
    '2022-02-01-preview',
    'workspaces/computes',
    '2024-04-01, 2023-08-01-preview, 2022-10-01',
  );
  // An action is checked against its resource's type.
  await refused(
    'POST',
    `${WS}/jobs/absent/cancel`,
    '2024-10-01-preview',
    'workspaces/jobs',
    '2024-04-01, 2024-01-01-preview, 2023-04-01-preview, 2022-10-01',
  );
  await refused(
    'POST',
    `${WS}/datastores/workspaceblobstore/listSecrets`,
    '2023-08-01-preview',
    'workspaces/datastores',
    '2024-10-01-preview, 2024-04-01, 2022-10-01',
  );
  expect(
    (
      await call(emulator, `${WS}/datastores/workspaceblobstore/listSecrets?api-version=2024-10-01-preview`, {
        method: 'POST',
        token,
        body: { expirableSecret: false, expireAfterHours: 1 },
      })
    ).body,
  ).toMatchObject({ secretsType: 'AccountKey' });
  // The status URL of a long-running operation answers in every ARM api-version, an unknown one aside.
  const put = await call(emulator, `${WS}/onlineEndpoints/ep-preview?api-version=2022-02-01-preview`, {
    method: 'PUT',
    token,
    body: {
      location: 'eastus',
      identity: { type: 'SystemAssigned' },
      properties: { authMode: 'Key', traffic: {}, mirrorTraffic: {} },
    },
  });
  expect(put.status).toBe(201);
  const status = put.headers.get('azure-asyncoperation') ?? '';
  expect(status).toContain('api-version=2022-02-01-preview');
  expect((await call(emulator, status, { token })).status).toBe(200);
  expect((await call(emulator, status.replace('2022-02-01-preview', '2024-01-01-preview'), { token })).status).toBe(
    200,
  );
  const unknown = await call(emulator, status.replace('2022-02-01-preview', '2099-01-01'), { token });
  expect(unknown.body).toMatchObject({
    error: {
      code: 'NoRegisteredProviderFound',
      message: expect.stringContaining("for type 'locations/mfeOperationsStatus'"),
    },
  });
});

test('matches the provider segment case-insensitively and adds ARM headers', async () => {
  const res = await call(
    emulator,
    `${WS.replace('Microsoft.MachineLearningServices', 'microsoft.machinelearningservices')}?api-version=2022-10-01`,
    { token },
  );
  expect(res.status).toBe(200);
  expect(res.headers.get('x-ms-request-id')).toMatch(/^[-0-9a-f]{36}$/);
  expect(Number(res.headers.get('x-ms-ratelimit-remaining-subscription-reads'))).toBeGreaterThan(0);
  const put = await call(emulator, `${WS}/onlineEndpoints/ep-headers?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { location: 'eastus', properties: { authMode: 'Key' } },
  });
  expect(put.headers.get('x-ms-ratelimit-remaining-subscription-writes')).not.toBeNull();
});

test('404s name the missing resource; unknown workspace is ResourceNotFound', async () => {
  expect((await call(emulator, `${WS}/onlineEndpoints/absent?api-version=2022-10-01`, { token })).body).toMatchObject({
    error: { code: 'ResourceNotFound' },
  });
  const otherWs = WS.replace(LOCAL_AZURE.workspace, 'other-ws');
  expect((await call(emulator, `${otherWs}?api-version=2022-10-01`, { token })).body).toMatchObject({
    error: { code: 'ResourceNotFound' },
  });
  expect((await call(emulator, `${otherWs}/jobs/x?api-version=2022-10-01`, { token })).body).toMatchObject({
    error: { code: 'ParentResourceNotFound' },
  });
});

test('validates names and bodies server side, naming the field', async () => {
  // Violations of the swagger (path patterns, required fields, enums) get the management front
  // end's envelope: BadRequest "The request is invalid." with one detail per problem.
  const badJob = await call(emulator, `${WS}/jobs/-bad?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { properties: { jobType: 'Pipeline' } },
  });
  expect(badJob).toMatchObject({
    status: 400,
    body: {
      error: {
        code: 'BadRequest',
        message: 'The request is invalid.',
        target: 'id',
        details: [{ code: 'ValidationError', target: 'id' }],
      },
    },
  });
  const badEp = await call(emulator, `${WS}/onlineEndpoints/ep_underscore?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { location: 'eastus', properties: { authMode: 'Key' } },
  });
  expect(badEp).toMatchObject({ status: 400, body: { error: { target: 'endpointName' } } });
  const noAuthMode = await call(emulator, `${WS}/onlineEndpoints/ep-no-auth?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { location: 'eastus', properties: {} },
  });
  expect(noAuthMode).toMatchObject({
    status: 400,
    body: { error: { code: 'BadRequest', target: 'properties.authMode' } },
  });
  const badModel = await call(emulator, `${WS}/models/bad%20name/versions/1?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { properties: { modelUri: 'https://x/y' } },
  });
  expect(badModel).toMatchObject({ status: 400, body: { error: { code: 'BadRequest', target: 'name' } } });
});

test('deployment body checks: model, instance type, durations, capacity', async () => {
  // Emulator time moves only when the test advances it: the endpoint and the deployment stay Creating
  // while the test asks what may be done with them then, however slow the machine.
  await withFrozenClock(emulator, deploymentChecks);
});

async function deploymentChecks(): Promise<void> {
  const ep = 'ep-deploy-checks';
  await call(emulator, `${WS}/onlineEndpoints/${ep}?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { location: 'eastus', properties: { authMode: 'Key' } },
  });
  const put = (properties: Record<string, unknown>, sku: Record<string, unknown> = { name: 'Default', capacity: 1 }) =>
    call(emulator, `${WS}/onlineEndpoints/${ep}/deployments/demo?api-version=2022-10-01`, {
      method: 'PUT',
      token,
      body: {
        location: 'eastus',
        sku,
        properties: {
          endpointComputeType: 'Managed',
          instanceType: 'Standard_NC6s_v3',
          model: 'azureml://registries/azureml/models/Phi-3-mini-4k-instruct/versions/15',
          ...properties,
        },
      },
    });
  // While the endpoint is still Creating, deployments wait.
  expect((await put({})).status).toBe(409);
  await advance(emulator, 150);
  expect((await put({ model: `${WS}/models/none/versions/1` })).body).toMatchObject({
    error: { target: 'properties.model' },
  });
  expect((await put({ instanceType: undefined })).body).toMatchObject({ error: { target: 'properties.instanceType' } });
  // Instance types come from the region's managed online SKU list (a cluster-only size is refused).
  expect((await put({ instanceType: 'Standard_D12_v2' })).body).toMatchObject({
    error: {
      code: 'UserError',
      target: 'properties.instanceType',
      message: expect.stringContaining('Standard_NC6s_v3'),
    },
  });
  expect((await put({ instanceType: 'Standard_Imaginary_v9' })).body).toMatchObject({
    error: { target: 'properties.instanceType' },
  });
  expect((await put({ livenessProbe: { initialDelay: '600' } })).body).toMatchObject({
    error: { target: 'properties.livenessProbe.initialDelay' },
  });
  expect((await put({}, { name: 'Default', capacity: 0 })).body).toMatchObject({ error: { target: 'sku.capacity' } });
  const ok = await put({ livenessProbe: { initialDelay: 'PT10M' }, requestSettings: { requestTimeout: 'PT1M30S' } });
  expect(ok.status).toBe(201);
  expect(ok.headers.get('azure-asyncoperation')).toMatch(
    new RegExp(`^${emulator.url}/subscriptions/.+/mfeOperationsStatus/od:`),
  );
  const traffic = (demo: number) =>
    call(emulator, `${WS}/onlineEndpoints/${ep}?api-version=2022-10-01`, {
      method: 'PUT',
      token,
      body: { location: 'eastus', properties: { authMode: 'Key', traffic: { demo } } },
    });
  // Traffic goes only to deployments that have Succeeded, and adds up to 100.
  expect((await traffic(100)).body).toMatchObject({ error: { target: 'properties.traffic.demo' } });
  await advance(emulator, 150);
  expect((await traffic(50)).body).toMatchObject({ error: { target: 'properties.traffic' } });
  expect((await traffic(100)).status).toBe(201);
}

test('operation status answers for tracked operations and 404 for unknown ones', async () => {
  // InProgress and Deleting last 150 ms of emulator time: frozen, they wait for the test's GETs.
  await withFrozenClock(emulator, operationStatusChecks);
});

async function operationStatusChecks(): Promise<void> {
  const put = await call(emulator, `${WS}/onlineEndpoints/ep-ops?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { location: 'eastus', properties: { authMode: 'Key' } },
  });
  const statusUrl = put.headers.get('azure-asyncoperation') ?? '';
  const first = await call(emulator, statusUrl, { token });
  expect(first.body).toMatchObject({ status: 'InProgress' });
  expect(first.headers.get('retry-after')).toBe('0');
  await advance(emulator, 150);
  expect((await call(emulator, statusUrl, { token })).body).toMatchObject({
    status: 'Succeeded',
    endTime: expect.any(String),
  });
  const del = await call(emulator, `${WS}/onlineEndpoints/ep-ops?api-version=2022-10-01`, { method: 'DELETE', token });
  expect(del.status).toBe(202);
  const location = del.headers.get('location') ?? '';
  expect(location).toContain('/mfeOperationResults/');
  expect((await call(emulator, location, { token })).status).toBe(202);
  expect((await call(emulator, `${WS}/onlineEndpoints/ep-ops?api-version=2022-10-01`, { token })).body).toMatchObject({
    properties: { provisioningState: 'Deleting' },
  });
  await advance(emulator, 150);
  expect((await call(emulator, location, { token })).status).toBe(200);
  const unknown = location.replace(/mfeOperationResults\/[^?]+/, 'mfeOperationResults/oe:nope');
  expect((await call(emulator, unknown, { token })).status).toBe(404);
}

test('admin reset clears resources and the request log', async () => {
  const reset = await call(emulator, '/_emulator/reset', { method: 'POST' });
  expect(reset.status).toBe(200);
  const resources = (await call(emulator, '/_emulator/resources')).body as { endpoints: unknown[] };
  expect(resources.endpoints).toEqual([]);
  expect(((await call(emulator, '/_emulator/requests')).body as { count: number }).count).toBe(0);
  // Tokens issued before the reset stay valid.
  expect((await call(emulator, WS_GET, { token })).status).toBe(200);
});
