// The fine-tune lifecycle against the emulator with the real clients: ClientSecretCredential for
// the token, AzureMachineLearningWorkspaces (2.1.1, unmodified pollers) for ARM, raw fetch for
// MLflow and scoring, @azure/storage-blob for the staged files in a private Azurite.
import type { AzureMachineLearningWorkspaces, JobBase, PipelineJob } from '@azure/arm-machinelearning';
import { LOCAL_AZURE } from '../../../src/config/local';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import {
  armClient,
  armToken,
  blobContainer,
  call,
  chatRows,
  credentialFor,
  jobRecord,
  jobWalk,
  pipelineJobBody,
  sleep,
  startAzurite,
  startTestEmulator,
  WS,
  ARM_SCOPE,
  withFrozenClock,
  type Azurite,
} from './helpers';

const { resourceGroup: RG, workspace: WSNAME } = LOCAL_AZURE;
const COMPUTE = 'gpu-a100';
const TRAIN = 'LocalUpload/run1/train_sft.jsonl';
const TEST = 'LocalUpload/run1/test_sft.jsonl';

let azurite: Azurite;
let emulator: RunningEmulator;
let client: AzureMachineLearningWorkspaces;
let token: string;

beforeAll(async () => {
  azurite = await startAzurite();
  emulator = await startTestEmulator({ azuriteBlobUrl: azurite.url });
  client = armClient(emulator);
  token = await armToken(emulator);
  const container = blobContainer(azurite);
  await container.getBlockBlobClient(TRAIN).upload(chatRows(40), Buffer.byteLength(chatRows(40)));
  await container.getBlockBlobClient(TEST).upload(chatRows(10), Buffer.byteLength(chatRows(10)));
});

afterAll(async () => {
  await emulator?.close();
  await azurite?.stop();
});

/** Polls the ARM job until it shows `wanted`: a terminal status, which stays once reached. */
async function waitForStatus(name: string, wanted: 'Completed' | 'Failed' | 'Canceled', timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await client.jobs.get(RG, WSNAME, name);
    const status = job.properties.status ?? '';
    if (status === wanted) return;
    if (Date.now() > deadline) throw new Error(`job ${name} stayed ${status}`);
    await sleep(25);
  }
}

function decodeClaims(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('token endpoint', () => {
  test('issues an ARM token to the real ClientSecretCredential', async () => {
    const claims = decodeClaims(token);
    expect(claims).toMatchObject({
      aud: 'https://management.azure.com',
      tid: LOCAL_AZURE.tenantId,
      appid: LOCAL_AZURE.clientId,
    });
    expect(Number(claims['exp']) - Date.now() / 1000).toBeGreaterThan(3000);
  });

  test('refuses a wrong client secret with AADSTS7000215', async () => {
    await expect(credentialFor(emulator, 'not-the-secret').getToken(ARM_SCOPE)).rejects.toThrow(/AADSTS7000215/);
  });
});

describe('ARM surface with the real SDK', () => {
  test('workspace points MLflow and discovery at the emulator', async () => {
    const ws = await client.workspaces.get(RG, WSNAME);
    expect(ws.location).toBe(LOCAL_AZURE.location);
    expect(ws.mlFlowTrackingUri).toBe(`azureml://127.0.0.1:${emulator.port}/mlflow/v1.0${WS}`);
    expect(ws.discoveryUrl).toBe(`${emulator.url}/discovery`);
    expect(ws.storageAccount).toMatch(/storageAccounts\/devstoreaccount1$/);
  });

  test('default datastore is the Azurite container, with its account key', async () => {
    const ds = await client.datastores.get(RG, WSNAME, 'workspaceblobstore');
    expect(ds.properties).toMatchObject({
      datastoreType: 'AzureBlob',
      accountName: 'devstoreaccount1',
      containerName: LOCAL_AZURE.blobContainer,
      isDefault: true,
    });
    const secrets = await client.datastores.listSecrets(RG, WSNAME, 'workspaceblobstore');
    expect(secrets).toMatchObject({ secretsType: 'AccountKey' });
    expect((secrets as { key?: string }).key).toMatch(/^Eby8/);
  });

  test('creates a compute cluster through the LRO poller and lists GPU sizes', async () => {
    const created = await client.computeOperations.beginCreateOrUpdateAndWait(
      RG,
      WSNAME,
      COMPUTE,
      {
        location: LOCAL_AZURE.location,
        properties: {
          computeType: 'AmlCompute',
          properties: {
            vmSize: 'Standard_NC24ads_A100_v4',
            scaleSettings: { maxNodeCount: 1, minNodeCount: 0, nodeIdleTimeBeforeScaleDown: 'PT120S' },
          },
        },
      },
      { updateIntervalInMs: 20 },
    );
    expect(created.properties?.provisioningState).toBe('Succeeded');
    const got = await client.computeOperations.get(RG, WSNAME, COMPUTE);
    expect(got.properties).toMatchObject({
      computeType: 'AmlCompute',
      properties: { vmSize: 'Standard_NC24ads_A100_v4' },
    });
    const sizes = await client.virtualMachineSizes.list(LOCAL_AZURE.location);
    const gpus = Object.fromEntries((sizes.value ?? []).map((s) => [s.name, s.gpus]));
    expect(gpus).toMatchObject({
      Standard_NC24ads_A100_v4: 1,
      Standard_NC12s_v3: 2,
      Standard_ND96asr_v4: 8,
      Standard_DS3_v2: 0,
    });
  });

  test('runs a pipeline job to Completed and answers "already exists" to a second PUT', async () => {
    const body = pipelineJobBody({ compute: COMPUTE, train: TRAIN, test: TEST }) as JobBase;
    const created = await client.jobs.createOrUpdate(RG, WSNAME, 'ftjob-ok', body);
    expect(created.properties.status).toBe('NotStarted');
    await expect(client.jobs.createOrUpdate(RG, WSNAME, 'ftjob-ok', body)).rejects.toMatchObject({
      statusCode: 409,
      code: 'Conflict',
    });
    await waitForStatus('ftjob-ok', 'Completed');
    // What it went through is the emulator's record (a 150 ms phase can pass between two polls).
    expect(jobWalk(await jobRecord(emulator, 'ftjob-ok'))).toEqual([
      ['NotStarted', 0],
      ['Queued', 150],
      ['Preparing', 300],
      ['Running', 450],
      ['Finalizing', 600],
      ['Completed', 750],
    ]);
    const job = await client.jobs.get(RG, WSNAME, 'ftjob-ok');
    const props = job.properties as PipelineJob;
    expect(props.outputs?.['trained_model']).toMatchObject({
      jobOutputType: 'mlflow_model',
      uri: expect.stringContaining('ftjob-ok'),
    });
    expect(props.services?.['Studio']?.endpoint).toContain(`${emulator.url}/`);
  });

  test('MLflow shows the root run and the fine-tune child run with HF Trainer metrics', async () => {
    const base = `/mlflow/v1.0${WS}/api/2.0/mlflow`;
    const exp = await call(
      emulator,
      `${base}/experiments/get-by-name?experiment_name=chat_completion_Phi-3-mini-4k-instruct`,
      { token },
    );
    expect(exp.status).toBe(200);
    const experimentId = (exp.body as { experiment: { experiment_id: string } }).experiment.experiment_id;
    const search = await call(emulator, `${base}/runs/search`, {
      method: 'POST',
      token,
      body: { experiment_ids: [experimentId], filter: "tags.mlflow.rootRunId='ftjob-ok'", max_results: 100 },
    });
    const runs = (
      search.body as {
        runs: {
          info: { run_id: string; status: string };
          data: { metrics: { key: string }[]; tags: { key: string; value: string }[] };
        }[];
      }
    ).runs;
    expect(runs).toHaveLength(2);
    const child = runs.find((r) => r.data.tags.some((t) => t.key === 'mlflow.parentRunId' && t.value === 'ftjob-ok'));
    expect(child?.info.status).toBe('FINISHED');
    expect(child?.data.metrics.map((m) => m.key)).toEqual(
      expect.arrayContaining([
        'loss',
        'learning_rate',
        'grad_norm',
        'epoch',
        'eval_loss',
        'train_loss',
        'train_runtime',
      ]),
    );
    const history = await call(
      emulator,
      `${base}/metrics/get-history?run_id=${child?.info.run_id ?? ''}&metric_key=eval_loss`,
      { token },
    );
    expect((history.body as { metrics: unknown[] }).metrics).toHaveLength(2); // one per epoch (num_train_epochs 2)
    const missing = await call(emulator, `${base}/experiments/get-by-name?experiment_name=nope`, { token });
    expect(missing).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
  });

  test('registers the job output as a model version', async () => {
    const model = await client.modelVersions.createOrUpdate(RG, WSNAME, 'phi3-ultrachat', '1', {
      properties: {
        modelType: 'mlflow_model',
        modelUri: 'azureml://jobs/ftjob-ok/outputs/trained_model',
        description: 'fine-tuned',
      },
    });
    expect(model.id).toBe(`${WS}/models/phi3-ultrachat/versions/1`);
    const again = await call(emulator, `${WS}/models/phi3-ultrachat/versions/2?api-version=2022-10-01`, {
      method: 'PUT',
      token,
      body: { properties: { modelUri: 'azureml://jobs/no-such-job/outputs/trained_model' } },
    });
    expect(again).toMatchObject({ status: 400, body: { error: { code: 'UserError' } } });
  });

  test('deploys, routes traffic, scores with the endpoint key, and deletes the endpoint', async () => {
    const ep = 'ultrachat-completion-1';
    const endpoint = await client.onlineEndpoints.beginCreateOrUpdateAndWait(
      RG,
      WSNAME,
      ep,
      {
        location: LOCAL_AZURE.location,
        identity: { type: 'SystemAssigned' },
        properties: { authMode: 'Key', description: 'test' },
      },
      { updateIntervalInMs: 20 },
    );
    expect(endpoint.properties).toMatchObject({
      provisioningState: 'Succeeded',
      scoringUri: `${emulator.url}/inference/${ep}/score`,
    });

    const deployment = await client.onlineDeployments.beginCreateOrUpdateAndWait(
      RG,
      WSNAME,
      ep,
      'demo',
      {
        location: LOCAL_AZURE.location,
        sku: { name: 'Default', capacity: 1 },
        properties: {
          endpointComputeType: 'Managed',
          model: `${WS}/models/phi3-ultrachat/versions/1`,
          instanceType: 'Standard_NC6s_v3',
          livenessProbe: { initialDelay: 'PT10M' },
          requestSettings: { requestTimeout: 'PT1M30S' },
        },
      },
      { updateIntervalInMs: 20 },
    );
    expect(deployment.properties.provisioningState).toBe('Succeeded');

    const keys = await client.onlineEndpoints.listKeys(RG, WSNAME, ep);
    const scoringBody = {
      input_data: {
        input_string: [[{ role: 'user', content: 'How do I bake bread?' }]],
        parameters: { max_new_tokens: 50 },
      },
      params: {},
    };
    const noTraffic = await call(emulator, `/inference/${ep}/score`, {
      method: 'POST',
      token: keys.primaryKey ?? '',
      body: scoringBody,
    });
    expect(noTraffic.status).toBe(424);

    const updated = await client.onlineEndpoints.beginCreateOrUpdateAndWait(
      RG,
      WSNAME,
      ep,
      {
        location: LOCAL_AZURE.location,
        properties: { authMode: 'Key', traffic: { demo: 100 } },
      },
      { updateIntervalInMs: 20 },
    );
    expect(updated.properties.traffic).toEqual({ demo: 100 });

    const scored = await call(emulator, `/inference/${ep}/score`, {
      method: 'POST',
      token: keys.primaryKey ?? '',
      body: scoringBody,
      headers: { 'azureml-model-deployment': 'demo' },
    });
    expect(scored.status).toBe(200);
    const output = (scored.body as { output: string }).output;
    expect(output).toContain('How do I bake bread');
    const again = await call(emulator, `/inference/${ep}/score`, {
      method: 'POST',
      token: keys.secondaryKey ?? '',
      body: scoringBody,
    });
    expect(again.body).toEqual(scored.body);
    expect(
      (await call(emulator, `/inference/${ep}/score`, { method: 'POST', token: 'wrong', body: scoringBody })).status,
    ).toBe(401);
    const badRole = await call(emulator, `/inference/${ep}/score`, {
      method: 'POST',
      token: keys.primaryKey ?? '',
      body: { input_data: { input_string: [{ role: 'assistant', content: 'hi' }] } },
    });
    expect(badRole).toMatchObject({
      status: 400,
      body: { error: { code: 'BadRequest', message: expect.stringMatching(/no message with role 'user'/) } },
    });
    // A conversation that ends with the assistant's turn (the notebook's whole test_gen row) is answered.
    const endsWithAssistant = await call(emulator, `/inference/${ep}/score`, {
      method: 'POST',
      token: keys.primaryKey ?? '',
      body: {
        input_data: {
          input_string: [
            { role: 'user', content: 'How do I bake bread?' },
            { role: 'assistant', content: 'Start with flour.' },
          ],
        },
      },
    });
    expect(endsWithAssistant.status).toBe(200);

    await client.onlineEndpoints.beginDeleteAndWait(RG, WSNAME, ep, { updateIntervalInMs: 20 });
    await expect(client.onlineEndpoints.get(RG, WSNAME, ep)).rejects.toMatchObject({ statusCode: 404 });
    const gone = await call(emulator, `${WS}/onlineEndpoints/${ep}?api-version=2022-10-01`, {
      method: 'DELETE',
      token,
    });
    expect(gone.status).toBe(204);

    const resources = (await call(emulator, '/_emulator/resources')).body as {
      counts: { liveEndpoints: number };
      endpoints: { name: string; state: string; deletedAt: string | null }[];
      deployments: { state: string }[];
    };
    expect(resources.counts.liveEndpoints).toBe(0);
    expect(resources.endpoints).toEqual([
      expect.objectContaining({ name: ep, state: 'Gone', deletedAt: expect.any(String) }),
    ]);
    expect(resources.deployments).toEqual([expect.objectContaining({ state: 'Gone' })]);
    const billing = (await call(emulator, '/_emulator/billing')).body as {
      totals: { endpointSeconds: number; deploymentSeconds: number };
    };
    expect(billing.totals.endpointSeconds).toBeGreaterThan(0);
    expect(billing.totals.deploymentSeconds).toBeGreaterThan(0);
  });

  test('cancels a running job through the Location poller', async () => {
    // With the emulator's time standing still from the PUT to the cancel, the job is surely still running
    // when the cancel comes, however slow the machine; the poller then follows the cancel on real time.
    const poller = await withFrozenClock(emulator, async () => {
      await client.jobs.createOrUpdate(
        RG,
        WSNAME,
        'ftjob-cancel',
        pipelineJobBody({ compute: COMPUTE, train: TRAIN, test: TEST }) as JobBase,
      );
      return client.jobs.beginCancel(RG, WSNAME, 'ftjob-cancel', { updateIntervalInMs: 20 });
    });
    await poller.pollUntilDone();
    const job = await client.jobs.get(RG, WSNAME, 'ftjob-cancel');
    expect(job.properties.status).toBe('Canceled');
    expect(jobWalk(await jobRecord(emulator, 'ftjob-cancel'))).toEqual([
      ['NotStarted', 0],
      ['CancelRequested', 0],
      ['Canceled', 150],
    ]);
    // Cancelling a terminal job changes nothing.
    const res = await call(emulator, `${WS}/jobs/ftjob-cancel/cancel?api-version=2022-10-01`, {
      method: 'POST',
      token,
    });
    expect(res.status).toBe(200);
  });

  test('fails a job whose staged file is missing, naming the path', async () => {
    await client.jobs.createOrUpdate(
      RG,
      WSNAME,
      'ftjob-missing',
      pipelineJobBody({ compute: COMPUTE, train: 'LocalUpload/nope/train.jsonl', test: TEST }) as JobBase,
    );
    await waitForStatus('ftjob-missing', 'Failed');
    const job = await client.jobs.get(RG, WSNAME, 'ftjob-missing');
    expect(job.properties.properties?.['azureml.error.message']).toContain('LocalUpload/nope/train.jsonl');
  });

  test('rejects an input the component version does not declare, naming it', async () => {
    const body = pipelineJobBody({
      compute: COMPUTE,
      train: TRAIN,
      test: TEST,
      componentVersion: '0.0.51',
      extraInputs: { trust_remote_code: { job_input_type: 'literal', value: 'false' } },
    });
    const res = await call(emulator, `${WS}/jobs/ftjob-bad-input?api-version=2022-10-01`, {
      method: 'PUT',
      token,
      body,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: { code: 'UserError', message: expect.stringContaining("'trust_remote_code'") },
    });
  });

  test('rejects a job on a compute that does not exist', async () => {
    const res = await call(emulator, `${WS}/jobs/ftjob-no-compute?api-version=2022-10-01`, {
      method: 'PUT',
      token,
      body: pipelineJobBody({ compute: 'no-such-cluster', train: TRAIN, test: TEST }),
    });
    expect(res).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('no-such-cluster') } },
    });
  });

  test('logs what the SDK sent', async () => {
    const log = (await call(emulator, '/_emulator/requests?method=PUT')).body as {
      requests: { path: string; status: number }[];
    };
    expect(log.requests.some((r) => r.path.endsWith('/jobs/ftjob-ok') && r.status === 201)).toBe(true);
    expect(log.requests.some((r) => r.path.endsWith('/jobs/ftjob-ok') && r.status === 409)).toBe(true);
  });
});
