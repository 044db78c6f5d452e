// The `azureml` registry as the notebook's azure-ai-ml reaches it: discovery, then "latest" by
// `$orderBy=createdtime desc&$top=1` on the data plane; and the archived state of today.
import { LOCAL_AZURE } from '../../../src/config/local';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { armToken, call, startTestEmulator } from './helpers';

interface Page {
  value: { id: string; name: string; properties: Record<string, unknown> }[];
  nextLink?: string;
}

let seed: RunningEmulator;
let current: RunningEmulator;
let token: string;

beforeAll(async () => {
  seed = await startTestEmulator();
  current = await startTestEmulator({ catalog: 'current', clientSecret: seed.clientSecret });
  token = await armToken(seed);
});

afterAll(async () => {
  await seed?.close();
  await current?.close();
});

async function dataPlaneBase(emulator: RunningEmulator, registry = 'azureml'): Promise<string> {
  const res = await call(emulator, `/registrymanagement/v1.0/registries/${registry}/discovery`, {
    token: await armToken(emulator),
  });
  expect(res.status).toBe(200);
  const dto = res.body as { primaryRegionResourceProviderUri: string; subscriptionId: string; resourceGroup: string };
  return `${dto.primaryRegionResourceProviderUri}mferp/managementfrontend/subscriptions/${dto.subscriptionId}/resourceGroups/${dto.resourceGroup}/providers/Microsoft.MachineLearningServices/registries/${registry}`;
}

const LATEST = 'api-version=2021-10-01-dataplanepreview&$orderBy=createdtime%20desc&$top=1';

test('discovery names the registry subscription and the emulator as resource provider', async () => {
  const res = await call(seed, '/registrymanagement/v1.0/registries/AzureML/discovery', { token });
  expect(res.body).toMatchObject({
    registryName: 'azureml',
    subscriptionId: LOCAL_AZURE.registrySubscriptionId,
    resourceGroup: LOCAL_AZURE.registryResourceGroup,
    primaryRegionResourceProviderUri: `${seed.url}/`,
  });
  expect((await call(seed, '/registrymanagement/v1.0/registries/azureml/discovery')).status).toBe(401);
  expect((await call(seed, '/registrymanagement/v1.0/registries/nope/discovery', { token })).status).toBe(404);
});

test('latest Phi-3-mini-4k-instruct is version 15 with the tags the notebook reads', async () => {
  const base = await dataPlaneBase(seed);
  const res = await call(seed, `${base}/models/Phi-3-mini-4k-instruct/versions?${LATEST}`, { token });
  const page = res.body as Page;
  expect(page.value).toHaveLength(1);
  const model = page.value[0];
  expect(model?.id).toBe('azureml://registries/azureml/models/Phi-3-mini-4k-instruct/versions/15');
  expect(model?.name).toBe('15');
  const tags = model?.properties['tags'] as Record<string, string>;
  expect(tags['finetune_compute_allow_list']).toBe(
    "['Standard_NC24ads_A100_v4', 'Standard_NC48ads_A100_v4', 'Standard_NC96ads_A100_v4', 'Standard_ND96asr_v4', 'Standard_ND96amsr_A100_v4']",
  );
  expect(tags['inference_compute_allow_list']).toContain("'Standard_NC6s_v3'");
  expect(JSON.parse(tags['model_specific_defaults'] ?? '{}')).toMatchObject({
    apply_lora: 'true',
    num_train_epochs: 1,
    learning_rate: 5e-6,
    learning_rate_max: 5e-5,
  });
  expect(tags['model_specific_defaults']).toContain('"learning_rate": 5e-06');
  expect(tags['FinetuneRetirementDate']).toBeUndefined();
  expect(model?.properties['isArchived']).toBe(false);
});

test('latest chat_completion_pipeline is 0.0.82; versions page with nextLink in either order', async () => {
  const base = await dataPlaneBase(seed);
  const latest = (await call(seed, `${base}/components/chat_completion_pipeline/versions?${LATEST}`, { token }))
    .body as Page;
  expect(latest.value.map((v) => v.name)).toEqual(['0.0.82']);
  const spec = latest.value[0]?.properties['componentSpec'] as {
    inputs: Record<string, { type: string; optional?: boolean; default?: unknown }>;
    outputs: Record<string, { type: string }>;
  };
  expect(spec.inputs['task_name']).toMatchObject({ type: 'string', optional: false, default: 'ChatCompletion' });
  expect(spec.inputs['number_of_gpu_to_use_finetuning']).toMatchObject({ type: 'integer', min: 1 });
  expect(spec.outputs['mlflow_model_folder']).toMatchObject({ type: 'mlflow_model' });

  const names: string[] = [];
  let next: string | undefined =
    `${base}/components/chat_completion_pipeline/versions?api-version=2021-10-01-dataplanepreview&$orderBy=createdtime%20asc&$top=2`;
  while (next) {
    const page: Page = (await call(seed, next, { token })).body as Page;
    names.push(...page.value.map((v) => v.name));
    next = page.nextLink;
  }
  expect(names).toEqual(['0.0.51', '0.0.78', '0.0.82']);

  const one = await call(
    seed,
    `${base}/components/chat_completion_pipeline/versions/0.0.51?api-version=2021-10-01-dataplanepreview`,
    { token },
  );
  expect(
    (one.body as { properties: { componentSpec: { inputs: Record<string, unknown> } } }).properties.componentSpec
      .inputs['trust_remote_code'],
  ).toBeUndefined();
  expect(
    (
      await call(
        seed,
        `${base}/components/chat_completion_pipeline/versions/9.9.9?api-version=2021-10-01-dataplanepreview`,
        { token },
      )
    ).status,
  ).toBe(404);
});

test("a pipeline component version carries its steps' full definitions (compute, resources, inputs, outputs)", async () => {
  const base = await dataPlaneBase(seed);
  // What azure-ai-ml's ComponentOperations.get sends for ml_client_registry.components.get(name, version).
  const res = await call(
    seed,
    `${base}/components/chat_completion_pipeline/versions/0.0.82?api-version=2021-10-01-dataplanepreview`,
    { token },
  );
  expect(res.status).toBe(200);
  const spec = (res.body as { properties: { componentSpec: { type: string; jobs: Record<string, unknown> } } })
    .properties.componentSpec;
  expect(spec.type).toBe('pipeline');
  expect(Object.keys(spec.jobs)).toEqual([
    'ft_nlp_common_validation',
    'chat_completion_model_import',
    'chat_completion_datapreprocess',
    'chat_completion_finetune',
    'ft_nlp_model_converter',
  ]);
  expect(spec.jobs['ft_nlp_common_validation']).toMatchObject({
    name: 'ft_nlp_common_validation',
    type: 'command',
    componentId: 'azureml://registries/azureml/components/ft_nlp_common_validation/versions/0.0.80',
    computeId: '${{parent.inputs.compute_model_import}}',
    resources: { instance_type: '${{parent.inputs.instance_type_model_import}}' },
    inputs: {
      train_file_path: { job_input_type: 'literal', value: '${{parent.inputs.train_file_path}}' },
      task_name: { job_input_type: 'literal', value: 'chat-completion' },
      user_column_names: { job_input_type: 'literal', value: 'messages' },
    },
  });
  expect(spec.jobs['chat_completion_finetune']).toMatchObject({
    computeId: '${{parent.inputs.compute_finetune}}',
    resources: { instance_count: '${{parent.inputs.num_nodes_finetune}}' },
    distribution: {
      distribution_type: 'PyTorch',
      process_count_per_instance: '${{parent.inputs.number_of_gpu_to_use_finetuning}}',
    },
    inputs: {
      model_selector_output: {
        job_input_type: 'literal',
        value: '${{parent.jobs.chat_completion_model_import.outputs.output_dir}}',
      },
    },
    outputs: { pytorch_model_folder: { type: 'literal', value: '${{parent.outputs.pytorch_model_folder}}' } },
  });
  expect(spec.jobs['ft_nlp_model_converter']).toMatchObject({
    outputs: { mlflow_model_folder: { type: 'literal', value: '${{parent.outputs.mlflow_model_folder}}' } },
  });
  // The ARM path (2024-04-01) serves the same definition.
  const arm = await call(
    seed,
    `/subscriptions/${LOCAL_AZURE.registrySubscriptionId}/resourceGroups/${LOCAL_AZURE.registryResourceGroup}/providers/Microsoft.MachineLearningServices/registries/azureml/components/chat_completion_pipeline/versions/0.0.82?api-version=2024-04-01`,
    { token },
  );
  expect((arm.body as { properties: { componentSpec: unknown } }).properties.componentSpec).toEqual(spec);
});

test('the same listing answers at the ARM path with api-version 2024-04-01', async () => {
  const path = `/subscriptions/${LOCAL_AZURE.registrySubscriptionId}/resourceGroups/${LOCAL_AZURE.registryResourceGroup}/providers/Microsoft.MachineLearningServices/registries/azureml/models/Phi-3-mini-4k-instruct/versions/15?api-version=2024-04-01`;
  expect((await call(seed, path, { token })).status).toBe(200);
  expect((await call(seed, path.replace('2024-04-01', '2019-01-01'), { token })).body).toMatchObject({
    error: { code: 'NoRegisteredProviderFound' },
  });
  // 2022-10-01 has no registries.
  expect((await call(seed, path.replace('2024-04-01', '2022-10-01'), { token })).body).toMatchObject({
    error: {
      code: 'NoRegisteredProviderFound',
      message: expect.stringContaining("for type 'registries/models/versions'"),
    },
  });
});

test("the 'current' catalog serves Phi-3 archived and retired, its allow lists in system_metadata", async () => {
  const base = await dataPlaneBase(current);
  const currentToken = await armToken(current);
  // Archived versions are not listed by default, so "latest" finds nothing.
  const active = (
    await call(current, `${base}/models/Phi-3-mini-4k-instruct/versions?${LATEST}`, { token: currentToken })
  ).body as Page;
  expect(active.value).toEqual([]);
  const all = (
    await call(current, `${base}/models/Phi-3-mini-4k-instruct/versions?${LATEST}&listViewType=All`, {
      token: currentToken,
    })
  ).body as Page;
  const props = all.value[0]?.properties ?? {};
  expect(props).toMatchObject({ isArchived: true });
  // The allow-list tags are gone; system_metadata travels as one JSON string in the version's properties.
  expect((props['tags'] as Record<string, string>)['finetune_compute_allow_list']).toBeUndefined();
  const metadata = JSON.parse((props['properties'] as Record<string, string>)['system_metadata'] ?? '{}') as {
    deprecation?: Record<string, string>;
    supportedComputes?: Record<string, string[]>;
  };
  expect(metadata.deprecation?.['finetuneRetirementDate']).toBe('2025-08-30T00:00:00.000000Z');
  expect(metadata.supportedComputes?.['inferenceComputes']?.[0]).toBe('Standard_NC6s_v3');
});

test("the 'current' catalog: Phi-4 v8 is the latest Phi-4; Phi-3-small-8k-instruct is retired without being archived", async () => {
  const base = await dataPlaneBase(current);
  const currentToken = await armToken(current);
  const phi4 = (await call(current, `${base}/models/Phi-4/versions?${LATEST}`, { token: currentToken })).body as Page;
  expect(phi4.value.map((v) => v.id)).toEqual(['azureml://registries/azureml/models/Phi-4/versions/8']);
  const meta = JSON.parse(
    (phi4.value[0]?.properties['properties'] as Record<string, string>)['system_metadata'] ?? '{}',
  ) as Record<string, unknown>;
  expect(meta).toMatchObject({ tasks: { fineTuningTasks: ['chat-completion'] }, preview: true });
  expect(meta['deprecation']).toBeUndefined();
  const small = (
    await call(current, `${base}/models/Phi-3-small-8k-instruct/versions?${LATEST}`, { token: currentToken })
  ).body as Page;
  expect(small.value[0]?.properties).toMatchObject({ isArchived: false });
});

test('model containers are listed (what models.list(registry_name=...) asks), archived ones only on request', async () => {
  const base = await dataPlaneBase(current);
  const currentToken = await armToken(current);
  const q = 'api-version=2021-10-01-dataplanepreview';
  const active = (await call(current, `${base}/models?${q}`, { token: currentToken })).body as Page;
  expect(active.value.map((c) => c.name).sort()).toEqual(['Llama-2-7b-chat', 'Phi-3-small-8k-instruct', 'Phi-4']);
  expect(active.value.find((c) => c.name === 'Phi-4')?.properties).toMatchObject({
    isArchived: false,
    latestVersion: '8',
  });
  const archived = (await call(current, `${base}/models?${q}&listViewType=ArchivedOnly`, { token: currentToken }))
    .body as Page;
  expect(archived.value).toHaveLength(7);
  // Pages of $top, continued by nextLink.
  const first = (await call(current, `${base}/models?${q}&listViewType=All&$top=4`, { token: currentToken }))
    .body as Page;
  expect(first.value).toHaveLength(4);
  expect(first.nextLink).toContain('%24skip=4');
  const seedContainers = (await call(seed, `${base.replace(current.url, seed.url)}/models?${q}`, { token }))
    .body as Page;
  expect(seedContainers.value.map((c) => c.name)).toEqual(['Phi-3-mini-4k-instruct']);
});
