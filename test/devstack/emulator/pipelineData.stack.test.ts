// Pipeline jobs validated like the service, against the staged data in a private Azurite: the
// train/test files must be chat JSONL (else the job fails after Preparing with the validation
// step's data error), task_name is defaulted by the component, `labels/latest` resolves, and the
// MLflow series are derived from the staged data's size and the epochs: they fall with the steps.
import type { RunningEmulator } from '../../../devstack/emulator/server';
import {
  advance,
  armToken,
  blobContainer,
  call,
  chatRows,
  pipelineJobBody,
  startAzurite,
  startTestEmulator,
  WS,
  type Azurite,
  createCluster,
} from './helpers';

const v = '?api-version=2022-10-01';
const MLFLOW = `/mlflow/v1.0${WS}/api/2.0/mlflow`;
const CLOCK = { jobPhaseMs: 1000, provisionMs: 100, deleteMs: 100, cancelMs: 100 };

let azurite: Azurite;
let emulator: RunningEmulator;
let token: string;

async function upload(path: string, text: string): Promise<void> {
  await blobContainer(azurite).getBlockBlobClient(path).upload(text, Buffer.byteLength(text));
}

beforeAll(async () => {
  azurite = await startAzurite();
  emulator = await startTestEmulator({ azuriteBlobUrl: azurite.url, timeMode: 'stepped', clock: CLOCK });
  token = await armToken(emulator);
  await createCluster(emulator, token, 'gpu');
  await advance(emulator, 100);
  await upload('small/train.jsonl', chatRows(40));
  await upload('large/train.jsonl', chatRows(400));
  await upload('ok/test.jsonl', chatRows(10));
  await upload('bad/train.jsonl', `${chatRows(3)}{"prompt": "no messages here"}\n`);
  await upload('garbage/train.jsonl', 'this is not json\n');
}, 60_000);

afterAll(async () => {
  await emulator?.close();
  await azurite?.stop();
});

async function submit(
  name: string,
  train: string,
  opts: { epochs?: string; componentId?: string; extra?: Record<string, unknown> } = {},
) {
  const body = pipelineJobBody({
    compute: 'gpu',
    train,
    test: 'ok/test.jsonl',
    extraInputs: { num_train_epochs: { job_input_type: 'literal', value: opts.epochs ?? '3' }, ...(opts.extra ?? {}) },
  });
  if (opts.componentId) body.properties.jobs.chat_completion_pipeline.componentId = opts.componentId;
  return call(emulator, `${WS}/jobs/${name}${v}`, { method: 'PUT', token, body });
}

async function status(name: string): Promise<{ status: string; properties: Record<string, string> }> {
  const job = (await call(emulator, `${WS}/jobs/${name}${v}`, { token })).body as {
    properties: { status: string; properties: Record<string, string> };
  };
  return job.properties;
}

async function childRun(job: string): Promise<string> {
  const search = (
    await call(emulator, `${MLFLOW}/runs/search`, {
      method: 'POST',
      token,
      body: { filter: `tags.mlflow.rootRunId='${job}'` },
    })
  ).body as { runs: { info: { run_id: string }; data: { tags: { key: string }[] } }[] };
  return search.runs.find((r) => r.data.tags.some((t) => t.key === 'mlflow.parentRunId'))?.info.run_id ?? '';
}

async function history(run: string, key: string): Promise<{ value: number; step: number }[]> {
  return (
    (await call(emulator, `${MLFLOW}/metrics/get-history?run_id=${run}&metric_key=${key}`, { token })).body as {
      metrics: { value: number; step: number }[];
    }
  ).metrics;
}

test('a train file that is not chat JSONL fails the job after Preparing with the validation step error', async () => {
  expect((await submit('job-bad-rows', 'bad/train.jsonl')).status).toBe(201);
  expect((await submit('job-garbage', 'garbage/train.jsonl')).status).toBe(201);
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    seen.push((await status('job-bad-rows')).status);
    await advance(emulator, 1000);
  }
  expect(seen).toEqual(['NotStarted', 'Queued', 'Preparing', 'Failed']);
  const failed = await status('job-bad-rows');
  expect(failed.properties['azureml.error.code']).toBe('UserError');
  expect(failed.properties['azureml.error.message']).toMatch(
    /^Pipeline step chat_completion_pipeline\/ft_nlp_common_validation failed\. ACFTDataException: input 'train_file_path' \(azureml:\/\/datastores\/workspaceblobstore\/paths\/bad\/train\.jsonl\) has no 'messages' list at line 4/,
  );
  expect((await status('job-garbage')).properties['azureml.error.message']).toContain(
    'is not valid JSON Lines: line 1 is not a JSON object',
  );
  // Nothing ran: no MLflow runs.
  expect(await childRun('job-bad-rows')).toBe('');
});

test('task_name, required by the component, is defaulted by it; a value outside its enum is refused', async () => {
  expect((await submit('job-no-task', 'small/train.jsonl')).status).toBe(201);
  const bad = await submit('job-bad-task', 'small/train.jsonl', {
    extra: { task_name: { job_input_type: 'literal', value: 'Summarization' } },
  });
  expect(bad).toMatchObject({
    status: 400,
    body: {
      error: {
        code: 'UserError',
        target: 'properties.jobs.chat_completion_pipeline.inputs.task_name',
        message: expect.stringContaining("must be one of 'ChatCompletion'"),
      },
    },
  });
});

test('labels/latest resolves to the newest component version', async () => {
  // trust_remote_code exists only from 0.0.78 on: accepted through latest (0.0.82)...
  const latest = await submit('job-latest', 'small/train.jsonl', {
    componentId: 'azureml://registries/azureml/components/chat_completion_pipeline/labels/latest',
    extra: { trust_remote_code: { job_input_type: 'literal', value: 'false' } },
  });
  expect(latest.status).toBe(201);
  // ...and refused by the notebook's pinned 0.0.51.
  const pinned = await submit('job-pinned', 'small/train.jsonl', {
    componentId: 'azureml://registries/azureml/components/chat_completion_pipeline/versions/0.0.51',
    extra: { trust_remote_code: { job_input_type: 'literal', value: 'false' } },
  });
  expect(pinned).toMatchObject({
    status: 400,
    body: { error: { code: 'UserError', message: expect.stringContaining("'trust_remote_code'") } },
  });
});

test('metrics follow the staged data size and the epochs, and fall with the steps', async () => {
  expect((await submit('job-small', 'small/train.jsonl')).status).toBe(201);
  expect((await submit('job-large', 'large/train.jsonl')).status).toBe(201);
  expect((await submit('job-large-1ep', 'large/train.jsonl', { epochs: '1' })).status).toBe(201);
  await advance(emulator, 6000);
  const small = await childRun('job-small');
  const large = await childRun('job-large');
  const oneEpoch = await childRun('job-large-1ep');

  // 40 rows → 32 train rows (80%) → 32 steps per epoch at batch 1 on 1 GPU; 400 rows → 320.
  expect((await history(small, 'eval_loss')).map((p) => p.step)).toEqual([32, 64, 96]);
  expect((await history(large, 'eval_loss')).map((p) => p.step)).toEqual([320, 640, 960]);
  expect((await history(oneEpoch, 'eval_loss')).map((p) => p.step)).toEqual([320]);

  for (const run of [small, large]) {
    const evalLoss = (await history(run, 'eval_loss')).map((p) => p.value);
    expect(evalLoss).toEqual([...evalLoss].sort((a, b) => b - a));
    expect(new Set(evalLoss).size).toBe(evalLoss.length);
    const loss = (await history(run, 'loss')).map((p) => p.value);
    const third = Math.floor(loss.length / 3);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(loss.slice(0, third))).toBeGreaterThan(mean(loss.slice(-third)));
    expect(loss[0]).toBeGreaterThan(loss[loss.length - 1] ?? Infinity);
  }
  // More data, lower loss; more epochs, lower loss.
  const last = async (run: string, key: string) => (await history(run, key)).slice(-1)[0]?.value ?? NaN;
  expect(await last(large, 'eval_loss')).toBeLessThan(await last(small, 'eval_loss'));
  expect(await last(large, 'eval_loss')).toBeLessThan(await last(oneEpoch, 'eval_loss'));
  expect(await last(large, 'train_loss')).toBeLessThan(await last(small, 'train_loss'));
  // Deterministic: the same question gives the same numbers.
  expect(await history(large, 'loss')).toEqual(await history(large, 'loss'));
});
