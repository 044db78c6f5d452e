// `ftflow` as a process against the local stack: idempotent start, live watch, exit codes, cancel,
// schedules and the janitor.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import { startHarness, type TestHarness } from '../helpers/localStack';
import { ftflow } from '../helpers/frontEnds';

const json = <T>(text: string): T => JSON.parse(text) as T;

describe('the ftflow CLI on the local stack', () => {
  let h: TestHarness;
  let dir: string;
  const stamp = Date.now();
  beforeAll(async () => {
    h = await startHarness();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-cli-'));
    fs.writeFileSync(path.join(dir, 'spec.yaml'), 'dataset:\n  percent: 5.5\ntraining:\n  num_train_epochs: 1\n');
    fs.writeFileSync(
      path.join(dir, 'bad.json'),
      JSON.stringify({ dataset: { percent: 0 }, deployment: { keepAliveMinutes: -1 } }),
    );
  });
  afterAll(async () => {
    await h?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const cli = (...args: string[]) => ftflow(args, h.taskQueue, { cwd: dir });
  /** The same command line in this process (no Node start-up): for the commands whose process behaviour is covered elsewhere. */
  async function inProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io = (asJson: boolean): CliIO => ({
      out: (l) => (stdout += l + '\n'),
      err: (l) => (stderr += l + '\n'),
      write: (t) => (stdout += t),
      isTTY: false,
      json: asJson,
    });
    const files = args.map((a) => (/^[\w-]+\.(yaml|json)$/.test(a) ? path.join(dir, a) : a));
    const code = await runCli(['node', 'ftflow', ...files], {
      io,
      env: { ...process.env, FTFLOW_TASK_QUEUE: h.taskQueue },
    });
    return { code, stdout, stderr };
  }

  test('start twice with one idempotency key gives one run; watch follows it live to the end', async () => {
    const key = `cli-${stamp}`;
    const first = await cli('start', 'spec.yaml', '--idempotency-key', key, '--heartbeat-timeout', '3', '--json');
    const second = await cli('start', 'spec.yaml', '--idempotency-key', key, '--json');
    expect([first.code, second.code]).toEqual([0, 0]);
    const a = json<{ runId: string; created: boolean }>(first.stdout);
    const b = json<{ runId: string; created: boolean }>(second.stdout);
    expect(a).toMatchObject({ runId: `ft-${key}`, created: true });
    expect(b).toMatchObject({ runId: a.runId, created: false });

    // On a terminal the display is redrawn in place (cursor up, clear) until the run ends.
    let screen = '';
    const tty: CliIO = {
      out: (l) => (screen += l + '\n'),
      err: () => undefined,
      write: (t) => (screen += t),
      isTTY: true,
      json: false,
    };
    const code = await runCli(['node', 'ftflow', 'watch', a.runId, '--interval', '0.3'], {
      io: () => tty,
      env: { ...process.env, FTFLOW_TASK_QUEUE: h.taskQueue },
    });
    expect(code).toBe(0);
    expect(screen).toMatch(/\x1b\[\d+A\r\x1b\[J/);
    expect(screen).toMatch(/succeeded/);
    expect(screen).toMatch(/^metrics loss=/m);

    // Piped, it prints plain lines: the steps, the job status, the end.
    const plain = await cli('watch', a.runId);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/✓ deleteEndpoint/);
    expect(plain.stdout).toMatch(/job ftflow-\S+ Completed/);
    expect(plain.stdout).toMatch(/succeeded/);

    const status = json<{ status: string; steps: unknown[] }>((await inProcess('status', a.runId, '--json')).stdout);
    expect(status).toMatchObject({ status: 'succeeded' });
    expect(status.steps).toHaveLength(11);
    const listed = json<{ data: { id: string }[] }>(
      (await inProcess('list', '--status', 'succeeded', '--limit', '100', '--json')).stdout,
    );
    expect(listed.data.map((r) => r.id)).toContain(a.runId);
    const events = json<{ data: { type: string }[]; hasMore: boolean }>(
      (await inProcess('events', a.runId, '--limit', '3', '--json')).stdout,
    );
    expect(events.data.map((e) => e.type)).toEqual(['run.started', 'step.started', 'step.completed']);
    expect(events.hasMore).toBe(true);
  });

  test('bad input exits 2 naming each field; unknown run 5; conflicts 6; unreachable Temporal 7', async () => {
    const bad = await cli('start', 'bad.json');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/dataset\.percent: dataset\.percent must be greater than 0/);
    expect(bad.stderr).toMatch(/deployment\.keepAliveMinutes/);
    const badJson = await inProcess('start', 'bad.json', '--json');
    expect(json<{ error: { fields: { field: string }[]; exitCode: number } }>(badJson.stdout).error).toMatchObject({
      exitCode: 2,
      fields: [{ field: 'dataset.percent' }, { field: 'deployment.keepAliveMinutes' }],
    });
    expect((await inProcess('start', 'missing.yaml')).code).toBe(2);
    expect((await inProcess('start', '--percent', 'lots')).code).toBe(2);
    expect((await inProcess('start', '--set', 'nonsense')).code).toBe(2);
    expect((await inProcess('list', '--status', 'sleeping')).code).toBe(2);
    expect((await cli('no-such-command')).code).toBe(2);

    const unknown = await cli('status', 'ft-no-such-run');
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toMatch(/no run ft-no-such-run/);

    const conflict = await cli('start', 'spec.yaml', '--percent', '7', '--idempotency-key', `cli-${stamp}`);
    expect(conflict.code).toBe(6);
    expect(conflict.stderr).toMatch(/used before with a different run spec/);
    expect((await inProcess('resume', `ft-cli-${stamp}`)).code).toBe(6);

    expect((await cli('--address', '127.0.0.1:1', '--connect-timeout', '1', 'list')).code).toBe(7);
  });

  test('cancel returns once cleanup is confirmed; watching the cancelled run exits 3', async () => {
    const started = json<{ runId: string }>(
      (await cli('start', 'spec.yaml', '--percent', '5.6', '--heartbeat-timeout', '3', '--json')).stdout,
    );
    const cancelled = await cli('cancel', started.runId, '--wait', '60');
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(/ended \(cancelled\) after its cleanup/);
    expect((await cli('watch', started.runId)).code).toBe(3);
    expect((await inProcess('cancel', started.runId)).stdout).toMatch(/had already ended/);
  });

  test('schedules: create, list, describe, pause, unpause, delete; the janitor sweeps on demand', async () => {
    const id = `cli-weekly-${stamp}`;
    const created = await cli('schedule', 'create', id, 'spec.yaml', '--every', '7d', '--pause-on-failure', '--json');
    expect(created.code).toBe(0);
    expect(json(created.stdout)).toMatchObject({
      scheduleId: id,
      overlap: 'skip',
      pauseOnFailure: true,
      every: ['7d'],
      catchupWindowSeconds: 600,
    });
    expect((await inProcess('schedule', 'create', id, 'spec.yaml', '--every', '7d')).code).toBe(6);
    expect((await inProcess('schedule', 'create', `${id}-x`, '--every', '7d', '--cron', '0 3 * * 1')).code).toBe(2);
    expect(
      json<{ data: { scheduleId: string }[] }>((await inProcess('schedule', 'list', '--json')).stdout).data.map(
        (s) => s.scheduleId,
      ),
    ).toContain(id);
    expect((await inProcess('schedule', 'describe', id)).stdout).toMatch(
      /overlap skip, catch-up 600s, pause on failure yes/,
    );
    expect(json((await inProcess('schedule', 'pause', id, '--note', 'freeze', '--json')).stdout)).toMatchObject({
      paused: true,
      note: 'freeze',
    });
    expect(json((await inProcess('schedule', 'unpause', id, '--json')).stdout)).toMatchObject({ paused: false });
    expect((await inProcess('schedule', 'delete', id)).code).toBe(0);
    expect((await inProcess('schedule', 'describe', id)).code).toBe(5);

    // `ftflow stack ...` hands its arguments to the stack's own command line.
    const stack = await cli('stack', 'status', '--data-dir', path.join(dir, 'no-stack'));
    expect(stack).toMatchObject({ code: 1, stdout: expect.stringMatching(/no stack recorded in .*no-stack/) });

    const sweep = await cli('janitor', 'run', '--dry-run', '--json');
    expect(sweep.code).toBe(0);
    expect(json(sweep.stdout)).toMatchObject({ dryRun: true, deleted: expect.any(Array), kept: expect.any(Array) });
    expect((await inProcess('janitor', 'schedule')).code).toBe(5);
    try {
      expect((await inProcess('janitor', 'install', '--every', '1h')).stdout).toMatch(/ftflow-janitor every 1h/);
      expect((await inProcess('janitor', 'schedule')).stdout).toMatch(
        /ftflow-janitor {2}active {2}every 1h[\s\S]*no finished sweep yet/,
      );
    } finally {
      await h.temporal.schedule.getHandle('ftflow-janitor').delete();
    }
  });
});
