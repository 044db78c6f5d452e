// budget.maxCost, with mocked activities on a throw-away dev server (test/helpers/workflowEnv.ts): an estimate
// over the budget stops the run before its job is submitted (nothing to cancel, nothing to measure); a size
// without a price makes the budget unenforceable, which is refused the same way; a job whose accrued cost
// would pass the budget is cancelled like one over budget.maxTrainingMinutes, and what it cost is measured;
// the endpoint's keep-alive ends before the budget runs out, and an extension past it is refused. The
// endpoint, once created, is always deleted (docs/design.md, invariant 1).
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { CostEstimate } from '../../src/cost/types';
import { deriveRunNames } from '../../src/runSpec/names';
import type { RunSpecInput } from '../../src/runSpec/schema';
import type { RunProgress } from '../../src/workflows/definitions';
import type { RunResult } from '../../src/control/runResult';
import { waitFor } from '../helpers/localStack';
import { MockedActivities, type ActivityName } from '../helpers/mockedActivities';
import { startWorkflowEnv, type WorkflowTestEnv } from '../helpers/workflowEnv';

const OPTIONS = { heartbeatTimeoutSeconds: 2, quickStepTimeoutSeconds: 30 };
const mocks = new MockedActivities();
let t: WorkflowTestEnv;

/** An estimate with chosen rates: training and the endpoint at `usdPerHour` per node or instance. */
function estimate(
  training: { usdPerHour: number; usd: number },
  endpoint: { usdPerHour: number; usd: number },
): CostEstimate {
  const line = (vmSize: string, l: { usdPerHour: number; usd: number }) => ({
    vmSize,
    count: 1,
    hours: l.usd / l.usdPerHour,
    usdPerHour: l.usdPerHour,
    usd: l.usd,
  });
  return {
    totalUsd: training.usd + endpoint.usd,
    training: {
      ...line('Standard_NC24ads_A100_v4', training),
      trainTokens: 1,
      evalTokens: 1,
      epochs: 1,
      gpus: 1,
      tokensPerSecondPerGpu: 1,
      computeHours: 0,
      overheadHours: 0,
    },
    endpoint: { ...line('Standard_NC6s_v3', endpoint), deployMinutes: 16, keepAliveMinutes: 0, deleteMinutes: 2 },
    prices: { currency: 'USD', region: 'eastus2', priceType: 'test', snapshot: 'test', source: 'test' },
    assumptions: [],
    warnings: [],
  };
}

interface Outcome {
  runId: string;
  calls: ActivityName[];
  result?: RunResult;
  error?: unknown;
  status: string;
  progress: RunProgress;
}

async function start(key: string, spec: RunSpecInput): Promise<string> {
  return (await t.client.start(spec, { idempotencyKey: key, options: OPTIONS })).runId;
}

async function closed(runId: string): Promise<Outcome> {
  const settled = await t.client.result(runId).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  const [description, progress] = await Promise.all([t.client.handle(runId).describe(), t.client.progress(runId)]);
  return { runId, calls: mocks.run(runId).names(), ...settled, status: description.status.name, progress };
}

/** The steps up to validateCompute, then the estimate: where a run over budget stops. */
const UNTIL_ESTIMATE: ActivityName[] = [
  'authenticate',
  'resolveModel',
  'stageDataset',
  'validateCompute',
  'estimateCost',
];

let overBudget: Promise<Outcome>;
let unpriced: Promise<Outcome>;
let accrued: Promise<Outcome>;
let keptAlive: Promise<Outcome & { refusal: unknown; warnings: string[] }>;

beforeAll(async () => {
  t = await startWorkflowEnv('cost-budget');
  await t.startWorker(mocks.activities);

  // The canned estimate (the real estimator over the mock's figures) is a few dollars: one cent is too little.
  overBudget = start('over-budget', { budget: { maxCost: 0.01 } }).then(closed);

  // swedencentral has no list price for Standard_NC6s_v3 (reference/azure-prices): the budget cannot be held.
  mocks.run('ft-unpriced').override('authenticate', async () => ({
    workspace: 'ws',
    location: 'swedencentral',
    credentialKind: 'clientSecret',
  }));
  unpriced = start('unpriced', { budget: { maxCost: 1000 } }).then(closed);

  // Training at $1 a second with $0.50 kept for the endpoint: a $2 budget lets the job run 1.5 s.
  mocks
    .run('ft-accrued')
    .override('estimateCost', async () => estimate({ usdPerHour: 3600, usd: 0.5 }, { usdPerHour: 3.06, usd: 0.5 }));
  mocks.run('ft-accrued').blockAt('awaitPipeline');
  accrued = start('accrued', { budget: { maxCost: 2 } }).then(closed);

  // The endpoint at $0.01 a second, two minutes of deletion kept ($1.20): a $1.80 budget serves about 60 s.
  mocks
    .run('ft-kept-alive')
    .override('estimateCost', async () => estimate({ usdPerHour: 0.036, usd: 0.01 }, { usdPerHour: 36, usd: 1 }));
  keptAlive = (async () => {
    const runId = await start('kept-alive', { budget: { maxCost: 1.8 }, deployment: { keepAliveMinutes: 5 } });
    const serving = await waitFor(`${runId} to serve`, async () => {
      const p = await t.client.progress(runId);
      return p.endpointExpiresAt ? p : undefined;
    });
    const refusal = await t.client.endpointLifetime(runId, { extendMinutes: 5 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    await t.client.endpointLifetime(runId, { endNow: true });
    return { ...(await closed(runId)), refusal, warnings: serving.warnings };
  })();
}, 60_000);

afterAll(async () => {
  mocks.releaseAll();
  await t?.teardown();
});

test('an estimate over budget.maxCost: the run fails before its job is submitted, naming the figures and what to change', async () => {
  const r = await overBudget;
  expect(r.status).toBe('FAILED');
  const cause = (r.error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'CostBudgetExceeded', nonRetryable: true });
  expect(cause?.message).toMatch(
    /^estimated cost \$\d+\.\d+ \(training .* at \$3\.67\/h; endpoint .* at \$3\.06\/h\) is over budget\.maxCost \$0\.0100: raise budget\.maxCost, or lower the cost: .* Nothing was submitted$/,
  );
  // Nothing submitted: nothing to cancel, no endpoint, nothing to measure.
  expect(r.calls).toEqual(UNTIL_ESTIMATE);
  expect(r.progress).toMatchObject({ status: 'failed', outcome: 'cost-budget-exceeded' });
  expect(r.progress.cost).toMatchObject({ maxCostUsd: 0.01, actualUsd: null, estimatedUsd: expect.any(Number) });
  expect(r.progress.steps.find((s) => s.name === 'submitPipeline')?.status).toBe('skipped');
});

test('a size the price table does not price in the region: budget.maxCost cannot be held, so the run stops there too', async () => {
  const r = await unpriced;
  const cause = (r.error as WorkflowFailedError).cause;
  expect(cause).toMatchObject({ type: 'CostUnknown', nonRetryable: true });
  expect(cause?.message).toBe(
    'budget.maxCost $1000.00 cannot be enforced: the price table (2026-06-18) has no list price for Standard_NC6s_v3 in swedencentral. ' +
      'Add it with FTFLOW_PRICES_FILE (docs/configuration.md, Prices), or remove budget.maxCost',
  );
  expect(r.calls).toEqual(UNTIL_ESTIMATE);
  expect(r.progress.outcome).toBe('failed');
});

test('the accrued cost would pass the budget while the job runs: the job is cancelled, the run fails with the budget, the cost is measured', async () => {
  const r = await accrued;
  expect(r.status).toBe('FAILED');
  const cause = (r.error as WorkflowFailedError).cause;
  expect(cause).toMatchObject({ type: 'CostBudgetExceeded', nonRetryable: true });
  const { jobName } = deriveRunNames(r.runId);
  expect(cause?.message).toMatch(
    new RegExp(
      `^training job ${jobName} was cancelled after 1\\.\\d s: on 1 × Standard_NC24ads_A100_v4 at \\$3600\\.00/h it had cost about \\$1\\.\\d\\d, and with the endpoint's estimated \\$0\\.50 the run would pass budget\\.maxCost \\$2\\.00`,
    ),
  );
  // As a training budget: the job cancelled after the follower, no endpoint; then what it cost.
  expect(r.calls).toEqual([...UNTIL_ESTIMATE, 'submitPipeline', 'awaitPipeline', 'cancelPipeline', 'measureCost']);
  expect(mocks.run(r.runId).callsOf('cancelPipeline')[0]?.args).toEqual([jobName]);
  expect(r.progress).toMatchObject({ status: 'failed', outcome: 'cost-budget-exceeded' });
  expect(r.progress.cost).toMatchObject({ maxCostUsd: 2, estimatedUsd: 1, actualUsd: expect.any(Number) });
  expect(r.progress.cost?.actual?.training.jobs.map((j) => j.jobName)).toEqual([jobName]);
});

test('the keep-alive ends before the budget runs out; an extension past it is refused; the endpoint is deleted', async () => {
  const r = await keptAlive;
  expect(r.warnings).toEqual(
    expect.arrayContaining([
      expect.stringMatching(
        /^deployment\.keepAliveMinutes 5 cut to 1 min: budget\.maxCost \$1\.80 allows the endpoint to serve until \d{4}-/,
      ),
    ]),
  );
  expect(r.refusal).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((r.refusal as WorkflowUpdateFailedError).cause?.message).toMatch(
    /^budget\.maxCost \$1\.80 allows the endpoint to serve until .*: it cannot be extended past that$/,
  );
  expect(r.status).toBe('COMPLETED');
  expect(r.calls.slice(-3)).toEqual(['smokeScore', 'deleteEndpoint', 'measureCost']);
  expect(r.result?.endpoint).toMatchObject({ deleted: true });
  expect(r.result?.cost?.maxCostUsd).toBe(1.8);
});
