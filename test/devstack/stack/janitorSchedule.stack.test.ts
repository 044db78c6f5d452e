// The full local stack (with its worker) schedules the janitor every 5 minutes; a trigger runs a sweep. Its
// worker runs with the process settings the image gives its own (WORKER_PROCESS_ENV, jemalloc preloaded).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startStack, type RunningStack } from '../../../devstack/stack';
import { JanitorControl } from '../../../src/control/janitor';
import { TASK_QUEUE } from '../../../src/config/temporal';
import { waitFor } from '../../helpers/localStack';
import { PROJECT_ROOT } from '../../../devstack/stack/paths';
import { setUpJemalloc } from '../../helpers/jemalloc';
import { workerProcessEnv, WORKER_PROCESS_ENV } from '../../../src/config/workerTuning';

describe('the janitor schedule of the local stack', () => {
  let stack: RunningStack | undefined;
  let connection: Connection | undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-janitor-stack-'));
  afterAll(async () => {
    await connection?.close();
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('the stack creates the janitor schedule; triggering it sweeps and reports', async () => {
    stack = await startStack({
      dataDir,
      certsDir: path.join(PROJECT_ROOT, '.data', 'certs'),
      ports: { temporal: 0, temporalUi: 0, azurite: 0, emulator: 0 },
      temporal: { headless: true, inMemory: true },
      azurite: { inMemory: true },
      stackFile: false,
      handleSignals: false,
      log: () => undefined,
    });
    connection = await Connection.connect({ address: stack.urls.temporalAddress ?? '' });
    const janitor = new JanitorControl(new Client({ connection, namespace: stack.namespace }), TASK_QUEUE);
    const schedule = await janitor.describeSchedule();
    expect(schedule).toMatchObject({ scheduleId: 'ftflow-janitor', every: ['5m'], paused: false });

    await janitor.trigger();
    const report = await waitFor(
      'the sweep to report',
      async () => (await janitor.describeSchedule()).lastReport,
      60_000,
    );
    expect(report).toMatchObject({ dryRun: false, examined: 0, deleted: [], kept: [], failed: [] });
  });

  test("the stack's worker runs on set-up's jemalloc, with the worker's process settings", () => {
    const worker = stack?.processes.find((p) => p.name === 'worker');
    expect(worker).toBeDefined();
    const jemalloc = setUpJemalloc();
    const environ = new Map(
      fs
        .readFileSync(`/proc/${worker?.pid ?? 0}/environ`, 'utf8')
        .split('\0')
        .map((kv): [string, string] => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    for (const [name, value] of Object.entries(workerProcessEnv(jemalloc)))
      expect([name, environ.get(name)]).toEqual([name, value]);
    expect(fs.readFileSync(`/proc/${worker?.pid ?? 0}/maps`, 'utf8')).toContain(jemalloc);
    // What the worker says at start: the malloc it found mapped, and V8's limit under those NODE_OPTIONS.
    const ready = fs
      .readFileSync(worker?.logFile ?? '', 'utf8')
      .split('\n')
      .filter((l) => l.includes('WORKER_READY'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
    const heapLimitMiB = Number(
      execFileSync(process.execPath, ['-p', 'Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20)'], {
        env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: WORKER_PROCESS_ENV.NODE_OPTIONS },
        encoding: 'utf8',
      }).trim(),
    );
    expect(ready).toMatchObject({ malloc: 'jemalloc', mallocArenaMax: '2', heapLimitMiB });
  });
});
