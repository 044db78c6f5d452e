// Quotas: vCPUs per VM family through the usages API (Usages_List), clusters beyond their family's
// quota fail to provision (BadRequest), deployments beyond it fail with OutOfQuota (20% upgrade
// reserve included), and the subscription's endpoint cap (50 by default) fails the next endpoint
// with OutOfQuota. Seen through the real SDK pollers.
import type { AzureMachineLearningWorkspaces, Usage } from '@azure/arm-machinelearning';
import { LOCAL_AZURE } from '../../../src/config/local';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { admin, armClient, startTestEmulator, WS } from './helpers';

const { resourceGroup: RG, workspace: WSNAME, location: LOCATION } = LOCAL_AZURE;
const LRO = { updateIntervalInMs: 10 };
let emulator: RunningEmulator;
let client: AzureMachineLearningWorkspaces;

beforeAll(async () => {
  emulator = await startTestEmulator({
    quotas: { familyVcpus: { StandardNCADSA100v4Family: 12, standardNCSv3Family: 24 }, maxEndpoints: 2 },
    clock: { jobPhaseMs: 50, provisionMs: 30, deleteMs: 30, cancelMs: 30 },
  });
  client = armClient(emulator);
  await client.modelVersions.createOrUpdate(RG, WSNAME, 'm', '1', {
    properties: { modelUri: 'https://example.invalid/model', modelType: 'mlflow_model' },
  });
});

afterAll(async () => {
  await emulator?.close();
});

async function usages(): Promise<Map<string, Usage>> {
  const out = new Map<string, Usage>();
  for await (const u of client.usages.list(LOCATION)) out.set(u.name?.value ?? '', u);
  return out;
}

const deploymentBody = (capacity: number) => ({
  location: LOCATION,
  sku: { name: 'Default', capacity },
  properties: {
    endpointComputeType: 'Managed' as const,
    model: `${WS}/models/m/versions/1`,
    instanceType: 'Standard_NC6s_v3',
  },
});

test('the usages API lists clusters, regional vCPUs and every VM family with its limit', async () => {
  const list = await usages();
  expect(list.get('Clusters')).toMatchObject({
    type: 'Microsoft.MachineLearningServices/totalCores/usages',
    unit: 'Count',
    currentValue: 0,
    limit: 200,
    amlWorkspaceLocation: LOCATION,
  });
  expect(list.get('Total Cluster Dedicated Regional vCPUs')).toMatchObject({ currentValue: 0, limit: 400 });
  expect(list.get('Standard NCADSA100v4 Family Cluster Dedicated vCPUs')).toMatchObject({
    id: `/subscriptions/${LOCAL_AZURE.subscriptionId}/usages/Standard_NCADSA100v4_Family_Cluster_Dedicated_vCPUs`,
    type: 'Microsoft.MachineLearningServices/vmFamily/usages',
    currentValue: 0,
    limit: 12,
  });
  expect(list.get('Standard DSv2 Family Cluster Dedicated vCPUs')).toMatchObject({ limit: 96 });
});

test('a cluster whose family quota cannot hold one node fails to provision with BadRequest', async () => {
  const body = {
    location: LOCATION,
    properties: {
      computeType: 'AmlCompute' as const,
      properties: { vmSize: 'Standard_NC24ads_A100_v4', scaleSettings: { maxNodeCount: 1, minNodeCount: 0 } },
    },
  };
  const err = await client.computeOperations.beginCreateOrUpdateAndWait(RG, WSNAME, 'a100', body, LRO).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(String(err)).toMatch(
    /BadRequest.*family vCPU quota of 12 and cannot accomodate for at least 1 requested managed compute node which maps to 24 vCPUs/,
  );
  // The SDK poller reports it as a plain Error (no statusCode) with the operation's code in its text.
  expect(err).toMatchObject({
    message: expect.stringMatching(/^The long-running operation has failed\. BadRequest\. /),
  });
  expect((err as { statusCode?: number }).statusCode).toBeUndefined();
  const compute = await client.computeOperations.get(RG, WSNAME, 'a100');
  expect(compute.properties).toMatchObject({
    provisioningState: 'Failed',
    provisioningErrors: [{ error: { code: 'BadRequest' } }],
  });
  // A failed cluster holds no quota and must be deleted before it can be created again.
  expect((await usages()).get('Clusters')?.currentValue).toBe(0);
  await client.computeOperations.beginDeleteAndWait(RG, WSNAME, 'a100', 'Delete', LRO);
  await expect(client.computeOperations.get(RG, WSNAME, 'a100')).rejects.toMatchObject({ statusCode: 404 });
});

test('deployments count against the family quota with the 20% upgrade reserve; beyond it OutOfQuota', async () => {
  await client.onlineEndpoints.beginCreateOrUpdateAndWait(
    RG,
    WSNAME,
    'ep-quota-1',
    { location: LOCATION, properties: { authMode: 'Key' } },
    LRO,
  );
  // 3 instances reserve ceil(3 × 1.2) = 4 × 6 vCPUs = 24: the whole NCSv3 quota.
  await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WSNAME, 'ep-quota-1', 'blue', deploymentBody(3), LRO);
  expect((await usages()).get('Standard NCSv3 Family Cluster Dedicated vCPUs')).toMatchObject({
    currentValue: 24,
    limit: 24,
  });
  expect((await usages()).get('Total Cluster Dedicated Regional vCPUs')?.currentValue).toBe(24);
  const err = await client.onlineDeployments
    .beginCreateOrUpdateAndWait(RG, WSNAME, 'ep-quota-1', 'green', deploymentBody(1), LRO)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(String(err)).toMatch(
    /The long-running operation has failed\. OutOfQuota\. Not enough quota available for Standard_NC6s_v3/,
  );
  const green = await client.onlineDeployments.get(RG, WSNAME, 'ep-quota-1', 'green');
  expect(green.properties.provisioningState).toBe('Failed');
  // The failed deployment holds nothing; scaling blue down frees quota for green.
  expect((await usages()).get('Standard NCSv3 Family Cluster Dedicated vCPUs')?.currentValue).toBe(24);
  await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WSNAME, 'ep-quota-1', 'blue', deploymentBody(1), LRO);
  await client.onlineDeployments.beginCreateOrUpdateAndWait(RG, WSNAME, 'ep-quota-1', 'green', deploymentBody(1), LRO);
  expect((await usages()).get('Standard NCSv3 Family Cluster Dedicated vCPUs')?.currentValue).toBe(24);
});

test('the endpoint cap: the endpoint beyond it fails with OutOfQuota; deleting one makes room', async () => {
  await client.onlineEndpoints.beginCreateOrUpdateAndWait(
    RG,
    WSNAME,
    'ep-quota-2',
    { location: LOCATION, properties: { authMode: 'Key' } },
    LRO,
  );
  const err = await client.onlineEndpoints
    .beginCreateOrUpdateAndWait(RG, WSNAME, 'ep-quota-3', { location: LOCATION, properties: { authMode: 'Key' } }, LRO)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(String(err)).toMatch(
    /OutOfQuota\. Endpoint quota reached: the subscription has 2 online endpoints in this region and its limit is 2/,
  );
  expect((await client.onlineEndpoints.get(RG, WSNAME, 'ep-quota-3')).properties.provisioningState).toBe('Failed');
  await client.onlineEndpoints.beginDeleteAndWait(RG, WSNAME, 'ep-quota-3', LRO);
  await client.onlineEndpoints.beginDeleteAndWait(RG, WSNAME, 'ep-quota-2', LRO);
  const ok = await client.onlineEndpoints.beginCreateOrUpdateAndWait(
    RG,
    WSNAME,
    'ep-quota-3',
    { location: LOCATION, properties: { authMode: 'Key' } },
    LRO,
  );
  expect(ok.properties.provisioningState).toBe('Succeeded');
});

test('quota limits are visible and adjustable through the admin API; the default cap is 50 endpoints', async () => {
  const defaults = await startTestEmulator();
  try {
    expect(await admin(defaults, 'quotas')).toMatchObject({
      maxEndpoints: 50,
      defaultFamilyVcpus: 96,
      totalRegionalVcpus: 400,
      upgradeReservePercent: 20,
    });
  } finally {
    await defaults.close();
  }
  const after = await admin<{ familyVcpus: Record<string, number>; usage: { endpoints: number } }>(emulator, 'quotas', {
    method: 'PUT',
    body: { familyVcpus: { standardNCSv3Family: 48 } },
  });
  expect(after.familyVcpus['standardNCSv3Family']).toBe(48);
  expect(after.usage.endpoints).toBe(2);
  expect((await usages()).get('Standard NCSv3 Family Cluster Dedicated vCPUs')?.limit).toBe(48);
});
