// bench:cluster in smoke mode: a fresh cluster per worker count (1, then 2 worker processes on one task
// queue), 3 runs each. Every run completes with one job and its endpoint deleted, the result line has the
// documented shape, each worker process is sampled, and each took its share of the ARM budget.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runClusterBench } from '../../bench/cluster/main';
import { parseResultLine } from '../../bench/common';

test('bench:cluster --smoke runs on 1 and 2 workers that split the ARM budget, and prints its result line', async () => {
  let printed = '';
  const result = await runClusterBench({
    smoke: true,
    runs: 3,
    workerCounts: [1, 2],
    jobSeconds: 5,
    timeoutMinutes: 4,
    log: () => undefined,
    out: (t) => (printed += t),
  });
  expect(parseResultLine(printed)).toEqual(JSON.parse(JSON.stringify(result)));
  expect(result).toMatchObject({ bench: 'cluster', smoke: true, runs: 3 });
  expect(result.results.map((r) => r.workers)).toEqual([1, 2]);
  for (const r of result.results) {
    expect(r.level).toMatchObject({ runs: 3, runsCompleted: 3, runsFailed: 0, endpointsLeft: 0, jobs: 3 });
    expect(r.level.arm.throttled).toBe(0);
    expect(r.level.noticeDelaySeconds.samples).toBe(3);
    expect(r.level.workers).toHaveLength(r.workers);
    expect(new Set(r.level.workers.map((w) => w.pid)).size).toBe(r.workers);
    for (const w of r.level.workers) expect(w.peakRssMiB).toBeGreaterThan(50);
    expect(r.level.worker.peakRssMiB).toBe(Math.max(...r.level.workers.map((w) => w.peakRssMiB)));
  }
  // Each worker announced its share: 20 reads/s whole, 10 each when two split it.
  const logs = path.join(__dirname, '..', '..', '.data', 'bench-cluster', 'logs');
  const shares = fs
    .readdirSync(logs)
    .filter((f) => /^worker-3-live-on-2w-\d\.log$/.test(f))
    .map((f) => /"readsPerSecond":\s*([\d.]+)/.exec(fs.readFileSync(path.join(logs, f), 'utf8'))?.[1]);
  expect(shares).toEqual(['10', '10']);
  expect(printed).toMatch(/notice delay p95 s/);
});
