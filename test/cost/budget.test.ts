// budget.maxCost's arithmetic: a projection over the budget is refused before the job is submitted (and an
// unpriced size makes the budget unenforceable, so that is refused too); the training job may run until its
// accrued cost plus the endpoint's estimate reaches the budget; the keep-alive ends before the rest runs out.
import {
  budgetRefusal,
  servingLimitAt,
  trainingOverBudgetMessage,
  trainingTimeLimitMs,
  usdPerSecond,
} from '../../src/cost/budget';
import { estimateRunCost, type EstimateInput } from '../../src/cost/estimate';
import { VENDORED_PRICE_TABLE } from '../../src/cost/priceTable';
import type { CostEstimate } from '../../src/cost/types';

const INPUT: EstimateInput = {
  region: 'eastus',
  model: { name: 'Phi-3-mini-4k-instruct' },
  training: {
    vmSize: 'Standard_NC24ads_A100_v4',
    nodes: 2,
    gpusPerNode: 1,
    epochs: 1,
    train: { rows: 1000, bytes: 4_000_000 },
    test: { rows: 100, bytes: 400_000 },
  },
  endpoint: { instanceType: 'Standard_NC6s_v3', instances: 1, livenessInitialDelaySeconds: 600, keepAliveMinutes: 0 },
};
const estimate: CostEstimate = estimateRunCost(INPUT, VENDORED_PRICE_TABLE);
const total = estimate.totalUsd ?? NaN;

describe('before the job is submitted', () => {
  test('an estimate within the budget passes', () => {
    expect(budgetRefusal(estimate, total)).toBeUndefined();
    expect(budgetRefusal(estimate, total + 100)).toBeUndefined();
  });

  test('an estimate over the budget is refused with its breakdown and what to change', () => {
    const refusal = budgetRefusal(estimate, 1);
    expect(refusal?.code).toBe('CostBudgetExceeded');
    expect(refusal?.message).toMatch(
      /^estimated cost \$\d+\.\d\d \(training \$\d+\.\d\d: 2 × Standard_NC24ads_A100_v4 for [\d.]+ h at \$3\.67\/h; endpoint \$\d+\.\d\d: 1 × Standard_NC6s_v3 for 0\.3 h at \$3\.06\/h\) is over budget\.maxCost \$1\.00: raise budget\.maxCost, or lower the cost: dataset\.percent, training\.num_train_epochs, a cheaper compute\.vmSize or deployment\.instanceType, deployment\.keepAliveMinutes\. Nothing was submitted$/,
    );
  });

  test('a size without a price makes the budget unenforceable: refused, naming the size, the region and the fix', () => {
    const unpriced = estimateRunCost({ ...INPUT, region: 'swedencentral' }, VENDORED_PRICE_TABLE);
    expect(budgetRefusal(unpriced, 1000)).toEqual({
      code: 'CostUnknown',
      message:
        'budget.maxCost $1000.00 cannot be enforced: the price table (2026-06-18) has no list price for Standard_NC6s_v3 in swedencentral. ' +
        'Add it with FTFLOW_PRICES_FILE (docs/configuration.md, Prices), or remove budget.maxCost',
    });
  });
});

describe('while the job trains', () => {
  test("the job may run until its nodes' accrued cost and the endpoint's estimate reach the budget", () => {
    const maxCost = 10;
    const limit = trainingTimeLimitMs(estimate, maxCost) ?? NaN;
    const perSecond = (2 * 3.673) / 3600;
    expect(usdPerSecond(estimate.training)).toBeCloseTo(perSecond, 10);
    expect(limit / 1000).toBeCloseTo((maxCost - (estimate.endpoint.usd ?? 0)) / perSecond, 0);
    // At the limit, training and the endpoint's estimate together are the budget.
    expect((limit / 1000) * perSecond + (estimate.endpoint.usd ?? 0)).toBeCloseTo(maxCost, 3);
    // A budget the endpoint alone uses up leaves the job no time.
    expect(trainingTimeLimitMs(estimate, 0.5)).toBe(0);
  });

  test('the failure names the job, the time, the accrued cost and the budget', () => {
    expect(trainingOverBudgetMessage('ftflow-x-1', estimate, 10, 30 * 60_000)).toMatch(
      /^training job ftflow-x-1 was cancelled after 0\.5 h: on 2 × Standard_NC24ads_A100_v4 at \$3\.67\/h it had cost about \$3\.67, and with the endpoint's estimated \$\d\.\d\d the run would pass budget\.maxCost \$10\.00: raise budget\.maxCost/,
    );
  });
});

describe('while the endpoint serves', () => {
  test('it may serve until the budget left after training, minus its deletion, runs out', () => {
    const maxCost = 10;
    const trainingMs = 60 * 60_000; // one hour of two A100 nodes: $7.346
    const since = 1_000_000;
    const at = servingLimitAt({ estimate, maxCost, trainingMs, endpointSince: since, now: since + 60_000 }) ?? NaN;
    const left = maxCost - 2 * 3.673 - (3.06 / 60) * 2; // minus two minutes of deletion
    expect((at - since) / 1000).toBeCloseTo(left / (3.06 / 3600), 0);
  });

  test('a budget already spent ends serving now', () => {
    const now = 5_000_000;
    expect(servingLimitAt({ estimate, maxCost: 1, trainingMs: 3_600_000, endpointSince: now - 1000, now })).toBe(now);
  });
});
