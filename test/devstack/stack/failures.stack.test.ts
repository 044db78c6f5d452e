// What the supervisor reports when a child fails to start or dies later, and that stopping reaches
// grandchildren (the whole process group).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startStack } from '../../../devstack/stack';
import { goneForGood, quiet, scratchDir } from './helpers';

describe('stack failures', () => {
  test('a component that dies during start-up fails startStack with its last log lines; nothing is left', async () => {
    const dataDir = scratchDir('fail-start');
    const err = await startStack({
      dataDir,
      components: ['temporal', 'azurite'],
      ports: { temporal: 0, azurite: 0 },
      temporal: { headless: true, inMemory: true, extraArgs: ['--no-such-flag'] },
      handleSignals: false,
      log: quiet,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/^temporal exited \(exit code \d+\)/);
    expect(err!.message).toContain('no-such-flag');
    expect(err!.message).toContain(path.join(dataDir, 'logs', 'temporal.log'));
    // Azurite never started, and the record was removed.
    expect(fs.existsSync(path.join(dataDir, 'logs', 'azurite.log'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'stack.json'))).toBe(false);
  });

  test('a ready component that dies is reported with its name and last log lines', async () => {
    const dataDir = scratchDir('fail-later');
    const stack = await startStack({
      dataDir,
      components: ['azurite'],
      ports: { azurite: 0 },
      azurite: { inMemory: true },
      handleSignals: false,
      log: quiet,
      onUnexpectedExit: () => undefined,
    });
    try {
      const azurite = stack.processes[0]!;
      fs.appendFileSync(azurite.logFile, 'a line the report should quote\n');
      process.kill(azurite.pid, 'SIGKILL');
      const died = await stack.unexpectedExit;
      expect(died.name).toBe('azurite');
      expect(died.exit).toBe('killed by SIGKILL');
      expect(died.message).toContain('azurite (pid');
      expect(died.message).toContain('exited unexpectedly');
      expect(died.lastLines).toContain('a line the report should quote');
    } finally {
      await stack.stop();
    }
  });

  test('stop() kills the whole process group, grandchildren included', async () => {
    const dataDir = scratchDir('grandchild');
    // A stand-in worker: starts a grandchild that ignores SIGTERM, prints WORKER_READY, then idles.
    const entry = path.join(dataDir, 'fake-worker.js');
    const grandPidFile = path.join(dataDir, 'grandchild.pid');
    fs.writeFileSync(
      entry,
      `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
      require('node:fs').writeFileSync(${JSON.stringify(grandPidFile)}, String(g.pid));
      process.on('SIGTERM', () => process.exit(0));
      setTimeout(() => console.log('WORKER_READY test-queue'), 200);
      setInterval(() => {}, 1000);
    `,
    );
    const stack = await startStack({
      dataDir,
      components: ['worker'],
      worker: { entry },
      handleSignals: false,
      log: quiet,
      stopTimeoutMs: 1500,
    });
    const worker = stack.processes[0]!;
    const grandchild = Number(fs.readFileSync(grandPidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    expect(fs.readFileSync(worker.logFile, 'utf8')).toContain('WORKER_READY');
    const t0 = Date.now();
    await stack.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400); // the grandchild ignored SIGTERM: SIGKILL after the grace period
    expect(goneForGood(worker.pid)).toBe(true);
    expect(goneForGood(grandchild)).toBe(true);
  });
});
