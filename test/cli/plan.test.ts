// What people read of a plan and a run's cost: `ftflow start --dry-run`'s lines, the refusal start prints, the
// cost lines of `ftflow status`, and the exit code a refusal gives (2 for the spec, 1 for the environment).
import { exitCodeForRefusal, EXIT } from '../../src/cli/exitCodes';
import { costLines, estimateLine, planLines, refusalLines } from '../../src/cli/plan';
import { actualRunCost } from '../../src/cost/actual';
import { estimateRunCost } from '../../src/cost/estimate';
import { VENDORED_PRICE_TABLE } from '../../src/cost/priceTable';
import type { StagedSplit } from '../../src/activities/types';
import type { FineTunePlan } from '../../src/workflows/definitions';

const estimate = estimateRunCost(
  {
    region: 'eastus',
    model: { name: 'Phi-3-mini-4k-instruct' },
    training: {
      vmSize: 'Standard_NC24ads_A100_v4',
      nodes: 1,
      gpusPerNode: 1,
      epochs: 3,
      train: { rows: 10_393, bytes: 72_000_000 },
      test: { rows: 1_156, bytes: 8_000_000 },
    },
    endpoint: { instanceType: 'Standard_NC6s_v3', instances: 1, livenessInitialDelaySeconds: 600, keepAliveMinutes: 0 },
  },
  VENDORED_PRICE_TABLE,
);

const split = (name: string, rows: number, preview: StagedSplit['preview']): StagedSplit => ({
  split: name,
  uri: `azureml://datastores/workspaceblobstore/paths/finetune-flow/datasets/x/${name}.jsonl`,
  blobPath: `finetune-flow/datasets/x/${name}.jsonl`,
  sourceRows: rows,
  rows,
  bytes: rows * 7000,
  sha256: '',
  invalid: { count: 0, byReason: {}, examples: [] },
  reused: false,
  ...(preview ? { preview } : {}),
});

const plan: FineTunePlan = {
  object: 'fine_tune_plan',
  runId: 'ft-nightly',
  namesFixed: true,
  names: {
    jobName: 'ftflow-ft-nightly-1a2b3c4d',
    endpointName: 'ftflow-1a2b3c4d5e6f7a8b',
    deploymentName: 'demo',
    registeredModel: 'Phi-3-mini-4k-instruct-ultrachat-200k',
    modelVersion: 'next',
    experimentName: 'chat_completion_Phi-3-mini-4k-instruct',
    computeName: 'ftflow-a100',
    blobs: { train: 'a', test: 'b', scoring: 'c' },
  },
  workspace: { workspace: 'ws', location: 'eastus', credentialKind: 'default' },
  model: { registry: 'azureml', name: 'Phi-3-mini-4k-instruct', version: '15', assetId: 'x' },
  compute: {
    name: 'ftflow-a100',
    vmSize: 'Standard_NC24ads_A100_v4',
    gpusPerNode: 1,
    created: false,
    wouldCreate: true,
    warnings: [],
  },
  deployment: { instanceType: 'Standard_NC6s_v3', instanceCount: 1, keepAliveMinutes: 0 },
  job: {
    componentId: 'c',
    displayName: 'Phi-3-mini-4k-instruct-ultrachat-bs1-cosine-ds2-lora-save_limit1-seqlen-1',
    parameters: { num_train_epochs: '3', learning_rate: '0.000005' },
    warnings: [],
    notes: [],
    training: { epochs: 3, nodes: 1, maxSteps: -1, rowsPerStepPerGpu: 1 },
  },
  data: {
    revision: 'r',
    contentKey: 'k',
    train: split('train_sft', 10_393, { complete: false, rowsRead: 2000, estimated: true }),
    test: split('test_sft', 1_156, { complete: true, rowsRead: 1_156 }),
    scoring: { ...split('test_gen', 1_415, undefined), reused: true },
  },
  cost: estimate,
  maxCostUsd: 50,
  warnings: ['model default "learning_rate_min" is not an input of the pipeline component; dropped'],
};

test("the plan's lines: names, sizes, parameters, data (read whole, estimated or reused), the estimate, the budget", () => {
  const lines = planLines(plan);
  expect(lines[0]).toBe('plan for ft-nightly');
  expect(lines).toEqual(
    expect.arrayContaining([
      'compute          ftflow-a100 Standard_NC24ads_A100_v4, 1 GPU(s)/node (would be created, min 0 nodes)',
      'parameters       num_train_epochs=3 learning_rate=0.000005',
      'data             train train_sft: 10393 rows, 69.4 MiB (about: 2000 rows read) → finetune-flow/datasets/x/train_sft.jsonl',
      '                 test test_sft: 1156 rows, 7.7 MiB (all read) → finetune-flow/datasets/x/test_sft.jsonl',
      '                 scoring test_gen: 1415 rows, 9.4 MiB (staged already: reused) → finetune-flow/datasets/x/test_gen.jsonl',
      'cost estimate    $29.98 (training $29.06: 1 × Standard_NC24ads_A100_v4 for 7.91 h at $3.67/h; endpoint $0.92: 1 × Standard_NC6s_v3 for 0.3 h at $3.06/h); list prices of 2026-06-18 in eastus',
      'budget           $50.00 (budget.maxCost)',
      'warnings         model default "learning_rate_min" is not an input of the pipeline component; dropped',
      'nothing was created, uploaded or submitted',
    ]),
  );
  expect(planLines({ ...plan, namesFixed: false })[0]).toMatch(/an example id: a start without --idempotency-key/);
});

test('a refusal reads as the run would fail; the spec is exit 2, the environment exit 1', () => {
  const refusal = {
    step: 'resolveModel',
    code: 'AzureValidation',
    kind: 'validation',
    message: 'model gpt-4o-mini does not exist',
  };
  expect(refusalLines(refusal)).toEqual([
    'ftflow: the run would be refused at resolveModel (AzureValidation): model gpt-4o-mini does not exist',
  ]);
  expect(exitCodeForRefusal(refusal)).toBe(EXIT.badInput);
  expect(exitCodeForRefusal({ ...refusal, kind: 'notFound' })).toBe(EXIT.badInput);
  expect(exitCodeForRefusal({ ...refusal, code: 'AzureAuth', kind: 'auth' })).toBe(EXIT.runFailed);
  expect(exitCodeForRefusal({ ...refusal, code: 'AzureQuota', kind: 'quota' })).toBe(EXIT.runFailed);
});

test("status's cost lines: the estimate, the budget, and once measured what it cost", () => {
  const actual = actualRunCost(
    {
      jobs: [
        {
          jobName: 'j',
          vmSize: 'Standard_NC24ads_A100_v4',
          nodes: 1,
          startedAt: '2026-12-01T10:00:00Z',
          endedAt: '2026-12-01T18:00:00Z',
        },
      ],
      deployments: [
        {
          name: 'demo',
          instanceType: 'Standard_NC6s_v3',
          instances: 1,
          createdAt: '2026-12-01T18:10:00Z',
          deletedAt: '2026-12-01T18:30:00Z',
        },
      ],
    },
    VENDORED_PRICE_TABLE,
    'eastus',
  );
  expect(costLines(undefined)).toEqual([]);
  expect(
    costLines({
      currency: 'USD',
      estimatedUsd: estimate.totalUsd,
      actualUsd: actual.totalUsd,
      maxCostUsd: 50,
      estimate,
      actual,
    }),
  ).toEqual([
    `cost estimate ${estimateLine(estimate)}`,
    'cost budget $50.00 (budget.maxCost)',
    'cost actual $30.40 (training $29.38: 1 × Standard_NC24ads_A100_v4 for 8 h; endpoint $1.02: 1 × Standard_NC6s_v3 for 0.33 h)',
  ]);
});
