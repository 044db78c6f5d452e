// The one run record (src/control/runResult.ts) from a workflow result, and how `ftflow result` prints it.
import { runResultOf } from '../../src/control/runResult';
import { resultLines } from '../../src/cli/format';
import type { StagedSplit } from '../../src/activities/types';
import type { FineTuneResult } from '../../src/workflows/definitions';

const split = (name: string, rows: number): StagedSplit => ({
  split: name,
  uri: `azureml://datastores/workspaceblobstore/paths/ftflow/${name}.jsonl`,
  blobPath: `ftflow/${name}.jsonl`,
  sourceRows: rows + 1,
  rows,
  bytes: rows * 100,
  sha256: `${name}-sha`,
  sha256Of: 'blocks',
  invalid: { count: 1, byReason: { 'not chat': 1 }, examples: [] },
  reused: false,
  sampling: 'first 5%',
});

const workflowResult = (over: Partial<FineTuneResult> = {}): FineTuneResult => ({
  runId: 'ft-a',
  status: 'succeeded',
  model: { registry: 'azureml', name: 'Phi-3-mini-4k-instruct', version: '15', assetId: 'azureml://registries/x' },
  compute: { name: 'ftflow-a100', vmSize: 'Standard_NC24ads_A100_v4', gpusPerNode: 1, created: false, warnings: [] },
  data: { revision: 'rev1', train: split('train', 100), test: split('test', 20), scoring: split('scoring', 5) },
  job: {
    jobName: 'ftflow-ft-a-1234',
    componentId: 'azureml://registries/azureml/components/chat_completion_pipeline/versions/1',
    displayName: 'Phi-3-run',
    parameters: { num_train_epochs: '1' },
    warnings: [],
    notes: ['model default "learning_rate_min" is not an input of the pipeline component; dropped'],
    adopted: false,
    status: 'Completed',
    studioUrl: 'https://ml.azure.com/runs/ftflow-ft-a-1234',
  },
  metrics: { train_loss: 1.2, eval_loss: 1.3 },
  registeredModel: {
    name: 'Phi-3-mini-4k-instruct-ultrachat-200k',
    version: '3',
    id: '/models/m/versions/3',
    adopted: false,
  },
  endpoint: {
    endpointName: 'ftflow-abc',
    existed: true,
    deleted: true,
    instanceType: 'Standard_NC6s_v3',
    scoringUri: 'https://ftflow-abc.eastus.inference.ml.azure.com/score',
    servedSeconds: 95,
  },
  qualityGate: { passed: true, checks: [{ metric: 'eval_loss', value: 1.3, bound: { max: 2 }, passed: true }] },
  smokeScore: { promptPreview: 'Hello', replyPreview: 'Hi there', replyChars: 150, latencyMs: 7 },
  warnings: ['deployment.instanceType Standard_NC6s_v3 was retired'],
  notes: ['model default "learning_rate_min" is not an input of the pipeline component; dropped'],
  steps: [],
  ...over,
});

const context = {
  executionId: 'exec-1',
  finishedAt: '2026-12-01T10:00:00.000Z',
  datasetSource: 'HuggingFaceH4/ultrachat_200k',
};

test('the record names the registered model, the datasets with sha256 and rows, the job, the endpoint and the reply', () => {
  expect(runResultOf(workflowResult(), context)).toEqual({
    id: 'ft-a',
    object: 'fine_tune.result',
    status: 'succeeded',
    executionId: 'exec-1',
    finishedAt: '2026-12-01T10:00:00.000Z',
    baseModel: {
      registry: 'azureml',
      name: 'Phi-3-mini-4k-instruct',
      version: '15',
      assetId: 'azureml://registries/x',
    },
    registeredModel: { name: 'Phi-3-mini-4k-instruct-ultrachat-200k', version: '3', id: '/models/m/versions/3' },
    dataset: {
      source: 'HuggingFaceH4/ultrachat_200k',
      revision: 'rev1',
      train: {
        split: 'train',
        uri: 'azureml://datastores/workspaceblobstore/paths/ftflow/train.jsonl',
        sha256: 'train-sha',
        sha256Of: 'blocks',
        rows: 100,
        sourceRows: 101,
        bytes: 10000,
        invalidRows: 1,
        sampling: 'first 5%',
      },
      test: expect.objectContaining({ split: 'test', rows: 20, sha256: 'test-sha' }),
      scoring: expect.objectContaining({ split: 'scoring', rows: 5 }),
    },
    compute: { name: 'ftflow-a100', vmSize: 'Standard_NC24ads_A100_v4', gpusPerNode: 1 },
    job: {
      name: 'ftflow-ft-a-1234',
      status: 'Completed',
      studioUrl: 'https://ml.azure.com/runs/ftflow-ft-a-1234',
      displayName: 'Phi-3-run',
      componentId: 'azureml://registries/azureml/components/chat_completion_pipeline/versions/1',
    },
    metrics: { train_loss: 1.2, eval_loss: 1.3 },
    qualityGate: { passed: true, checks: [{ metric: 'eval_loss', value: 1.3, bound: { max: 2 }, passed: true }] },
    endpoint: {
      name: 'ftflow-abc',
      instanceType: 'Standard_NC6s_v3',
      scoringUri: 'https://ftflow-abc.eastus.inference.ml.azure.com/score',
      servedSeconds: 95,
      deleted: true,
    },
    smokeScore: { prompt: 'Hello', reply: 'Hi there', replyChars: 150, latencyMs: 7 },
    warnings: ['deployment.instanceType Standard_NC6s_v3 was retired'],
    notes: ['model default "learning_rate_min" is not an input of the pipeline component; dropped'],
  });
});

test('a result recorded before studio links and notes: the studio link from the context, the notes from the job', () => {
  const old = workflowResult({ notes: undefined });
  delete old.job.studioUrl;
  delete old.endpoint.scoringUri;
  const record = runResultOf(old, { ...context, studioUrl: 'https://ml.azure.com/runs/old' });
  expect(record.job.studioUrl).toBe('https://ml.azure.com/runs/old');
  expect(record.notes).toEqual(old.job.notes);
  expect('scoringUri' in record.endpoint).toBe(false);
  // No key is present with an undefined value: the record is the same object after a JSON round trip.
  expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  expect(Object.keys(runResultOf(old, { executionId: 'e' }))).not.toContain('finishedAt');
});

test('`ftflow result` prints every part of the record, warnings and notes apart', () => {
  const lines = resultLines(runResultOf(workflowResult(), context));
  expect(lines).toEqual(
    expect.arrayContaining([
      'registered model Phi-3-mini-4k-instruct-ultrachat-200k version 3',
      '  train    azureml://datastores/workspaceblobstore/paths/ftflow/train.jsonl  100 rows, 1 invalid skipped  sha256 train-sha',
      'studio https://ml.azure.com/runs/ftflow-ft-a-1234',
      'scoring URI https://ftflow-abc.eastus.inference.ml.azure.com/score',
      'endpoint ftflow-abc on Standard_NC6s_v3  served 1m35s  deleted',
      'smoke reply "Hi there" (150 chars in 7 ms)',
      'warning deployment.instanceType Standard_NC6s_v3 was retired',
      'note model default "learning_rate_min" is not an input of the pipeline component; dropped',
      'quality gate passed: eval_loss 1.3 <= 2',
    ]),
  );
});

test('the record carries what the run cost, and `ftflow result` prints it', () => {
  const prices = {
    currency: 'USD' as const,
    region: 'eastus2',
    priceType: 'list',
    snapshot: '2026-06-18',
    source: 't',
  };
  const cost = {
    currency: 'USD' as const,
    estimatedUsd: 2.18,
    actualUsd: 0.5,
    maxCostUsd: 25,
    actual: {
      totalUsd: 0.5,
      training: {
        jobs: [
          {
            jobName: 'ftflow-ft-a-1234',
            vmSize: 'Standard_NC24ads_A100_v4',
            nodes: 1,
            startedAt: '2026-12-01T10:00:00.000Z',
            endedAt: '2026-12-01T10:06:00.000Z',
            nodeSeconds: 360,
            usdPerHour: 4,
            usd: 0.4,
          },
        ],
        nodeSeconds: 360,
        usd: 0.4,
      },
      endpoint: {
        deployments: [
          {
            name: 'default',
            instanceType: 'Standard_NC6s_v3',
            instances: 1,
            createdAt: '2026-12-01T10:07:00.000Z',
            deletedAt: '2026-12-01T10:09:00.000Z',
            instanceSeconds: 120,
            usdPerHour: 3,
            usd: 0.1,
          },
        ],
        instanceSeconds: 120,
        usd: 0.1,
      },
      prices,
      notes: [],
    },
  };
  const record = runResultOf(workflowResult({ cost }), context);
  expect(record.cost).toEqual(cost);
  expect(resultLines(record)).toEqual(
    expect.arrayContaining([
      'cost budget $25.00 (budget.maxCost)',
      'cost actual $0.50 (training $0.40: 1 × Standard_NC24ads_A100_v4 for 0.1 h; endpoint $0.10: 1 × Standard_NC6s_v3 for 2.0 min)',
    ]),
  );
  // A run from before costs were measured has no cost, and prints no cost line.
  const before = runResultOf(workflowResult(), context);
  expect('cost' in before).toBe(false);
  expect(resultLines(before).some((l) => l.startsWith('cost'))).toBe(false);
});
