// The answers a client gets for the mistakes that matter, with Azure's status and error code, seen
// through the real ARM SDK (RestError.statusCode/code) and raw HTTPS.
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { LOCAL_AZURE } from '../../../src/config/local';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { advance, armClient, armToken, call, pipelineJobBody, startTestEmulator, WS } from './helpers';

const { resourceGroup: RG, workspace: WSNAME } = LOCAL_AZURE;
let emulator: RunningEmulator;
let client: AzureMachineLearningWorkspaces;
let token: string;

beforeAll(async () => {
  emulator = await startTestEmulator({
    timeMode: 'stepped',
    clock: { jobPhaseMs: 1000, provisionMs: 1000, deleteMs: 1000, cancelMs: 1000 },
  });
  client = armClient(emulator);
  token = await armToken(emulator);
  await call(emulator, `${WS}/computes/gpu?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: {
      location: 'eastus',
      properties: {
        computeType: 'AmlCompute',
        properties: { vmSize: 'Standard_NC24ads_A100_v4', scaleSettings: { maxNodeCount: 1 } },
      },
    },
  });
  await call(emulator, `${WS}/onlineEndpoints/ep-errors?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { location: 'eastus', properties: { authMode: 'Key' } },
  });
  await advance(emulator, 1000);
});

afterAll(async () => {
  await emulator?.close();
});

test('an unknown pipeline input is a 400 UserError naming the input', async () => {
  const body = pipelineJobBody({
    compute: 'gpu',
    train: 't/train.jsonl',
    test: 't/test.jsonl',
    componentVersion: '0.0.51',
    extraInputs: { trust_remote_code: { job_input_type: 'literal', value: 'false' } },
  });
  await expect(client.jobs.createOrUpdate(RG, WSNAME, 'job-unknown-input', body as never)).rejects.toMatchObject({
    statusCode: 400,
    code: 'UserError',
    message: expect.stringContaining(
      "Input 'trust_remote_code' is not declared by component chat_completion_pipeline:0.0.51",
    ),
  });
});

test('a spec-invalid deployment body is a 400 BadRequest with one detail per problem', async () => {
  const res = await call(emulator, `${WS}/onlineEndpoints/ep-errors/deployments/demo?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: {
      location: 'eastus',
      sku: { name: 'Default', capacity: 1 },
      properties: {
        endpointComputeType: 'Serverless',
        instanceType: 'Standard_NC6s_v3',
        requestSettings: { requestTimeout: '90s' },
      },
    },
  });
  expect(res.status).toBe(400);
  expect(res.body).toEqual({
    error: {
      code: 'BadRequest',
      message: 'The request is invalid.',
      target: 'properties.endpointComputeType',
      details: [
        expect.objectContaining({
          code: 'ValidationError',
          target: 'properties.endpointComputeType',
          message: expect.stringContaining('"Managed","Kubernetes","AzureMLCompute"'),
        }),
      ],
      additionalInfo: [{ type: 'ComponentName', info: { value: 'managementfrontend' } }],
    },
  });
  // Through the SDK a managed deployment with a malformed probe duration never leaves the client
  // (its serializer checks TimeSpan); raw, the emulator refuses it as the service does.
  const probe = await call(emulator, `${WS}/onlineEndpoints/ep-errors/deployments/demo?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: {
      location: 'eastus',
      properties: {
        endpointComputeType: 'Managed',
        instanceType: 'Standard_NC6s_v3',
        model: 'azureml://registries/azureml/models/Phi-3-mini-4k-instruct/versions/15',
        livenessProbe: { initialDelay: '10 minutes' },
        unknownField: 1,
      },
    },
  });
  expect(probe.body).toMatchObject({
    error: {
      code: 'BadRequest',
      details: expect.arrayContaining([
        expect.objectContaining({
          target: 'properties.livenessProbe.initialDelay',
          message: expect.stringContaining('ISO 8601'),
        }),
        expect.objectContaining({ target: 'properties.unknownField' }),
      ]),
    },
  });
});

test('an unknown api-version is refused as ARM refuses it: 400 NoRegisteredProviderFound', async () => {
  const res = await call(emulator, `${WS}/onlineEndpoints/ep-errors?api-version=2023-10-01`, { token });
  expect(res).toMatchObject({
    status: 400,
    body: {
      error: {
        code: 'NoRegisteredProviderFound',
        message: expect.stringContaining(
          "The supported api-versions are '2024-04-01, 2023-04-01-preview, 2022-10-01, 2022-02-01-preview'",
        ),
      },
    },
  });
});

test('a missing token is 401 InvalidAuthenticationToken; an expired one 401 ExpiredAuthenticationToken', async () => {
  const missing = await call(emulator, `${WS}?api-version=2022-10-01`);
  expect(missing).toMatchObject({ status: 401, body: { error: { code: 'InvalidAuthenticationToken' } } });
  expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=/);
  expect((await call(emulator, `${WS}?api-version=2022-10-01`, { token })).status).toBe(200);
  // Emulator time moves past the token's hour; the client still holds it.
  await advance(emulator, 2 * 3600_000);
  const expired = await call(emulator, `${WS}?api-version=2022-10-01`, { token });
  expect(expired).toMatchObject({ status: 401, body: { error: { code: 'ExpiredAuthenticationToken' } } });
  // The SDK's cached token is just as stale.
  await expect(client.workspaces.get(RG, WSNAME)).rejects.toMatchObject({
    statusCode: 401,
    code: 'ExpiredAuthenticationToken',
  });
});
