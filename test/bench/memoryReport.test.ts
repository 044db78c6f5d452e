// The scale bench reads the worker's memory breakdown from its log: the report with the largest RSS.
import { peakMemoryReport } from '../../bench/scale/scale';

const report = (rssMiB: number, workflowHeapUsedMiB: number | null) =>
  JSON.stringify({
    time: '2026-12-06T08:00:00.000Z',
    level: 'INFO',
    message: 'worker memory',
    memory: {
      rssMiB,
      mainHeapUsedMiB: 60,
      mainHeapTotalMiB: 70,
      externalMiB: 5,
      arrayBuffersMiB: 2,
      workflowHeapUsedMiB,
      workflowHeapTotalMiB: workflowHeapUsedMiB === null ? null : workflowHeapUsedMiB + 10,
      otherMiB: 200,
      cachedWorkflows: 10,
      runningActivities: 3,
    },
  });

test('the largest report by RSS, skipping other lines and a line cut short', () => {
  const log = [
    '{"level":"INFO","message":"WORKER_READY q"}',
    report(400, 20),
    report(520, 80),
    report(480, 90),
    '{"level":"INFO","message":"worker memory","memory":{"rssMiB":9',
  ].join('\n');
  expect(peakMemoryReport(log)).toMatchObject({ rssMiB: 520, workflowHeapUsedMiB: 80, cachedWorkflows: 10 });
});

test('no report: null', () => {
  expect(peakMemoryReport('{"message":"WORKER_READY q"}\n')).toBeNull();
});
