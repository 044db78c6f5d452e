// node devstack/dist/stack/main.js up --keep / status / env / down, as a user runs them (needs `make build`).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readStackRecord } from '../../../devstack/stack';
import { PROJECT_ROOT } from '../../../devstack/stack/paths';
import { goneForGood, scratchDir } from './helpers';

const MAIN = path.join(PROJECT_ROOT, 'devstack', 'dist', 'stack', 'main.js');

function run(args: string[]): { code: number | null; out: string; err: string } {
  const env = { ...process.env, FTFLOW_TEMPORAL_PORT: '0', FTFLOW_TEMPORAL_UI_PORT: '0', FTFLOW_AZURITE_PORT: '0' };
  const r = spawnSync(process.execPath, [MAIN, ...args], { env, encoding: 'utf8', timeout: 90_000, cwd: PROJECT_ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('stack CLI', () => {
  beforeAll(() => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`make build\` (make test does) first`);
  });

  test('up --keep returns with the stack running; env prints its variables; down stops it', () => {
    const dataDir = scratchDir('cli');
    const up = run(['up', '--keep', '--headless', '--components', 'temporal,azurite', '--data-dir', dataDir]);
    expect(up.err).toContain('left running (--keep)');
    expect(up.code).toBe(0);
    const stopHint = /stop it with: node devstack\/dist\/stack\/main\.js (down .*)$/m.exec(up.err);
    const file = path.join(dataDir, 'stack.json');
    const rec = readStackRecord(file)!;
    expect(rec.supervisorPid).toBeNull();
    expect(rec.processes).toHaveLength(2);
    try {
      // Every command it prints names this data dir, so it acts on this stack and not the default one.
      expect(stopHint?.[1]).toBe(`down --data-dir ${dataDir}`);
      expect(up.err).toContain(`eval "$(node devstack/dist/stack/main.js env --data-dir ${dataDir})"`);

      const status = run(['status', '--data-dir', dataDir]);
      expect(status.code).toBe(0);
      expect(status.out).toMatch(/temporal\s+pid \d+\s+running/);

      const again = run(['up', '--components', 'temporal,azurite', '--data-dir', dataDir]);
      expect(again.code).toBe(1);
      expect(again.err).toContain('is still running');

      const env = run(['env', '--data-dir', dataDir]);
      expect(env.code).toBe(0);
      expect(env.out).toContain(`export TEMPORAL_ADDRESS=${rec.urls.temporalAddress!}`);
      expect(env.out).toContain(`export FTFLOW_BLOB_ENDPOINT=${rec.urls.azuriteBlob!}`);
      expect(JSON.stringify(rec)).not.toMatch(/CLIENT_SECRET/);
    } finally {
      // The printed stop command, run as printed (this path needs no quoting); an omitted --data-dir would act on
      // the default stack, so then the explicit command stops this one.
      const printed = stopHint?.[1]?.split(' ');
      const down = run(printed?.[1] === '--data-dir' ? printed : ['down', '--data-dir', dataDir]);
      expect(down.code).toBe(0);
    }
    for (const p of rec.processes) expect(goneForGood(p.pid)).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
    // Nothing recorded any more: not a success (a stack elsewhere may still run); says where it looked.
    const again = run(['down', '--data-dir', dataDir]);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`no stack recorded in ${file}; nothing to stop`);
  });

  test('down stops a stack whose foreground supervisor still runs (it asks the supervisor)', async () => {
    const dataDir = scratchDir('cli-fg');
    const { spawn } = await import('node:child_process');
    const env = { ...process.env, FTFLOW_TEMPORAL_PORT: '0', FTFLOW_AZURITE_PORT: '0' };
    const sup = spawn(
      process.execPath,
      [MAIN, 'up', '--headless', '--components', 'temporal,azurite', '--data-dir', dataDir],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    sup.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => sup.on('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!err.includes('Ctrl-C stops everything') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(err).toContain('Ctrl-C stops everything');
    const rec = readStackRecord(path.join(dataDir, 'stack.json'))!;
    expect(rec.supervisorPid).toBe(sup.pid);
    const down = run(['down', '--data-dir', dataDir]);
    expect(down.code).toBe(0);
    expect(await exited).toBe(143);
    for (const p of rec.processes) expect(goneForGood(p.pid)).toBe(true);
  });
});
