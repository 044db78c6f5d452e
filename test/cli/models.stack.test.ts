// `ftflow models` (issue 15 item 5): the registry's fine-tunable chat-completion models, read through the
// product's registry client, as the built CLI prints them: against today's registry (an emulator of this
// file's own with the `current` catalog: system_metadata form) and the seed's (the shared stack: tags form).
import { ftflow } from '../helpers/frontEnds';
import { emulatorEnv, startPrivateEmulator, type RestartableServer } from '../helpers/privateStack';

interface Report {
  registry: string;
  task: string;
  checkedAt: string;
  models: {
    name: string;
    version: string;
    retired: boolean;
    isArchived: boolean;
    preview: boolean;
    finetuneRetirementDate?: string;
    finetuneComputeAllowList?: string[];
    inferenceComputeAllowList?: string[];
    allowListSource?: string;
  }[];
}

let today: RestartableServer;
let todayEnv: Record<string, string>;
/** No Temporal is needed: the command reads Azure only. */
const QUEUE = 'unused';

beforeAll(async () => {
  today = await startPrivateEmulator({ catalog: 'current' });
  todayEnv = emulatorEnv(today);
}, 60_000);

afterAll(async () => {
  await today?.dispose();
});

test("today's registry: Phi-4 v8 alone, current (preview), with its allow lists from system_metadata", async () => {
  const ran = await ftflow(['models'], QUEUE, { env: todayEnv });
  expect(ran.stderr).toBe('');
  expect(ran.code).toBe(0);
  const lines = ran.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^registry azureml: 1 current fine-tunable chat-completion model \(\d{4}-\d{2}-\d{2}\)$/);
  expect(lines.slice(1, 3)).toEqual([
    'MODEL  VERSION  STATE              ALLOW LISTS FROM',
    'Phi-4  8        current (preview)  system_metadata',
  ]);
  expect(ran.stdout).toContain(
    '  finetune   NC24ads_A100_v4, NC48ads_A100_v4, NC96ads_A100_v4, ND96asr_v4, ND96amsr_A100_v4, NC40ads_H100_v5, NC80adis_H100_v5, ND96isr_H100_v5',
  );
  expect(ran.stdout).not.toContain('Phi-3');
});

test('--json: the same, for scripts', async () => {
  const ran = await ftflow(['models', '--json'], QUEUE, { env: todayEnv });
  expect(ran.code).toBe(0);
  const report = JSON.parse(ran.stdout) as Report;
  expect(report).toMatchObject({ registry: 'azureml', task: 'chat-completion' });
  expect(report.models).toHaveLength(1);
  expect(report.models[0]).toMatchObject({
    name: 'Phi-4',
    version: '8',
    retired: false,
    preview: true,
    allowListSource: 'system_metadata',
  });
  expect(report.models[0]?.finetuneRetirementDate).toBeUndefined();
  expect(report.models[0]?.inferenceComputeAllowList).toContain('Standard_ND96isr_H100_v5');
});

test('--all: the retired models the registry still lists, each with its retirement date', async () => {
  const ran = await ftflow(['models', '--all', '--json'], QUEUE, { env: todayEnv });
  expect(ran.code).toBe(0);
  const report = JSON.parse(ran.stdout) as Report;
  expect(report.models.map((m) => [m.name, m.retired, m.finetuneRetirementDate?.slice(0, 10)])).toEqual([
    ['Llama-2-7b-chat', true, '2025-06-30'],
    ['Phi-3-small-8k-instruct', true, '2025-08-30'],
    ['Phi-4', false, undefined],
  ]);
  const text = await ftflow(['models', '--all'], QUEUE, { env: todayEnv });
  expect(text.stdout).toContain('Phi-3-small-8k-instruct  6        retired 2025-08-30  system_metadata');
});

test("the seed's registry (the notebook's days): Phi-3-mini-4k-instruct v15, allow lists from the tags", async () => {
  const ran = await ftflow(['models', '--json'], QUEUE);
  expect(ran.code).toBe(0);
  const report = JSON.parse(ran.stdout) as Report;
  expect(report.models.map((m) => `${m.name} v${m.version}`)).toEqual(['Phi-3-mini-4k-instruct v15']);
  expect(report.models[0]).toMatchObject({ retired: false, allowListSource: 'tags' });
  expect(report.models[0]?.inferenceComputeAllowList?.[0]).toBe('Standard_NC6s_v3');
});

test('bad input is exit 2, naming what to fix', async () => {
  const unknown = await ftflow(['models', '--registry', 'contoso-models'], QUEUE, { env: todayEnv });
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('registry contoso-models does not exist: check --registry');
  const unset = await ftflow(['models'], QUEUE, { env: { ...todayEnv, AZURE_SUBSCRIPTION_ID: '' } });
  expect(unset.code).toBe(2);
  expect(unset.stderr).toContain('AZURE_SUBSCRIPTION_ID is not set');
});
