// One clock: real or stepped (time stands still until an admin call advances it), per-phase job
// durations, a speed multiplier, and a state file that keeps the stepped time across a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionsFromArgs } from '../../../devstack/emulator/main';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import {
  admin,
  advance,
  armToken,
  call,
  jobRecord,
  jobWalk,
  pipelineJobBody,
  sleep,
  startTestEmulator,
  WS,
  createCluster,
} from './helpers';

const v = '?api-version=2022-10-01';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emulator-clock-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function setUp(emulator: RunningEmulator, token: string): Promise<void> {
  await createCluster(emulator, token, 'gpu');
}

async function jobStatus(emulator: RunningEmulator, token: string, name: string): Promise<string> {
  return ((await call(emulator, `${WS}/jobs/${name}${v}`, { token })).body as { properties: { status: string } })
    .properties.status;
}

test('stepped time stands still until advanced, and walks the job through its per-phase durations', async () => {
  const emulator = await startTestEmulator({
    timeMode: 'stepped',
    clock: { jobPhaseMs: 1000, jobPhases: { Queued: 5000, Running: 20_000 }, provisionMs: 0 },
  });
  try {
    const token = await armToken(emulator);
    await setUp(emulator, token);
    const before = await admin<{ mode: string; nowMs: number }>(emulator, 'clock');
    expect(before.mode).toBe('stepped');
    await call(emulator, `${WS}/jobs/j1${v}`, {
      method: 'PUT',
      token,
      body: pipelineJobBody({ compute: 'gpu', train: 'a/t.jsonl', test: 'a/t.jsonl' }),
    });
    await sleep(200);
    expect((await admin<{ nowMs: number }>(emulator, 'clock')).nowMs).toBe(before.nowMs);
    expect(await jobStatus(emulator, token, 'j1')).toBe('NotStarted');
    const walk: [number, string][] = [
      [999, 'NotStarted'],
      [1, 'Queued'],
      [4999, 'Queued'],
      [1, 'Preparing'],
      [1000, 'Running'],
      [19_999, 'Running'],
      [1, 'Finalizing'],
      [1000, 'Completed'],
    ];
    for (const [ms, expected] of walk) {
      await advance(emulator, ms);
      expect([ms, await jobStatus(emulator, token, 'j1')]).toEqual([ms, expected]);
    }
    // The emulator's record of the walk: each status with the emulator time it began.
    expect(jobWalk(await jobRecord(emulator, 'j1'))).toEqual([
      ['NotStarted', 0],
      ['Queued', 1000],
      ['Preparing', 6000],
      ['Running', 7000],
      ['Finalizing', 27_000],
      ['Completed', 28_000],
    ]);
  } finally {
    await emulator.close();
  }
});

test('the speed multiplier scales the durations of resources created from then on', async () => {
  const emulator = await startTestEmulator({
    timeMode: 'stepped',
    clock: { jobPhaseMs: 1000, provisionMs: 1000, speed: 2 },
  });
  try {
    const token = await armToken(emulator);
    await call(emulator, `${WS}/onlineEndpoints/ep-fast${v}`, {
      method: 'PUT',
      token,
      body: { location: 'eastus', properties: { authMode: 'Key' } },
    });
    await advance(emulator, 500);
    expect(await call(emulator, `${WS}/onlineEndpoints/ep-fast${v}`, { token })).toMatchObject({
      body: { properties: { provisioningState: 'Succeeded' } },
    });
    // Changing the clock leaves existing resources alone.
    const clock = await admin<{ speed: number; provisionMs: number }>(emulator, 'clock', {
      method: 'PUT',
      body: { speed: 0.5 },
    });
    expect(clock).toMatchObject({ speed: 0.5, provisionMs: 1000 });
    await call(emulator, `${WS}/onlineEndpoints/ep-slow${v}`, {
      method: 'PUT',
      token,
      body: { location: 'eastus', properties: { authMode: 'Key' } },
    });
    await advance(emulator, 1999);
    expect(await call(emulator, `${WS}/onlineEndpoints/ep-slow${v}`, { token })).toMatchObject({
      body: { properties: { provisioningState: 'Creating' } },
    });
    await advance(emulator, 1);
    expect(await call(emulator, `${WS}/onlineEndpoints/ep-slow${v}`, { token })).toMatchObject({
      body: { properties: { provisioningState: 'Succeeded' } },
    });
    expect((await call(emulator, '/_emulator/clock', { method: 'PUT', body: { speed: 0 } })).status).toBe(400);
    expect(
      (await call(emulator, '/_emulator/clock', { method: 'PUT', body: { jobPhases: { Sleeping: 1 } } })).status,
    ).toBe(400);
  } finally {
    await emulator.close();
  }
});

test('switching modes keeps time continuous; real mode follows the wall clock again', async () => {
  const emulator = await startTestEmulator({ timeMode: 'stepped' });
  try {
    const stepped = await advance(emulator, 3_600_000);
    const real = await admin<{ mode: string; nowMs: number }>(emulator, 'clock', {
      method: 'PUT',
      body: { mode: 'real' },
    });
    expect(real.mode).toBe('real');
    expect(real.nowMs).toBeGreaterThanOrEqual(stepped);
    await sleep(60);
    expect((await admin<{ nowMs: number }>(emulator, 'clock')).nowMs).toBeGreaterThanOrEqual(real.nowMs + 50);
    expect(real.nowMs - Date.now()).toBeGreaterThan(3_500_000);
  } finally {
    await emulator.close();
  }
});

test('the state file keeps stepped time and the jobs on it across a restart', async () => {
  const stateFile = join(dir, 'stepped.json');
  const first = await startTestEmulator({
    stateFile,
    timeMode: 'stepped',
    clock: { jobPhaseMs: 1000, provisionMs: 0 },
  });
  const token = await armToken(first);
  await setUp(first, token);
  await call(first, `${WS}/jobs/j-restart${v}`, {
    method: 'PUT',
    token,
    body: pipelineJobBody({ compute: 'gpu', train: 'a/t.jsonl', test: 'a/t.jsonl' }),
  });
  const at = await advance(first, 2500);
  await first.close();
  const second = await startTestEmulator({ stateFile, timeMode: 'stepped', clientSecret: first.clientSecret });
  try {
    expect((await admin<{ nowMs: number }>(second, 'clock')).nowMs).toBe(at);
    expect(await jobStatus(second, token, 'j-restart')).toBe('Preparing');
    expect(jobWalk(await jobRecord(second, 'j-restart'))).toEqual([
      ['NotStarted', 0],
      ['Queued', 1000],
      ['Preparing', 2000],
    ]);
    await advance(second, 1500);
    expect(await jobStatus(second, token, 'j-restart')).toBe('Finalizing');
  } finally {
    await second.close();
  }
});

test('the CLI flags for time, throttling, quotas and contract checks map onto the options', () => {
  const opts = optionsFromArgs(
    [
      '--speed',
      '4',
      '--job-phases',
      'Queued=100,Running=2000',
      '--clock-mode',
      'stepped',
      '--throttle-reads',
      '50:5',
      '--throttle-writes',
      '20:2',
      '--vcpu-quota',
      'standardNCSv3Family=24',
      '--vcpu-quota',
      'StandardNCADSA100v4Family=48',
      '--default-vcpu-quota',
      '10',
      '--regional-vcpu-quota',
      '100',
      '--max-endpoints',
      '3',
      '--contract-requests',
      'on',
      '--contract-responses',
      'record',
    ],
    {},
  );
  expect(opts).toEqual({
    clock: { speed: 4, jobPhases: { Queued: 100, Running: 2000 } },
    timeMode: 'stepped',
    throttle: { reads: { capacity: 50, refillPerSecond: 5 }, writes: { capacity: 20, refillPerSecond: 2 } },
    quotas: {
      familyVcpus: { standardNCSv3Family: 24, StandardNCADSA100v4Family: 48 },
      defaultFamilyVcpus: 10,
      totalRegionalVcpus: 100,
      maxEndpoints: 3,
    },
    contract: { requests: true, responses: 'record' },
  });
  expect(optionsFromArgs(['--throttle', 'off'], {})).toEqual({ clock: {}, throttle: false });
  expect(() => optionsFromArgs(['--job-phases', 'Sleeping=1'], {})).toThrow(/not a job phase/);
  expect(() => optionsFromArgs(['--throttle-reads', '50'], {})).toThrow(/CAPACITY:REFILL_PER_SECOND/);
  expect(() => optionsFromArgs(['--speed', '0'], {})).toThrow(/--speed/);
  expect(() => optionsFromArgs(['--clock-mode', 'frozen'], {})).toThrow(/--clock-mode/);
});
