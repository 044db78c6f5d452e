// bench:notebook in smoke mode (its own fresh stack, a 5 s job, two streaming threads): the notebook's
// flow made with azure-ai-ml and one finetune-flow run both complete on it, each deletes its endpoint,
// and the result line has the documented shape with sane figures. The real figures come from
// `npm run bench:notebook` (bench/results/notebook.json), not from `make test`.
import { execFile, spawn } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parseResultLine } from '../../bench/common';
import type { NotebookBenchResult, NotebookWay, ServiceWay } from '../../bench/notebook/main';
import { PROJECT_ROOT } from '../../devstack/stack/paths';

const BENCH_DIST = path.join(PROJECT_ROOT, '.data', 'bench-dist');

function runSmoke(): Promise<{ stdout: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(BENCH_DIST, 'bench', 'notebook', 'main.js'), '--smoke'], {
      cwd: PROJECT_ROOT,
      env: process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('exit', (code) => {
      if (code === 0) resolve({ stdout, seconds: (Date.now() - started) / 1000 });
      else reject(new Error(`bench notebook --smoke exited ${code}\n${stderr.split('\n').slice(-40).join('\n')}`));
    });
  });
}

/** What both ways must show: completed, endpoint deleted, requests counted, times and resources measured. */
function expectSaneWay(w: NotebookWay | ServiceWay, jobSeconds: number): void {
  expect(w).toMatchObject({ completed: true, endpointDeleted: true });
  expect(w.jobName).not.toBe('');
  expect(w.requests.arm.reads).toBeGreaterThan(0);
  expect(w.requests.arm.writes).toBeGreaterThan(0);
  expect(w.requests.arm.deletes).toBeGreaterThanOrEqual(1);
  expect(w.requests.arm.total).toBe(w.requests.arm.reads + w.requests.arm.writes + w.requests.arm.deletes);
  expect(w.requests.other.token).toBeGreaterThan(0);
  expect(w.requests.other.registry).toBeGreaterThan(0);
  expect(w.requests.other.scoring).toBe(1);
  expect(w.requests.other.blob).toBeGreaterThan(0);
  expect(w.requests.other.total).toBeGreaterThan(0);
  // The job's five phases (four of 1.5 s and the Running phase) are inside Azure's waits, and inside the wall time.
  expect(w.azureWaitsByKind.job).toBeGreaterThanOrEqual(jobSeconds + 6 - 0.5);
  expect(w.azureWaitsByKind.provisioning).toBeGreaterThan(0);
  expect(w.azureWaitsByKind.deletion).toBeGreaterThan(0);
  expect(w.wallSeconds).toBeGreaterThan(w.azureWaitSeconds);
  expect(w.outsideAzureSeconds).toBeCloseTo(w.wallSeconds - w.azureWaitSeconds, 0);
  expect(w.noticeDelaySeconds).toEqual(expect.any(Number));
  expect(w.cpuSeconds).toBeGreaterThan(0);
  expect(w.whileJobRuns.windowSeconds).toBeCloseTo(jobSeconds, 0);
}

describe('bench:notebook, smoke mode', () => {
  beforeAll(async () => {
    // incremental: quick when the benches were compiled before (npm run bench:*)
    await promisify(execFile)(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc'),
        '-p',
        'bench/tsconfig.json',
        '--incremental',
        '--tsBuildInfoFile',
        path.join(BENCH_DIST, '.tsbuildinfo'),
      ],
      { cwd: PROJECT_ROOT },
    );
  }, 180_000);

  test("the notebook's flow and one service run both complete, delete their endpoints and report sane figures", async () => {
    const { stdout, seconds } = await runSmoke();
    const r = parseResultLine(stdout) as unknown as NotebookBenchResult;
    expect(r).toMatchObject({ bench: 'notebook', smoke: true, settings: { jobRunningSeconds: 5, streamThreads: 2 } });
    expect(r.runs).toHaveLength(1);
    const { notebook, service } = r.runs[0];

    expectSaneWay(notebook, 5);
    // The notebook's last cell deleted its endpoint; its wait was jobs.stream, which polls RunHistory.
    expect(notebook.endpointName).toMatch(/^ultrachat-completion-\d+$/);
    expect(notebook.steps.map((s) => s.step)).toContain('stream_job');
    expect(notebook.whileJobRuns.pollCycles).toBeGreaterThanOrEqual(1);
    expect(notebook.whileJobRuns.requests.runHistory).toBeGreaterThanOrEqual(1);
    expect(notebook.process.importSeconds).toBeGreaterThan(0);
    expect(notebook.process.rssAfterImportMiB).toBeGreaterThan(30);
    expect(notebook.process.peakRssMiB).toBeGreaterThanOrEqual(notebook.process.rssAfterImportMiB ?? Infinity);
    expect(notebook.requests.cloudMetadata).toBeGreaterThan(0);

    expectSaneWay(service, 5);
    expect(service.endpointName).toMatch(/^ftflow-/);
    // No cloud metadata; the one public GET the service may make is the workspace's discovery document, which
    // measureCost reads once per worker to find RunHistory (the emulator serves both on its public surface).
    expect(service.requests.cloudMetadata).toBeLessThanOrEqual(1);
    expect(service.requests.other.hub).toBeGreaterThan(0);
    expect(service.worker.baselineRssMiB).toBeGreaterThan(50);
    expect(service.worker.peakRssDuringMiB).toBeGreaterThan(50);
    expect(service.temporalServer?.cpuSeconds).toEqual(expect.any(Number));

    expect(r.streamsProbe).toMatchObject({ streams: 2, errors: [] });
    expect(r.streamsProbe?.pollCycles).toBeGreaterThanOrEqual(2);
    expect(r.streamsProbe?.rssPeakMiB).toBeGreaterThan(30);

    const { kernelPerJob, threadsInOneProcess } = r.follow1000.notebook;
    expect(kernelPerJob).toMatchObject({ processes: 1000, threads: 1 });
    expect(kernelPerJob.memoryGiB).toBeGreaterThan(10);
    expect(threadsInOneProcess).toMatchObject({ processes: 1, threads: 1000 });
    expect(r.follow1000.service.scale).toMatchObject({ source: 'bench/results/scale.json' });
    expect(r.follow1000.service.scale?.workerPeakRssMiB).toBeGreaterThan(0);

    process.stderr.write(`[smoke] notebook bench ${seconds.toFixed(1)} s\n`);
  }, 600_000);
});
