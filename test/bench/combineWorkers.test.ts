// Several worker processes reported as one level figure: what one process needs (the largest RSS) and
// what the level cost (CPU summed).
import type { ProcSummary } from '../../bench/common';
import { combineWorkers } from '../../bench/scale/scale';

const proc = (pid: number, peakRssMiB: number, cpuSeconds: number, avgCpuPercent: number, peakCpuPercent: number) =>
  ({
    pid,
    samples: 100,
    wallSeconds: 100,
    peakRssMiB,
    lastRssMiB: peakRssMiB - 10,
    cpuSeconds,
    avgCpuPercent,
    peakCpuPercent,
    windowSeconds: 10,
  }) satisfies ProcSummary;

test('one process is itself', () => {
  const one = proc(1, 300, 20, 20, 50);
  expect(combineWorkers([one])).toBe(one);
});

test('several: the largest peak RSS, CPU seconds and average % summed, the busiest window', () => {
  expect(combineWorkers([proc(1, 300, 20, 20, 50), proc(2, 420, 10.5, 10.5, 80)])).toMatchObject({
    peakRssMiB: 420,
    lastRssMiB: 410,
    cpuSeconds: 30.5,
    avgCpuPercent: 30.5,
    peakCpuPercent: 80,
  });
});
