// RunHistory as azure-ai-ml's jobs.stream reads it, on a stepped clock with a private Azurite: the
// job's `default` output names its folder in the artifact store (workspaceartifactstore), the run
// details follow the job's clock and carry the log's SAS URL, the log user_logs/std_log.txt grows with
// the steps (readable the way the SDK reads it: datastore → account key → blob listing → SAS), the
// steps of the pipeline component are the run's children, and azureml-mlflow's artifact routes list
// the same files. Requests are shaped as the SDKs send them (no api-version on the data plane).
import { BlobSASPermissions, BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { LOCAL_AZURE } from '../../../src/config/local';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import {
  advance,
  armToken,
  blobContainer,
  call,
  chatRows,
  credentialFor,
  pipelineJobBody,
  startAzurite,
  startTestEmulator,
  storageGet,
  WS,
  type Azurite,
  createCluster,
} from './helpers';

const v = '?api-version=2022-10-01';
const HISTORY = `/history/v1.0${WS}`;
const MLFLOW = `/mlflow/v2.0${WS}/api/2.0/mlflow`;
const PHASE = 1000;
const CLOCK = { jobPhaseMs: PHASE, provisionMs: 100, deleteMs: 100, cancelMs: 500 };
const STEPS = [
  'ft_nlp_common_validation',
  'chat_completion_model_import',
  'chat_completion_datapreprocess',
  'chat_completion_finetune',
  'ft_nlp_model_converter',
];

let azurite: Azurite;
let emulator: RunningEmulator;
let token: string;

interface RunDetails {
  runId: string;
  status: string;
  parentRunId: string | null;
  rootRunId: string;
  dataContainerId: string;
  experimentId: string;
  target: string | null;
  startTimeUtc: string | null;
  endTimeUtc: string | null;
  createdTimeUtc: string;
  logFiles: Record<string, string>;
  error: { error: { code: string; message: string } } | null;
  warnings: null;
  properties: Record<string, string>;
  runTypeV2: Record<string, unknown>;
  duration: string | null;
}

interface Run {
  runId: string;
  parentRunId: string | null;
  status: string;
  displayName: string;
  runType: string;
  target: string | null;
  createdUtc: string;
  properties: Record<string, string>;
}

beforeAll(async () => {
  azurite = await startAzurite();
  emulator = await startTestEmulator({ azuriteBlobUrl: azurite.url, timeMode: 'stepped', clock: CLOCK });
  token = await armToken(emulator);
  await createCluster(emulator, token, 'gpu', { maxNodes: 2 });
  await advance(emulator, 100);
  const container = blobContainer(azurite);
  for (const [path, text] of [
    ['hist/train.jsonl', chatRows(40)],
    ['hist/test.jsonl', chatRows(10)],
    ['hist/bad.jsonl', `${chatRows(2)}{"prompt": "no messages"}\n`],
  ] as const) {
    await container.getBlockBlobClient(path).upload(text, Buffer.byteLength(text));
  }
}, 60_000);

afterAll(async () => {
  await emulator?.close();
  await azurite?.stop();
});

async function submit(name: string, train = 'hist/train.jsonl', experimentName = 'exp-history'): Promise<void> {
  const res = await call(emulator, `${WS}/jobs/${name}${v}`, {
    method: 'PUT',
    token,
    body: pipelineJobBody({ compute: 'gpu', train, test: 'hist/test.jsonl', experimentName }),
  });
  expect(res.status).toBe(201);
}

async function details(run: string): Promise<RunDetails> {
  const res = await call(emulator, `${HISTORY}/runs/${run}/details`, { token });
  expect(res.status).toBe(200);
  return res.body as RunDetails;
}

async function children(
  run: string,
  query = '',
): Promise<{ value: Run[]; continuationToken: string | null; nextLink: string | null }> {
  const res = await call(emulator, `${HISTORY}/runs/${run}/children${query}`, { token });
  expect(res.status).toBe(200);
  return res.body as { value: Run[]; continuationToken: string | null; nextLink: string | null };
}

/** The job's log as azure-ai-ml's stream reads it when the job has a `default` uri_folder output:
 *  the datastore named in the output's uri, its account key, the blobs under <prefix>/user_logs/, each
 *  read through a SAS URL it signs with that key. */
async function logThroughDatastore(job: string): Promise<Record<string, string>> {
  const jobBody = (await call(emulator, `${WS}/jobs/${job}${v}`, { token })).body as {
    properties: { outputs: Record<string, { jobOutputType: string; uri: string }> };
  };
  const output = jobBody.properties.outputs['default'];
  expect(output?.jobOutputType).toBe('uri_folder');
  const [datastoreName = '', prefix = ''] = (output?.uri.split('datastores/')[1] ?? '').split(/\/(.*)/s);
  const ds = (await call(emulator, `${WS}/datastores/${datastoreName}${v}`, { token })).body as {
    properties: { accountName: string; containerName: string; datastoreType: string };
  };
  expect(ds.properties.datastoreType).toBe('AzureBlob');
  const secrets = (
    await call(emulator, `${WS}/datastores/${datastoreName}/listSecrets${v}`, {
      method: 'POST',
      token,
      body: { expirableSecret: true },
    })
  ).body as { key: string };
  const service = new BlobServiceClient(
    azurite.url,
    new StorageSharedKeyCredential(ds.properties.accountName, secrets.key),
  );
  const container = service.getContainerClient(ds.properties.containerName);
  const logs: Record<string, string> = {};
  for await (const item of container.listBlobsFlat({ prefix: `${prefix}/user_logs/` })) {
    const url = await container
      .getBlobClient(item.name)
      .generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 60_000) });
    logs[item.name.slice(prefix.length + 1)] = (await storageGet(url)).text;
  }
  return logs;
}

test('a job gets a default output in the artifact store, which is a datastore of the workspace', async () => {
  await submit('hist-ok');
  const job = (await call(emulator, `${WS}/jobs/hist-ok${v}`, { token })).body as {
    properties: { outputs: Record<string, unknown> };
  };
  expect(job.properties.outputs['default']).toEqual({
    jobOutputType: 'uri_folder',
    mode: 'ReadWriteMount',
    uri: 'azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.hist-ok',
    description: null,
  });
  expect(job.properties.outputs['trained_model']).toMatchObject({ jobOutputType: 'mlflow_model' });
  const store = await call(emulator, `${WS}/datastores/workspaceartifactstore${v}`, { token });
  expect(store.body).toMatchObject({
    name: 'workspaceartifactstore',
    properties: {
      datastoreType: 'AzureBlob',
      containerName: 'azureml',
      isDefault: false,
      accountName: 'devstoreaccount1',
    },
  });
  const all = (await call(emulator, `${WS}/datastores${v}`, { token })).body as { value: { name: string }[] };
  expect(all.value.map((d) => d.name)).toEqual(['workspaceblobstore', 'workspaceartifactstore']);
  const defaults = (await call(emulator, `${WS}/datastores${v}&isDefault=true`, { token })).body as {
    value: { name: string }[];
  };
  expect(defaults.value.map((d) => d.name)).toEqual(['workspaceblobstore']);
  expect((await call(emulator, `${WS}/datastores/nostore${v}`, { token })).status).toBe(404);
});

test('run details follow the job clock and the log grows with its steps, through RunHistory and the datastore', async () => {
  const seen: string[] = [];
  const logs: string[] = [];
  const start = await details('hist-ok');
  expect(start).toMatchObject({
    runId: 'hist-ok',
    status: 'NotStarted',
    parentRunId: null,
    rootRunId: 'hist-ok',
    dataContainerId: 'dcid.hist-ok',
    startTimeUtc: null,
    endTimeUtc: null,
    error: null,
    warnings: null,
    properties: { 'azureml.runsource': 'azureml.PipelineRun' },
  });
  expect(Object.keys(start.logFiles)).toEqual(['user_logs/std_log.txt']);
  for (let i = 0; i < 7; i++) {
    const d = await details('hist-ok');
    seen.push(d.status);
    // The log file URL in the run details is a SAS URL of the blob: readable without a token.
    const url = d.logFiles['user_logs/std_log.txt'] ?? '';
    // In the storage account's production-style form, as Azure hands them out (the cloud document's
    // storage suffix: core.localhost and Azurite's port).
    expect(url).toMatch(
      new RegExp(
        `^http://devstoreaccount1\\.blob\\.core\\.localhost:${new URL(azurite.url).port}/azureml/ExperimentRun/dcid\\.hist-ok/user_logs/std_log\\.txt\\?.*sig=`,
      ),
    );
    const { status, text } = await storageGet(url);
    expect(status).toBe(200);
    // The same text, read the way the SDK's stream reads it.
    expect(await logThroughDatastore('hist-ok')).toEqual({ 'user_logs/std_log.txt': text });
    if (logs.length > 0) expect(text.startsWith(logs[logs.length - 1] ?? '')).toBe(true);
    logs.push(text);
    await advance(emulator, PHASE);
  }
  expect(seen).toEqual(['NotStarted', 'Queued', 'Preparing', 'Running', 'Finalizing', 'Completed', 'Completed']);
  const lines = (i: number): string[] => (logs[i] ?? '').trimEnd().split('\n');
  expect(lines(0)).toEqual([
    expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z Pipeline job hist-ok submitted to experiment 'exp-history'\.$/),
    expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z Job hist-ok: status NotStarted$/),
  ]);
  // Preparing: the steps before the fine-tune step start (and the first ones end) on the cluster.
  expect(logs[2]).toContain(
    'Step chat_completion_pipeline/ft_nlp_common_validation started: component azureml://registries/azureml/components/ft_nlp_common_validation/versions/0.0.80, compute gpu.',
  );
  expect(logs[2]).not.toContain('chat_completion_finetune');
  // Running: the fine-tune step logs the Trainer's lines as training advances.
  expect(logs[3]).toContain('Step chat_completion_pipeline/chat_completion_datapreprocess completed.');
  expect(logs[3]).toContain('Step chat_completion_pipeline/chat_completion_finetune started');
  expect(logs[4]).toMatch(
    /chat_completion_finetune: \{'loss': [\d.]+, 'grad_norm': [\d.]+, 'learning_rate': [\d.e+-]+, 'epoch': [\d.]+\}/,
  );
  expect(logs[4]).toMatch(/chat_completion_finetune: \{'eval_loss': [\d.]+, 'eval_runtime'/);
  expect(logs[4]).toMatch(
    // The end-of-training line comes before the step ends.
    /chat_completion_finetune: \{'train_runtime': [\d.]+, .*'train_loss': [\d.]+, 'epoch': 2\.0\}\n\S+ Step chat_completion_pipeline\/chat_completion_finetune completed\.\n/,
  );
  expect(logs[4]).toContain('Step chat_completion_pipeline/ft_nlp_model_converter started');
  expect(logs[5]).toContain('Step chat_completion_pipeline/ft_nlp_model_converter completed.');
  expect(lines(5).at(-1)).toMatch(/ Job hist-ok: status Completed$/);
  expect(logs[6]).toBe(logs[5]);
  expect(lines(5).length).toBeGreaterThan(lines(3).length);
  const done = await details('hist-ok');
  expect(done).toMatchObject({
    status: 'Completed',
    target: 'gpu',
    duration: expect.stringMatching(/^00:00:0\d\.\d{7}$/),
  });
  expect(Date.parse(done.endTimeUtc ?? '')).toBeGreaterThan(Date.parse(done.startTimeUtc ?? ''));
});

test("the steps of the job's pipeline component are its child runs, each with its own status", async () => {
  await submit('hist-kids');
  expect((await children('hist-kids')).value).toEqual([]);
  await advance(emulator, 2 * PHASE + PHASE / 2); // halfway through Preparing
  let kids = (await children('hist-kids')).value;
  expect(kids.map((k) => [k.displayName, k.status])).toEqual([
    ['ft_nlp_common_validation', 'Completed'],
    ['chat_completion_model_import', 'Running'],
  ]);
  expect(kids[0]).toMatchObject({
    parentRunId: 'hist-kids',
    runType: 'azureml.StepRun',
    target: 'gpu',
    properties: {
      'azureml.nodeid': 'ft_nlp_common_validation',
      'azureml.moduleid': 'azureml://registries/azureml/components/ft_nlp_common_validation/versions/0.0.80',
    },
  });
  await advance(emulator, PHASE); // halfway through Running
  kids = (await children('hist-kids')).value;
  expect(kids.map((k) => k.status)).toEqual(['Completed', 'Completed', 'Completed', 'Running']);
  // The fine-tune step's run is the MLflow child run (same id), so its metrics are there.
  const finetune = kids[3];
  const mlflowRun = await call(emulator, `${MLFLOW}/runs/get?run_id=${finetune?.runId ?? ''}`, { token });
  expect(mlflowRun.body).toMatchObject({ run: { info: { run_name: 'chat_completion_finetune', status: 'RUNNING' } } });
  // A step is a run of its own: its details and its (empty) children.
  const step = await details(finetune?.runId ?? '');
  expect(step).toMatchObject({ status: 'Running', parentRunId: 'hist-kids', rootRunId: 'hist-kids', logFiles: {} });
  expect((await children(finetune?.runId ?? '')).value).toEqual([]);
  // Paged as the SDK pages: $top, then the continuation token the nextLink carries.
  await advance(emulator, 2 * PHASE);
  const first = await children('hist-kids', '?$top=2');
  expect(first.value.map((k) => k.displayName)).toEqual(STEPS.slice(0, 2));
  expect(first.nextLink).toContain('$continuationtoken=');
  const names = [...first.value.map((k) => k.displayName)];
  let next = first.nextLink;
  while (next) {
    const res = await call(emulator, next, { token });
    const body = res.body as { value: Run[]; nextLink: string | null };
    names.push(...body.value.map((k) => k.displayName));
    next = body.nextLink;
  }
  expect(names).toEqual(STEPS);
  // GET runs/{run}: the Run itself.
  const run = await call(emulator, `${HISTORY}/runs/hist-kids`, { token });
  expect(run.body).toMatchObject({
    runId: 'hist-kids',
    status: 'Completed',
    runType: 'azureml.PipelineRun',
    displayName: 'Phi-3-mini-4k-instruct-ultrachat-test',
    uniqueChildRunComputeTargets: ['gpu'],
  });
});

test('a job that fails its data validation fails in the validation step, with the error in the run details', async () => {
  await submit('hist-bad', 'hist/bad.jsonl');
  await advance(emulator, 4 * PHASE);
  const d = await details('hist-bad');
  expect(d.status).toBe('Failed');
  expect(d.error?.error).toMatchObject({
    code: 'UserError',
    message: expect.stringContaining(
      'Pipeline step chat_completion_pipeline/ft_nlp_common_validation failed. ACFTDataException',
    ),
  });
  expect((await children('hist-bad')).value.map((k) => [k.displayName, k.status])).toEqual([
    ['ft_nlp_common_validation', 'Failed'],
  ]);
  const log = (await storageGet(d.logFiles['user_logs/std_log.txt'] ?? '')).text;
  expect(log).toContain('Step chat_completion_pipeline/ft_nlp_common_validation failed: UserError.');
  expect(log).toMatch(/ Job hist-bad: status Failed\n.* Error: UserError: Pipeline step /);
  expect(log).not.toContain('chat_completion_model_import');
});

test('a cancelled job cancels the step it was in; later steps never start', async () => {
  await submit('hist-cancel');
  await advance(emulator, 3 * PHASE + PHASE / 2); // Running
  expect((await call(emulator, `${WS}/jobs/hist-cancel/cancel${v}`, { method: 'POST', token })).status).toBe(202);
  expect((await details('hist-cancel')).status).toBe('CancelRequested');
  expect((await children('hist-cancel')).value.map((k) => k.status)).toEqual([
    'Completed',
    'Completed',
    'Completed',
    'CancelRequested',
  ]);
  await advance(emulator, CLOCK.cancelMs);
  expect((await details('hist-cancel')).status).toBe('Canceled');
  expect((await children('hist-cancel')).value.map((k) => k.status).at(-1)).toBe('Canceled');
  const log = (await storageGet((await details('hist-cancel')).logFiles['user_logs/std_log.txt'] ?? '')).text;
  expect(log).toContain('Step chat_completion_pipeline/chat_completion_finetune canceled.');
  expect(log).not.toContain('ft_nlp_model_converter');
});

test('the run answers under its experiment name and id; other experiments, runs and workspaces are 404', async () => {
  const mlflowExperiment = (
    await call(emulator, `${MLFLOW}/experiments/get-by-name?experiment_name=exp-history`, { token })
  ).body as { experiment: { experiment_id: string } };
  const id = mlflowExperiment.experiment.experiment_id;
  expect((await details('hist-ok')).experimentId).toBe(id);
  for (const path of [
    `${HISTORY}/experiments/exp-history/runs/hist-ok/details`,
    `${HISTORY}/experimentids/${id}/runs/hist-ok/details`,
    `${HISTORY}/experiments/exp-history/runs/hist-ok`,
  ]) {
    expect((await call(emulator, path, { token })).body).toMatchObject({ runId: 'hist-ok', status: 'Completed' });
  }
  for (const path of [
    `${HISTORY}/experiments/other-exp/runs/hist-ok/details`,
    `${HISTORY}/experimentids/00000000-0000-4000-8000-000000000000/runs/hist-ok/details`,
    `${HISTORY}/runs/no-such-run/details`,
    `${HISTORY}/runs/no-such-run/children`,
  ]) {
    const res = await call(emulator, path, { token });
    expect({ path, status: res.status, body: res.body }).toMatchObject({
      path,
      status: 404,
      body: { error: { code: 'UserError', message: expect.stringContaining('was not found') } },
    });
  }
  const otherWs = HISTORY.replace(LOCAL_AZURE.workspace, 'ws-nope');
  expect((await call(emulator, `${otherWs}/runs/hist-ok/details`, { token })).status).toBe(404);
});

test('RunHistory wants a bearer token for the management plane', async () => {
  const path = `${HISTORY}/runs/hist-ok/details`;
  expect(await call(emulator, path)).toMatchObject({
    status: 401,
    body: { error: { code: 'InvalidAuthenticationToken' } },
  });
  const storage = await credentialFor(emulator).getToken('https://storage.azure.com/.default');
  expect(await call(emulator, path, { token: storage.token })).toMatchObject({
    status: 401,
    body: { error: { code: 'InvalidAuthenticationTokenAudience' } },
  });
});

test("azureml-mlflow's artifact routes and MLflow's artifacts/list show the run's log", async () => {
  const base = `${HISTORY}/experiments/exp-history/runs/hist-ok/artifacts`;
  const list = (await call(emulator, base, { token })).body as {
    value: { path: string; origin: string; container: string; dataPath: { dataStoreName: string } }[];
  };
  expect(list.value).toEqual([
    expect.objectContaining({
      artifactId: 'ExperimentRun/dcid.hist-ok/user_logs/std_log.txt',
      path: 'user_logs/std_log.txt',
      origin: 'ExperimentRun',
      container: 'dcid.hist-ok',
      dataPath: expect.objectContaining({
        dataStoreName: 'workspaceartifactstore',
        relativePath: 'ExperimentRun/dcid.hist-ok/user_logs/std_log.txt',
      }),
    }),
  ]);
  const inPath = (await call(emulator, `${base}/path?path=user_logs`, { token })).body as { value: { path: string }[] };
  expect(inPath.value.map((a) => a.path)).toEqual(['user_logs/std_log.txt']);
  expect(((await call(emulator, `${base}/path?path=outputs`, { token })).body as { value: unknown[] }).value).toEqual(
    [],
  );
  const info = (await call(emulator, `${base}/contentinfo?path=user_logs/std_log.txt`, { token })).body as {
    contentUri: string;
    path: string;
  };
  expect(info.path).toBe('user_logs/std_log.txt');
  expect((await storageGet(info.contentUri)).text).toMatch(/ Job hist-ok: status Completed\n$/);
  expect((await call(emulator, `${base}/contentinfo?path=nope.txt`, { token })).status).toBe(404);

  const root = (await call(emulator, `${MLFLOW}/artifacts/list?run_id=hist-ok`, { token })).body;
  expect(root).toEqual({
    root_uri: 'azureml://experiments/exp-history/runs/hist-ok/artifacts',
    files: [{ path: 'user_logs', is_dir: true }],
  });
  const logs = (await call(emulator, `${MLFLOW}/artifacts/list?run_id=hist-ok&path=user_logs`, { token })).body as {
    files: { path: string; is_dir: boolean; file_size: number }[];
  };
  expect(logs.files).toEqual([{ path: 'user_logs/std_log.txt', is_dir: false, file_size: expect.any(Number) }]);
  expect(logs.files[0]?.file_size).toBe(Buffer.byteLength((await storageGet(info.contentUri)).text));
  expect((await call(emulator, `${MLFLOW}/artifacts/list?run_id=nope`, { token })).body).toMatchObject({
    error_code: 'RESOURCE_DOES_NOT_EXIST',
  });
});
