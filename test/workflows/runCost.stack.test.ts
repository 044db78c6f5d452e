// What a run cost, after it, against the local stack: each succeeded run's record and result carry the cost
// measured from Azure's own records (the job's root run in RunHistory: start, end, nodes; the deployments from
// their creation to the deletion seen complete), and it matches the emulator's billing meter, which accrues
// node-seconds per job and instance-seconds per deployment on its own clock and prices them with the same
// table (finetune-flow/cost), within 1%. The estimate made before the job is on the record too.
import { emulatorUrl, startHarness, withClock, type TestHarness } from '../helpers/localStack';

interface BillingReport {
  prices: { region: string; snapshot: string };
  jobs: { name: string; nodeSeconds: number; usd: number | null }[];
  deployments: { endpoint: string; instanceType: string; instanceSeconds: number; usd: number | null }[];
}

const QUICK = { heartbeatTimeoutSeconds: 5 };
/**
 * The deletion is seen complete within a poll of FTFLOW_LRO_POLL_MS (50 ms here, with room in the worker's
 * read budget for it): the endpoint's measured seconds run late by up to that much. On the emulator's
 * compressed clock an endpoint lives a few seconds, so its provisioning is slowed to 4 s for these runs: the
 * lag is then a fraction of a percent, as it is of a real endpoint's quarter of an hour.
 */
const PRECISE = { FTFLOW_LRO_POLL_MS: '50', FTFLOW_ARM_READS_PER_SECOND: '100', FTFLOW_ARM_BURST: '200' };
const CLOCK = { provisionMs: 4000 };

async function billing(): Promise<BillingReport> {
  const res = await fetch(`${emulatorUrl()}/_emulator/billing`);
  expect(res.status).toBe(200);
  return (await res.json()) as BillingReport;
}

let h: TestHarness;
beforeAll(async () => {
  h = await startHarness({}, PRECISE);
});
afterAll(async () => {
  await h?.stop();
});

test("each succeeded run's actual cost matches the emulator's billing meter within 1%", async () => {
  const stamp = Date.now();
  const specs = [
    // The seed's run: one A100 node, the endpoint on Standard_NC6s_v3.
    { name: 'seed', spec: {} },
    // Two nodes for training, two instances for the endpoint, and a keep-alive minute.
    {
      name: 'two-by-two',
      spec: {
        compute: { name: `cost-2x2-${stamp}`, maxNodes: 2 },
        training: { num_nodes_finetune: 2 },
        deployment: { instanceCount: 2, keepAliveMinutes: 1 },
      },
    },
  ];
  const runs = await withClock(CLOCK, () =>
    Promise.all(
      specs.map(async ({ name, spec }) => {
        const run = await h.client.start(spec, { idempotencyKey: `cost-${name}-${stamp}`, options: QUICK });
        return { name, run, result: await h.client.result(run.runId), record: await h.client.get(run.runId) };
      }),
    ),
  );
  const meter = await billing();
  const rows: string[] = [];
  for (const { name, run, result, record } of runs) {
    const cost = result.cost;
    expect(cost).toBeDefined();
    expect(record.cost).toEqual(cost);
    expect(cost?.estimate?.prices).toMatchObject({ region: meter.prices.region, snapshot: meter.prices.snapshot });
    const job = meter.jobs.find((j) => j.name === result.job.name);
    const deployments = meter.deployments.filter((d) => d.endpoint === run.names.endpointName);
    expect(job?.usd).toEqual(expect.any(Number));
    expect(deployments).toHaveLength(1);
    const metered = (job?.usd ?? 0) + deployments.reduce((s, d) => s + (d.usd ?? 0), 0);
    const actual = cost?.actualUsd ?? NaN;
    // Training from the job's own timeline: the same seconds as the meter's.
    expect(cost?.actual?.training.nodeSeconds).toBeCloseTo(job?.nodeSeconds ?? NaN, 1);
    expect(Math.abs(actual - metered) / metered).toBeLessThan(0.01);
    const instanceSeconds = deployments.reduce((s, d) => s + d.instanceSeconds, 0);
    rows.push(
      `${name}: estimate $${cost?.estimatedUsd?.toFixed(2)} (real-Azure assumptions), actual $${actual.toFixed(6)} ` +
        `(training ${cost?.actual?.training.nodeSeconds} node-s, endpoint ${cost?.actual?.endpoint.instanceSeconds} instance-s), ` +
        `meter $${metered.toFixed(6)} (${job?.nodeSeconds} node-s, ${instanceSeconds} instance-s): ` +
        `${((100 * (actual - metered)) / metered).toFixed(3)}%`,
    );
  }
  expect(runs[1]?.result.cost?.actual?.training.jobs[0]?.nodes).toBe(2);
  expect(runs[1]?.result.cost?.actual?.endpoint.deployments[0]?.instances).toBe(2);
  console.log(`cost, measured against the emulator's meter:\n  ${rows.join('\n  ')}`);
});
