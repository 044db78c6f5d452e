// What the stack's command line tells the user when nothing is recorded where it looked, and that it
// keeps quiet when its reader goes away (`status | head`). No stack is started (needs `make build`).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_DATA_DIR, PROJECT_ROOT } from '../../../devstack/stack/paths';
import type { StackRecord } from '../../../devstack/stack';
import { scratchDir } from './helpers';

const MAIN = path.join(PROJECT_ROOT, 'devstack', 'dist', 'stack', 'main.js');

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000, cwd: PROJECT_ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `node devstack/dist/stack/main.js <args> | head <headArgs>`: the stack's exit status, its stderr, what head printed. */
function piped(args: string[], headArgs: string[]): { status: string; err: string; out: string } {
  const script = 'exec 3>&2; "$@" 2>&3 | head "${HEAD_ARGS[@]}"; echo "status=${PIPESTATUS[0]}"';
  const r = spawnSync(
    'bash',
    ['-c', `HEAD_ARGS=(${headArgs.join(' ')}); ${script}`, 'bash', process.execPath, MAIN, ...args],
    { encoding: 'utf8', timeout: 30_000, cwd: PROJECT_ROOT },
  );
  const status = /status=(\d+)\s*$/.exec(r.stdout)?.[1] ?? `?${r.stdout}`;
  return { status, err: r.stderr, out: r.stdout.replace(/status=\d+\s*$/, '') };
}

describe('stack command line: hints and pipes', () => {
  beforeAll(() => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`make build\` first`);
  });

  test('down with nothing recorded fails, naming the file it read and how to point elsewhere', () => {
    const dir = scratchDir('hints-empty');
    const file = path.join(dir, 'stack.json');
    const down = run(['down', '--data-dir', dir]);
    expect(down.code).toBe(1);
    expect(down.err).toContain(`no stack recorded in ${file}; nothing to stop`);
    expect(down.err).toContain(`(default DIR: ${DEFAULT_DATA_DIR})`);
    expect(down.err).toContain('node devstack/dist/stack/main.js down --data-dir DIR');

    const status = run(['status', '--data-dir', dir]);
    expect(status.code).toBe(1);
    expect(status.out).toBe(`no stack recorded in ${file}\n`);
    expect(status.err).toContain('node devstack/dist/stack/main.js status --data-dir DIR');

    // env's "start one" hint starts it where env looked (quoted for the shell).
    const spaced = path.join(dir, 'with space');
    const env = run(['env', '--data-dir', spaced]);
    expect(env.code).toBe(1);
    expect(env.err).toContain(`start one with: node devstack/dist/stack/main.js up --data-dir '${spaced}'`);
  });

  test('down of a recorded stack whose processes are gone succeeds and removes the record', () => {
    const dir = scratchDir('hints-gone');
    const file = path.join(dir, 'stack.json');
    fs.writeFileSync(file, JSON.stringify(record(dir, [{ pid: 2 ** 22 + 17, argvHint: 'no-such-process' }])));
    const down = run(['down', '--data-dir', dir]);
    expect(down).toMatchObject({ code: 0, err: '[stack] the recorded stack was not running any more\n' });
    expect(fs.existsSync(file)).toBe(false);
  });

  test('status | head prints no stack trace and exits quietly', () => {
    const dir = scratchDir('hints-pipe');
    // This test's own process stands in for the stack's one process (status only looks at it).
    fs.writeFileSync(
      path.join(dir, 'stack.json'),
      JSON.stringify(record(dir, [{ pid: process.pid, argvHint: 'node' }])),
    );
    const full = run(['status', '--data-dir', dir]);
    expect(full.code).toBe(0);
    expect(full.out.split('\n').length).toBeGreaterThan(5);

    // head -n 0 has exited before the first write: the write always meets a closed pipe.
    for (const headArgs of [['-n', '0'], ['-n', '1'], ['-3']]) {
      const p = piped(['status', '--data-dir', dir], headArgs);
      expect({ headArgs, err: p.err, status: p.status }).toEqual({ headArgs, err: '', status: '0' });
    }
    expect(piped(['status', '--data-dir', dir], ['-3']).out.split('\n').slice(0, 3)).toEqual(
      full.out.split('\n').slice(0, 3),
    );
  });
});

function record(dir: string, procs: { pid: number; argvHint: string }[]): StackRecord {
  const names = ['temporal', 'azurite', 'emulator', 'worker'] as const;
  return {
    version: 1,
    state: 'running',
    supervisorPid: null,
    supervisorArgvHint: 'node',
    dataDir: dir,
    startedAt: new Date().toISOString(),
    namespace: 'default',
    caFile: path.join(dir, 'ca.pem'),
    ports: { temporal: 1 },
    urls: {
      temporalAddress: '127.0.0.1:1',
      temporalUi: 'http://127.0.0.1:2',
      azuriteBlob: 'https://127.0.0.1:3/devstoreaccount1',
      emulator: 'https://127.0.0.1:4',
    },
    processes: procs.map((p, i) => ({
      name: names[i % names.length],
      pid: p.pid,
      logFile: path.join(dir, 'logs', `${names[i % names.length]}.log`),
      argvHint: p.argvHint,
    })),
    env: {},
  };
}
