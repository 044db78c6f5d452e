// The estimate before a run and the cost after it: figures worked out by hand from the stated assumptions
// and the vendored list prices, and what each says when a size has no price.
import {
  BYTES_PER_TOKEN,
  DELETE_MINUTES,
  DEPLOY_PROVISION_MINUTES,
  MODEL_FLOPS_UTILIZATION,
  PIPELINE_OVERHEAD_MINUTES,
  SMOKE_SCORE_MINUTES,
  estimateRunCost,
  modelBillions,
  type EstimateInput,
} from '../../src/cost/estimate';
import { actualRunCost } from '../../src/cost/actual';
import { VENDORED_PRICE_TABLE } from '../../src/cost/priceTable';
import { formatHours, formatUsd } from '../../src/cost/format';

const A100 = 3.673; // Standard_NC24ads_A100_v4, eastus
const NC6 = 3.06; // Standard_NC6s_v3, eastus

/** The notebook's run: Phi-3-mini, 5% of ultrachat_200k (about 10,400 train rows), one A100 node. */
const NOTEBOOK: EstimateInput = {
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
};

describe('the estimate', () => {
  test("the notebook's run: node-hours from tokens, epochs and an A100's assumed throughput, at eastus list prices", () => {
    const e = estimateRunCost(NOTEBOOK, VENDORED_PRICE_TABLE);
    const params = 3.8e9;
    const rate = MODEL_FLOPS_UTILIZATION * 312e12;
    const trainTokens = 72_000_000 / BYTES_PER_TOKEN;
    const evalTokens = 8_000_000 / BYTES_PER_TOKEN;
    const computeHours = (6 * params * trainTokens * 3 + 2 * params * evalTokens * 3) / rate / 3600;
    const hours = computeHours + PIPELINE_OVERHEAD_MINUTES / 60;
    expect(e.training).toMatchObject({
      vmSize: 'Standard_NC24ads_A100_v4',
      count: 1,
      trainTokens,
      evalTokens,
      epochs: 3,
    });
    expect(e.training.hours).toBeCloseTo(hours, 5);
    expect(e.training.usd).toBeCloseTo(hours * A100, 5);
    expect(e.training.tokensPerSecondPerGpu).toBe(Math.round(rate / (6 * params)));
    const endpointHours = (DEPLOY_PROVISION_MINUTES + 10 + SMOKE_SCORE_MINUTES + DELETE_MINUTES) / 60;
    expect(e.endpoint).toMatchObject({ vmSize: 'Standard_NC6s_v3', count: 1, deployMinutes: 16, keepAliveMinutes: 0 });
    expect(e.endpoint.usd).toBeCloseTo(endpointHours * NC6, 5);
    expect(e.totalUsd).toBeCloseTo(hours * A100 + endpointHours * NC6, 5);
    expect(e.prices).toMatchObject({ currency: 'USD', region: 'eastus', snapshot: '2026-06-18' });
    expect(e.warnings).toEqual([]);
    // About 7.6 GPU-hours of fine-tuning and 20 min around it: $29.06 to train, $0.92 to serve the smoke test.
    expect(formatUsd(e.training.usd)).toBe('$29.06');
    expect(formatUsd(e.endpoint.usd)).toBe('$0.92');
    expect(formatUsd(e.totalUsd)).toBe('$29.98');
    expect(e.assumptions.join('\n')).toMatch(/list prices of 2026-06-18/);
    expect(e.assumptions.join('\n')).toMatch(/3\.8 billion parameters/);
  });

  test('more nodes and GPUs share the work; more epochs and a keep-alive cost more', () => {
    const one = estimateRunCost(NOTEBOOK, VENDORED_PRICE_TABLE);
    const two = estimateRunCost(
      { ...NOTEBOOK, training: { ...NOTEBOOK.training, vmSize: 'Standard_NC48ads_A100_v4', gpusPerNode: 2, nodes: 2 } },
      VENDORED_PRICE_TABLE,
    );
    expect(two.training.gpus).toBe(4);
    expect(two.training.computeHours).toBeCloseTo(one.training.computeHours / 4, 5);
    expect(two.training.count).toBe(2);
    const kept = estimateRunCost(
      { ...NOTEBOOK, endpoint: { ...NOTEBOOK.endpoint, keepAliveMinutes: 60 } },
      VENDORED_PRICE_TABLE,
    );
    expect((kept.endpoint.usd ?? 0) - (one.endpoint.usd ?? 0)).toBeCloseTo(NC6, 5);
  });

  test('training.max_steps overrides the epochs: steps × rows per step on every GPU', () => {
    const e = estimateRunCost(
      { ...NOTEBOOK, training: { ...NOTEBOOK.training, maxSteps: { steps: 100, rowsPerStepPerGpu: 1 } } },
      VENDORED_PRICE_TABLE,
    );
    const perRow = 72_000_000 / BYTES_PER_TOKEN / 10_393;
    const computeSeconds = (6 * 3.8e9 * 100 * perRow + 2 * 3.8e9 * (8_000_000 / BYTES_PER_TOKEN) * 3) / (0.15 * 312e12);
    expect(e.training.computeHours).toBeCloseTo(computeSeconds / 3600, 5);
  });

  test('a size the table does not price: that part is unpriced, the total too, and a warning says so', () => {
    const e = estimateRunCost(
      { ...NOTEBOOK, region: 'swedencentral' }, // no NC6s_v3 meter there
      VENDORED_PRICE_TABLE,
    );
    expect(e.training.usd).not.toBeNull();
    expect(e.endpoint).toMatchObject({ usdPerHour: null, usd: null });
    expect(e.totalUsd).toBeNull();
    expect(e.warnings).toEqual([
      'no list price for Standard_NC6s_v3 in swedencentral in the price table (2026-06-18): the endpoint is not priced; FTFLOW_PRICES_FILE can add it',
    ]);
  });

  test("a model's size: from the known families, from the name, or assumed (with a warning)", () => {
    expect(modelBillions('Phi-4')).toEqual({ billions: 14, assumed: false });
    expect(modelBillions('Phi-3-medium-128k-instruct')).toEqual({ billions: 14, assumed: false });
    expect(modelBillions('Phi-3.5-mini-instruct')).toEqual({ billions: 3.8, assumed: false });
    expect(modelBillions('Llama-2-7b-chat')).toEqual({ billions: 7, assumed: false });
    expect(modelBillions('mistral-nemo')).toEqual({ billions: 4, assumed: true });
    const e = estimateRunCost({ ...NOTEBOOK, model: { name: 'mistral-nemo' } }, VENDORED_PRICE_TABLE);
    expect(e.warnings).toEqual(['the size of mistral-nemo is not known: 4 billion parameters assumed']);
  });
});

describe('the cost after a run', () => {
  test("the job's nodes from start to end and the deployment's instances from creation to deletion, at list prices", () => {
    const a = actualRunCost(
      {
        jobs: [
          {
            jobName: 'j',
            vmSize: 'Standard_NC24ads_A100_v4',
            nodes: 2,
            startedAt: '2026-12-01T10:00:00.000Z',
            endedAt: '2026-12-01T11:30:00.000Z',
          },
        ],
        deployments: [
          {
            name: 'demo',
            instanceType: 'Standard_NC6s_v3',
            instances: 1,
            createdAt: '2026-12-01T11:40:00.000Z',
            deletedAt: '2026-12-01T12:00:00.000Z',
          },
        ],
      },
      VENDORED_PRICE_TABLE,
      'eastus',
    );
    expect(a.training).toMatchObject({ nodeSeconds: 10_800, usd: 3 * A100 });
    expect(a.endpoint).toMatchObject({ instanceSeconds: 1200, usd: Number((NC6 / 3).toFixed(6)) });
    expect(a.totalUsd).toBeCloseTo(3 * A100 + NC6 / 3, 6);
    expect(a.notes).toEqual([]);
  });

  test('an unpriced size is noted and leaves the total unpriced', () => {
    const a = actualRunCost(
      {
        jobs: [],
        deployments: [
          {
            name: 'demo',
            instanceType: 'Standard_DS3_v2',
            instances: 1,
            createdAt: '2026-12-01T11:40:00.000Z',
            deletedAt: '2026-12-01T12:00:00.000Z',
          },
        ],
      },
      VENDORED_PRICE_TABLE,
      'eastus',
    );
    expect(a.totalUsd).toBeNull();
    expect(a.notes).toEqual([
      'no list price for Standard_DS3_v2 in eastus in the price table (2026-06-18): not priced',
    ]);
  });
});

test('money and hours read as people say them', () => {
  expect([formatUsd(29.536), formatUsd(0.918), formatUsd(0.00459), formatUsd(0), formatUsd(null)]).toEqual([
    '$29.54',
    '$0.92',
    '$0.0046',
    '$0',
    'unpriced',
  ]);
  expect([formatHours(12.4), formatHours(0.35), formatHours(0.02), formatHours(0.001)]).toEqual([
    '12 h',
    '0.35 h',
    '1.2 min',
    '3.6 s',
  ]);
});
