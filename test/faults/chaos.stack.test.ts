// Chaos mode, short: seven runs with a fixed seed (Azure faults of every retryable kind, a job that fails,
// a deployment that fails to provision) and two worker processes SIGKILLed mid-run, on the test stack.
// The emulator's own records must show no endpoint left, no run with two jobs, no run lost, and no
// endpoint billed after its run closed.
import * as path from 'node:path';
import { makePlan, RETRYABLE_FAULTS } from '../../devstack/chaos/plan';
import { formatReport, judge, type RunRecord } from '../../devstack/chaos/report';
import { runChaos } from '../../devstack/chaos/runner';
import { deriveRunNames } from '../../src/runSpec/names';
import { emulatorUrl, temporalAddress } from '../helpers/localStack';

const SEED = 4;
const RUNS = 7;

describe('chaos plan', () => {
  test('the same seed draws the same faults and kills; another seed draws others', () => {
    const a = makePlan({ runs: 30, seed: 9, tag: 'a' });
    const b = makePlan({ runs: 30, seed: 9, tag: 'b' });
    expect(b.digest).toBe(a.digest);
    expect(b.runs.map((r) => r.faults.map((f) => [f.kind, f.target, f.rule.count]))).toEqual(
      a.runs.map((r) => r.faults.map((f) => [f.kind, f.target, f.rule.count])),
    );
    expect(b.kills).toEqual(a.kills);
    expect(makePlan({ runs: 30, seed: 10, tag: 'a' }).digest).not.toBe(a.digest);
  });

  test("each fault rule is scoped to its own run's job or endpoint path", () => {
    const plan = makePlan({ runs: 40, seed: 3, tag: 't' });
    for (const run of plan.runs) {
      for (const f of run.faults)
        expect([run.names.jobName, run.names.endpointName].some((n) => f.rule.path.includes(n))).toBe(true);
    }
  });
});

describe('chaos verdict', () => {
  const names = deriveRunNames('ft-verdict-0');
  const base = { index: 0, runId: 'ft-verdict-0', names, durationMs: 1, closedAt: Date.parse('2026-01-01T00:01:00Z') };
  const plan = makePlan({ runs: 1, seed: 1, tag: 'v' });
  const verdict = (record: RunRecord, endpoint?: { deletedAt: string | null; state: string }) =>
    judge({
      plan,
      records: [record],
      kills: [],
      resources: {
        endpoints: endpoint ? [{ name: names.endpointName, createdAt: '2026-01-01T00:00:00Z', ...endpoint }] : [],
        jobs: [
          { name: names.jobName, state: 'Completed', putCount: 1 },
          { name: `${names.jobName}-r2`, state: 'Completed', putCount: 1 },
        ],
      },
      billing: {
        now: '2026-01-01T00:02:00Z',
        endpoints: endpoint
          ? [{ name: names.endpointName, createdAt: '2026-01-01T00:00:00Z', deletedAt: endpoint.deletedAt, seconds: 1 }]
          : [],
        deployments: [],
      },
      throttled: 0,
      concurrency: 1,
      workers: 1,
      durationMs: 1,
    });

  test('a run that failed with only retryable faults is lost; a second job is a duplicate; a live endpoint is a leak billed after close', () => {
    const report = verdict(
      {
        ...base,
        status: 'failed',
        failedStep: 'deployEndpoint',
        error: 'boom',
        faults: [{ kind: RETRYABLE_FAULTS[0]!, target: 'GET job', hits: 2 }],
      },
      { state: 'Succeeded', deletedAt: null },
    );
    expect(report).toMatchObject({
      lostRuns: 1,
      duplicateJobs: 1,
      leakedEndpoints: 1,
      endpointSecondsAfterClose: 60,
      ok: false,
    });
    expect(formatReport(report)).toMatch(/lost ft-verdict-0: failed at deployEndpoint although only retryable faults/);
  });

  test('a run that failed where its injected fault says it must is not lost', () => {
    const report = verdict({
      ...base,
      status: 'failed',
      failedStep: 'awaitPipeline',
      error: 'job ended Failed',
      faults: [{ kind: 'job-failed', target: 'job', hits: 1 }],
    });
    expect(report).toMatchObject({ lostRuns: 0, outcomes: { 'failed: job-failed': 1 } });
  });

  test('a quota fault may surface as a failed deployment (found Failed by a retry after a kill), but a job fault may not', () => {
    const adopted =
      'deployEndpoint: deployment demo failed to provision (Standard_NC6s_v3); check quota and capacity for this instance type (DeploymentFailed)';
    expect(
      verdict({
        ...base,
        status: 'failed',
        failedStep: 'deployEndpoint',
        error: adopted,
        faults: [{ kind: 'quota-exceeded', target: 'PUT deployment', hits: 1 }],
      }),
    ).toMatchObject({ lostRuns: 0, outcomes: { 'failed: provisioning-failed': 1 } });
    expect(
      verdict({
        ...base,
        status: 'failed',
        failedStep: 'deployEndpoint',
        error: adopted,
        faults: [{ kind: 'job-failed', target: 'job', hits: 1 }],
      }),
    ).toMatchObject({ lostRuns: 1 });
  });
});

describe('chaos mode on the local stack', () => {
  test(`${RUNS} runs, seed ${SEED}: faults and worker kills leave no endpoint, no second job and no lost run`, async () => {
    const report = await runChaos({
      runs: RUNS,
      seed: SEED,
      // All at once: most of a run's time is waiting (Retry-After, backoff, heartbeat timeouts), not CPU.
      concurrency: RUNS,
      kills: 2,
      dataDir: path.join(process.env.FTFLOW_TEST_DATA_DIR ?? path.join('.data', 'test'), 'chaos'),
      stack: {
        namespace: 'default',
        caFile: process.env.NODE_EXTRA_CA_CERTS ?? '',
        urls: {
          temporalAddress: temporalAddress(),
          emulator: emulatorUrl(),
          azuriteBlob: process.env.FTFLOW_TEST_AZURITE_URL ?? '',
        },
        clientSecret: process.env.AZURE_CLIENT_SECRET ?? '',
      },
      runTimeoutSeconds: 240,
      log: (line) => process.stderr.write(`[chaos] ${line}\n`),
    });
    process.stderr.write(`${formatReport(report)}\n`);
    expect(report.kills).toBeGreaterThanOrEqual(1);
    expect(report.faultsInjectedTotal).toBeGreaterThanOrEqual(5);
    expect(
      report.faultsInjected['job-failed'] + report.faultsInjected['deployment-provisioning-failed'],
    ).toBeGreaterThanOrEqual(1);
    expect({ lost: report.lost, leaked: report.leaked, duplicates: report.duplicates }).toEqual({
      lost: [],
      leaked: [],
      duplicates: [],
    });
    expect(report.endpointSecondsAfterClose).toBeLessThanOrEqual(report.toleranceSeconds);
    expect(report.deploymentInstanceSecondsAfterClose).toBeLessThanOrEqual(report.toleranceSeconds);
    expect(report.ok).toBe(true);
  }, 300_000);
});
