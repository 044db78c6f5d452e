// The scale and overhead benchmarks in smoke mode, against the test stack: they run end to end and
// their JSON result line has the documented shape (the figures themselves mean nothing at this size).
import { parseResultLine } from '../../bench/common';
import { runOverheadBench } from '../../bench/overhead/main';
import { runScaleBench } from '../../bench/scale/main';
import { STEPS } from '../../src/workflows/definitions';
import { emulatorUrl, temporalAddress } from '../helpers/localStack';

test('bench:scale --smoke and bench:overhead --smoke complete every run, leave no endpoint and print their result line', async () => {
  const target = {
    temporalAddress: temporalAddress(),
    namespace: 'default',
    emulatorUrl: emulatorUrl(),
    workerEnv: process.env,
  };
  const printed = { scale: '', overhead: '' };
  const quiet = () => undefined;
  // Side by side, to stay within the time a smoke test may take (each starts its own worker process).
  const [scale, overhead] = await Promise.all([
    runScaleBench({
      smoke: true,
      levels: [3],
      jobSeconds: 5,
      timeoutMinutes: 1,
      target,
      log: quiet,
      out: (t) => (printed.scale += t),
    }),
    runOverheadBench({ smoke: true, runs: 1, target, log: quiet, out: (t) => (printed.overhead += t) }),
  ]);

  expect(parseResultLine(printed.scale)).toEqual(JSON.parse(JSON.stringify(scale)));
  expect(scale).toMatchObject({
    bench: 'scale',
    smoke: true,
    machine: { cpus: expect.any(Number), node: process.version },
  });
  expect(scale.levels).toHaveLength(1);
  const level = scale.levels[0];
  expect(level).toMatchObject({
    runs: 3,
    runsCompleted: 3,
    runsFailed: 0,
    endpointsLeft: 0,
    jobs: 3,
    peakRunsWaitingOnJob: expect.any(Number),
  });
  expect(level.worker.peakRssMiB).toBeGreaterThan(50);
  expect(level.worker.cpuSeconds).toBeGreaterThan(0);
  // The worker's memory breakdown (a report a second in smoke mode): the workflow thread's heap is known.
  expect(level.memory).toMatchObject({ rssMiB: expect.any(Number), workflowHeapUsedMiB: expect.any(Number) });
  expect(level.memory?.rssMiB).toBeGreaterThan(50);
  expect(level.temporal.actionsPerRun.workflowStarted).toBe(1);
  expect(level.temporal.actionsPerRun.activityAttempts).toBeGreaterThanOrEqual(STEPS.length);
  expect(level.arm.reads).toBeGreaterThan(0);
  expect(level.arm.throttled).toBe(0);
  expect(level.noticeDelaySeconds.samples).toBe(3);
  expect(level.noticeDelaySeconds.p95).toEqual(expect.any(Number));

  expect(parseResultLine(printed.overhead)).toEqual(JSON.parse(JSON.stringify(overhead)));
  expect(overhead).toMatchObject({ bench: 'overhead', smoke: true, runs: 1, runsCompleted: 1, endpointsLeft: 0 });
  // The eleven steps, with the cost estimate before the job and the measured cost at the end (src/workflows/runCost.ts).
  const validated = STEPS.indexOf('validateCompute') + 1;
  expect(Object.keys(overhead.perActivityMedian)).toEqual([
    ...STEPS.slice(0, validated),
    'estimateCost',
    ...STEPS.slice(validated),
    'measureCost',
  ]);
  const { wallMs, activityWorkMs, azureMs } = overhead.median;
  expect(wallMs).toBeGreaterThan(0);
  expect(activityWorkMs).toBeGreaterThan(0);
  expect(azureMs).toBeGreaterThan(0);
  expect(wallMs).toBeGreaterThanOrEqual(activityWorkMs ?? Infinity);
}, 60_000);
