// The staging and recovery benches in smoke mode (tiny dataset, one kill): they run end to end and
// print a result line of the right shape with sane figures. The real figures come from
// `npm run bench:staging` and `npm run bench:recovery` (bench/results/), not from `make test`.
import { execFile, spawn } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parseResultLine } from '../../bench/common';
import { PROJECT_ROOT } from '../../devstack/stack/paths';

const BENCH_DIST = path.join(PROJECT_ROOT, '.data', 'bench-dist');

interface StagingLine {
  bench: string;
  smoke: boolean;
  levels: {
    percent: number;
    jsonlBytes: number;
    rows: number;
    ratio: number;
    stageMbps: number[];
    rawMbps: number[];
    peakRssMiB: number;
  }[];
  targets: Record<string, unknown>;
}

interface RecoveryLine {
  bench: string;
  smoke: boolean;
  kills: {
    step: string;
    attemptStartedSeconds: number;
    heartbeatResumedSeconds: number;
    heartbeatTimeoutSeconds: number;
    killedAttempt: number;
  }[];
  runs: { status: string; jobs: number }[];
}

/** Runs a compiled bench with --smoke; resolves with its stdout (stderr is kept for the failure message). */
function runSmoke(bench: string): Promise<{ stdout: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(BENCH_DIST, 'bench', bench, 'main.js'), '--smoke'], {
      cwd: PROJECT_ROOT,
      env: process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('exit', (code) => {
      if (code === 0) resolve({ stdout, seconds: (Date.now() - started) / 1000 });
      else reject(new Error(`bench ${bench} --smoke exited ${code}\n${stderr.split('\n').slice(-30).join('\n')}`));
    });
  });
}

describe('staging and recovery benches, smoke mode', () => {
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
      {
        cwd: PROJECT_ROOT,
      },
    );
  }, 120_000);

  test('both run and report a sane result line: staging ratio > 0, recovery measured, one job', async () => {
    const [staging, recovery] = await Promise.all([runSmoke('staging'), runSmoke('recovery')]);

    const s = parseResultLine(staging.stdout) as unknown as StagingLine;
    expect(s).toMatchObject({ bench: 'staging', smoke: true });
    expect(s.levels).toHaveLength(1);
    const level = s.levels[0];
    expect(level.percent).toBe(100);
    expect(level.jsonlBytes).toBeGreaterThan(0);
    expect(level.rows).toBeGreaterThan(0);
    expect(level.ratio).toBeGreaterThan(0);
    expect(level.stageMbps[0]).toBeGreaterThan(0);
    expect(level.rawMbps[0]).toBeGreaterThan(0);
    expect(level.peakRssMiB).toBeGreaterThan(0);
    expect(s.targets).toHaveProperty('ratioMet');

    const r = parseResultLine(recovery.stdout) as unknown as RecoveryLine;
    expect(r).toMatchObject({ bench: 'recovery', smoke: true });
    expect(r.kills).toHaveLength(1);
    const kill = r.kills[0];
    expect(kill.step).toBe('awaitPipeline');
    expect(kill.killedAttempt).toBeGreaterThanOrEqual(1);
    // measured: the next attempt started after the restart, within a sane bound (no target: machines vary)
    expect(kill.attemptStartedSeconds).toBeGreaterThan(0);
    expect(kill.heartbeatResumedSeconds).toBeGreaterThanOrEqual(kill.attemptStartedSeconds);
    expect(kill.heartbeatResumedSeconds).toBeLessThan(kill.heartbeatTimeoutSeconds + 60);
    expect(r.runs).toEqual([expect.objectContaining({ status: 'succeeded', jobs: 1 })]);

    process.stderr.write(
      `[smoke] staging ${staging.seconds.toFixed(1)} s, recovery ${recovery.seconds.toFixed(1)} s (in parallel)\n`,
    );
  }, 120_000);
});
