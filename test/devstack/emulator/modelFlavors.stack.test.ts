// Registering a job's MLflow model output as an mlflow_model answers with the flavors of the MLmodel
// file in that output (what the pipeline's converter step writes: the base model's flavors), as GET
// and list do afterwards; the body is the one azure-ai-ml's ModelOperations.create_or_update sends for
// Model(path="azureml://jobs/<job>/outputs/trained_model", type="mlflow_model").
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { CATALOG_DATA } from '../../../devstack/emulator/catalog/data';
import { advance, armToken, call, pipelineJobBody, startTestEmulator, WS, createCluster } from './helpers';

const v = '?api-version=2022-10-01';
const PHASE = 1000;

let emulator: RunningEmulator;
let token: string;

interface ModelVersion {
  id: string;
  name: string;
  properties: {
    modelType: string;
    modelUri: string;
    jobName?: string;
    description?: string;
    flavors?: Record<string, { data: Record<string, string> }>;
  };
}

/** What azure-ai-ml sends (Model._to_rest_object(), serialised). */
function sdkBody(output: string, modelType = 'mlflow_model', job = 'flav-job'): unknown {
  return {
    properties: {
      description: 'fine-tuned',
      tags: {},
      properties: {},
      modelType,
      modelUri: `azureml://jobs/${job}/outputs/${output}`,
      isAnonymous: false,
      isArchived: false,
    },
  };
}

async function register(name: string, version: string, body: unknown) {
  return call(emulator, `${WS}/models/${name}/versions/${version}${v}`, { method: 'PUT', token, body });
}

beforeAll(async () => {
  emulator = await startTestEmulator({
    timeMode: 'stepped',
    clock: { jobPhaseMs: PHASE, provisionMs: 100, deleteMs: 100, cancelMs: 100 },
  });
  token = await armToken(emulator);
  await createCluster(emulator, token, 'gpu');
  await advance(emulator, 100);
  // The notebook's job, plus the fine-tune step's PyTorch folder as a uri_folder output of its own.
  const body = pipelineJobBody({ compute: 'gpu', train: 'x/train.jsonl', test: 'x/test.jsonl' });
  const props = body.properties as unknown as {
    outputs: Record<string, unknown>;
    jobs: { chat_completion_pipeline: { outputs: Record<string, unknown> } };
  };
  props.outputs['pytorch'] = { jobOutputType: 'uri_folder' };
  props.jobs.chat_completion_pipeline.outputs['pytorch_model_folder'] = {
    value: '${{parent.outputs.pytorch}}',
    type: 'literal',
  };
  expect((await call(emulator, `${WS}/jobs/flav-job${v}`, { method: 'PUT', token, body })).status).toBe(201);
});

afterAll(async () => {
  await emulator?.close();
});

test('an mlflow_model from a running job is refused; once Completed it answers with the MLmodel flavors', async () => {
  const early = await register('phi3-ft', '1', sdkBody('trained_model'));
  expect(early).toMatchObject({
    status: 400,
    body: {
      error: { code: 'UserError', target: 'properties.modelUri', message: expect.stringContaining('is NotStarted') },
    },
  });
  await advance(emulator, 6 * PHASE);

  const created = await register('phi3-ft', '1', sdkBody('trained_model'));
  expect(created.status).toBe(201);
  const model = created.body as ModelVersion;
  // The base model the job fine-tuned (its mlflow_model_path input) is the catalog's Phi-3 v15: the
  // converter writes its flavors.
  const phi3 = CATALOG_DATA.models.seed[0];
  expect(model.properties).toMatchObject({
    modelType: 'mlflow_model',
    modelUri: 'azureml://jobs/flav-job/outputs/trained_model',
    jobName: 'flav-job',
    flavors: phi3?.flavors,
  });
  expect(Object.keys(model.properties.flavors ?? {}).sort()).toEqual(['hftransformersv2', 'python_function']);
  expect(model.properties.flavors?.['python_function']?.data).toMatchObject({
    loader_module: 'azureml.evaluate.mlflow.hftransformers',
    env: 'conda.yaml',
  });
  expect(model.properties.flavors?.['hftransformersv2']?.data).toMatchObject({
    task_type: 'chat-completion',
    hf_pretrained_class: 'AutoModelForCausalLM',
  });

  // GET and list carry them too.
  const got = (await call(emulator, `${WS}/models/phi3-ft/versions/1${v}`, { token })).body as ModelVersion;
  expect(got.properties.flavors).toEqual(model.properties.flavors);
  const listed = (await call(emulator, `${WS}/models/phi3-ft/versions${v}`, { token })).body as {
    value: ModelVersion[];
  };
  expect(listed.value.map((m) => m.properties.flavors)).toEqual([model.properties.flavors]);

  // A second PUT of the same version (an update) keeps them.
  const again = await register('phi3-ft', '1', {
    properties: { ...(sdkBody('trained_model') as { properties: object }).properties, description: 'updated' },
  });
  expect(again.status).toBe(200);
  expect((again.body as ModelVersion).properties).toMatchObject({
    description: 'updated',
    flavors: model.properties.flavors,
  });
});

test('flavors the caller gives are kept; a custom_model has none', async () => {
  const given = { python_function: { data: { loader_module: 'mine' } } };
  const own = await register('phi3-own', '1', {
    properties: { ...(sdkBody('trained_model') as { properties: object }).properties, flavors: given },
  });
  expect((own.body as ModelVersion).properties.flavors).toEqual(given);
  const custom = await register('phi3-custom', '1', sdkBody('trained_model', 'custom_model'));
  expect(custom.status).toBe(201);
  expect((custom.body as ModelVersion).properties.flavors).toBeUndefined();
  // A uri_folder output is registered as custom_model without flavors, too.
  const folder = await register('phi3-folder', '1', sdkBody('pytorch', 'custom_model'));
  expect(folder.status).toBe(201);
  expect((folder.body as ModelVersion).properties.flavors).toBeUndefined();
});

test('an mlflow_model from an output that holds no MLmodel, or that the job does not have, is refused', async () => {
  const folder = await register('phi3-bad', '1', sdkBody('pytorch'));
  expect(folder).toMatchObject({
    status: 400,
    body: {
      error: {
        code: 'UserError',
        target: 'properties.modelUri',
        message: expect.stringContaining("Output 'pytorch' of job 'flav-job' is a uri_folder output"),
      },
    },
  });
  const missing = await register('phi3-bad', '1', sdkBody('nope'));
  expect(missing).toMatchObject({
    status: 400,
    body: { error: { message: expect.stringContaining("has no output 'nope'") } },
  });
  const noJob = await register('phi3-bad', '1', sdkBody('trained_model', 'mlflow_model', 'no-such-job'));
  expect(noJob).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('was not found') } } });
  expect((await call(emulator, `${WS}/models/phi3-bad/versions/1${v}`, { token })).status).toBe(404);
});
