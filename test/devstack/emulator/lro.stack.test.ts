// Long-running operations as the notes describe them, driven by the unmodified pollers of
// @azure/arm-machinelearning 2.1.1 in both api-versions (2024-04-01 through the SDK's apiVersion
// option): 201 + Azure-AsyncOperation for computes, endpoints and deployments (status URL, then a
// final GET of the resource), 202 + Location + Retry-After for deletes and job cancel, absolute
// https polling URLs, provisioningState transitions, and a failed operation surfacing its error.
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { LOCAL_AZURE } from '../../../src/config/local';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import {
  admin,
  advance,
  ARM_SCOPE,
  call,
  armToken,
  credentialFor,
  jobRecord,
  jobWalk,
  pipelineJobBody,
  startTestEmulator,
  withFrozenClock,
  WS,
} from './helpers';

const { resourceGroup: RG, workspace: WSNAME, location: LOCATION } = LOCAL_AZURE;
const LRO = { updateIntervalInMs: 10 };
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator({ clock: { jobPhaseMs: 200, provisionMs: 60, deleteMs: 60, cancelMs: 60 } });
});

afterAll(async () => {
  await emulator?.close();
});

function sdk(apiVersion: string): AzureMachineLearningWorkspaces {
  return new AzureMachineLearningWorkspaces(credentialFor(emulator), LOCAL_AZURE.subscriptionId, {
    endpoint: emulator.url,
    credentialScopes: [ARM_SCOPE],
    apiVersion,
  });
}

interface Logged {
  method: string;
  path: string;
  query: string;
  status: number;
}

async function requestsSince(n: number): Promise<Logged[]> {
  return (await admin<{ requests: Logged[] }>(emulator, 'requests')).requests
    .slice(n)
    .filter((r) => !r.path.includes('/oauth2/') && !r.path.includes('openid'));
}

async function logLength(): Promise<number> {
  return (await admin<{ count: number }>(emulator, 'requests')).count;
}

for (const version of ['2022-10-01', '2024-04-01']) {
  describe(`api-version ${version}`, () => {
    const client = () => sdk(version);
    const n = version.slice(0, 4);

    test('compute: 201 + Azure-AsyncOperation, status polled, final GET; delete polled to the end', async () => {
      const start = await logLength();
      const created = await client().computeOperations.beginCreateOrUpdateAndWait(
        RG,
        WSNAME,
        `cpu-${n}`,
        {
          location: LOCATION,
          properties: {
            computeType: 'AmlCompute',
            properties: { vmSize: 'Standard_DS3_v2', scaleSettings: { maxNodeCount: 1, minNodeCount: 0 } },
          },
        },
        LRO,
      );
      expect(created.properties?.provisioningState).toBe('Succeeded');
      const log = await requestsSince(start);
      expect(log[0]).toMatchObject({ method: 'PUT', status: 201, query: `api-version=${version}` });
      expect(log.slice(1, -1).every((r) => r.method === 'GET' && r.path.includes('/mfeOperationsStatus/cp:'))).toBe(
        true,
      );
      expect(log[log.length - 1]).toMatchObject({
        method: 'GET',
        path: expect.stringMatching(new RegExp(`/computes/cpu-${n}$`)),
        status: 200,
      });
      await client().computeOperations.beginDeleteAndWait(RG, WSNAME, `cpu-${n}`, 'Delete', LRO);
      await expect(client().computeOperations.get(RG, WSNAME, `cpu-${n}`)).rejects.toMatchObject({ statusCode: 404 });
    });

    test('endpoint and deployment: create, traffic update, delete (Location, 202 until gone)', async () => {
      const token = await armToken(emulator);
      const ep = `ep-lro-${n}`;
      const first = await call(emulator, `${WS}/onlineEndpoints/${ep}?api-version=${version}`, {
        method: 'PUT',
        token,
        body: { location: LOCATION, properties: { authMode: 'Key' } },
      });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ properties: { provisioningState: 'Creating' } });
      expect(first.headers.get('azure-asyncoperation')).toMatch(
        new RegExp(
          `^${emulator.url}/subscriptions/${LOCAL_AZURE.subscriptionId}/providers/Microsoft.MachineLearningServices/locations/${LOCATION}/mfeOperationsStatus/oe:[-0-9a-f]+:[-0-9a-f]+\\?api-version=${version}$`,
        ),
      );
      expect(first.headers.get('x-ms-async-operation-timeout')).toBe('PT1H');
      const endpoint = await client().onlineEndpoints.beginCreateOrUpdateAndWait(
        RG,
        WSNAME,
        ep,
        { location: LOCATION, properties: { authMode: 'Key' } },
        LRO,
      );
      expect(endpoint.properties.provisioningState).toBe('Succeeded');
      await client().modelVersions.createOrUpdate(RG, WSNAME, `m-${n}`, '1', {
        properties: { modelUri: 'https://example.invalid/m', modelType: 'mlflow_model' },
      });
      const deployment = await client().onlineDeployments.beginCreateOrUpdateAndWait(
        RG,
        WSNAME,
        ep,
        'demo',
        {
          location: LOCATION,
          sku: { name: 'Default', capacity: 1 },
          properties: {
            endpointComputeType: 'Managed',
            model: `${WS}/models/m-${n}/versions/1`,
            instanceType: 'Standard_NC6s_v3',
          },
        },
        LRO,
      );
      expect(deployment.properties.provisioningState).toBe('Succeeded');
      const updated = await client().onlineEndpoints.beginCreateOrUpdateAndWait(
        RG,
        WSNAME,
        ep,
        { location: LOCATION, properties: { authMode: 'Key', traffic: { demo: 100 } } },
        LRO,
      );
      expect(updated.properties).toMatchObject({ provisioningState: 'Succeeded', traffic: { demo: 100 } });
      // A deployment with traffic cannot go; with traffic moved away it can (Location poller).
      await expect(client().onlineDeployments.beginDeleteAndWait(RG, WSNAME, ep, 'demo', LRO)).rejects.toMatchObject({
        statusCode: 409,
      });
      await client().onlineEndpoints.beginCreateOrUpdateAndWait(
        RG,
        WSNAME,
        ep,
        { location: LOCATION, properties: { authMode: 'Key', traffic: { demo: 0 } } },
        LRO,
      );
      await client().onlineDeployments.beginDeleteAndWait(RG, WSNAME, ep, 'demo', LRO);
      await expect(client().onlineDeployments.get(RG, WSNAME, ep, 'demo')).rejects.toMatchObject({ statusCode: 404 });
      const start = await logLength();
      await client().onlineEndpoints.beginDeleteAndWait(RG, WSNAME, ep, LRO);
      const log = await requestsSince(start);
      expect(log[0]).toMatchObject({ method: 'DELETE', status: 202 });
      expect(log.slice(1).map((r) => r.status)).toEqual([...log.slice(1, -1).map(() => 202), 200]);
      expect(log.slice(1).every((r) => r.path.includes('/mfeOperationResults/oe:'))).toBe(true);
      await expect(client().onlineEndpoints.get(RG, WSNAME, ep)).rejects.toMatchObject({ statusCode: 404 });
    });

    test('job cancel: 202 + Location, CancelRequested then Canceled', async () => {
      const job = `job-lro-${n}`;
      await client().computeOperations.beginCreateOrUpdateAndWait(
        RG,
        WSNAME,
        `gpu-${n}`,
        {
          location: LOCATION,
          properties: {
            computeType: 'AmlCompute',
            properties: { vmSize: 'Standard_NC24ads_A100_v4', scaleSettings: { maxNodeCount: 1 } },
          },
        },
        LRO,
      );
      // The emulator's time stands still from the PUT until the cancel is seen: the job is surely running
      // when the cancel comes, and CancelRequested (60 ms of emulator time) waits for the GET.
      const poller = await withFrozenClock(emulator, async () => {
        await client().jobs.createOrUpdate(
          RG,
          WSNAME,
          job,
          pipelineJobBody({ compute: `gpu-${n}`, train: 'a/t.jsonl', test: 'a/t.jsonl' }) as never,
        );
        const cancelling = await client().jobs.beginCancel(RG, WSNAME, job, LRO);
        expect((await client().jobs.get(RG, WSNAME, job)).properties.status).toBe('CancelRequested');
        return cancelling;
      });
      await poller.pollUntilDone();
      expect((await client().jobs.get(RG, WSNAME, job)).properties.status).toBe('Canceled');
      expect(jobWalk(await jobRecord(emulator, job))).toEqual([
        ['NotStarted', 0],
        ['CancelRequested', 0],
        ['Canceled', 60],
      ]);
    });
  });
}

test('a failed operation: the status body carries the error and the resource ends Failed', async () => {
  await admin(emulator, 'faults', {
    method: 'POST',
    body: {
      action: { type: 'failProvisioning', code: 'EndpointProvisioningFailed', message: 'no capacity' },
      count: 1,
    },
  });
  const token = await armToken(emulator);
  // Emulator time moves only when the test says: InProgress for the 60 ms of provisioning, then Failed.
  const statusUrl = await withFrozenClock(emulator, async () => {
    const put = await call(emulator, `${WS}/onlineEndpoints/ep-lro-fail?api-version=2022-10-01`, {
      method: 'PUT',
      token,
      body: { location: LOCATION, properties: { authMode: 'Key' } },
    });
    const url = put.headers.get('azure-asyncoperation') ?? '';
    await advance(emulator, 59);
    expect((await call(emulator, url, { token })).body).toMatchObject({ status: 'InProgress' });
    await advance(emulator, 1);
    return url;
  });
  expect((await call(emulator, statusUrl, { token })).body).toMatchObject({
    status: 'Failed',
    error: { code: 'EndpointProvisioningFailed', message: 'no capacity' },
    endTime: expect.any(String),
  });
  expect(
    (await call(emulator, `${WS}/onlineEndpoints/ep-lro-fail?api-version=2022-10-01`, { token })).body,
  ).toMatchObject({ properties: { provisioningState: 'Failed' } });
});
