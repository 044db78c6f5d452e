// `ftflow ... | head`: when the reader goes away the CLI stops quietly (no EPIPE stack trace, exit 0),
// for the commands that print a lot. Against the test stack (needs `make build`).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { FineTuneClient } from '../../src/client';
import { temporalAddress } from '../helpers/localStack';
import { CLI_MAIN } from '../helpers/frontEnds';

/** `ftflow <args> | head <headArgs>`: ftflow's exit status, its stderr, and what head printed. */
function piped(
  args: string[],
  headArgs: string[],
  env: NodeJS.ProcessEnv,
): { status: string; err: string; out: string } {
  const script = 'exec 3>&2; "$@" 2>&3 | head "${HEAD_ARGS[@]}"; echo "status=${PIPESTATUS[0]}"';
  const r = spawnSync(
    'bash',
    ['-c', `HEAD_ARGS=(${headArgs.join(' ')}); ${script}`, 'bash', process.execPath, CLI_MAIN, ...args],
    { encoding: 'utf8', timeout: 60_000, env },
  );
  const status = /status=(\d+)\s*$/.exec(r.stdout)?.[1] ?? `?${r.stdout}`;
  return { status, err: r.stderr, out: r.stdout.replace(/status=\d+\s*$/, '') };
}

describe('ftflow piped into head', () => {
  const taskQueue = `pipe-${randomUUID()}`;
  const env = { ...process.env, FTFLOW_TASK_QUEUE: taskQueue };
  let client: FineTuneClient;
  let runId: string;
  beforeAll(async () => {
    // A run with no worker on its queue, terminated: it has a record and a history to print.
    client = await FineTuneClient.connect({ address: temporalAddress(), taskQueue });
    runId = (await client.start({}, { idempotencyKey: `pipe-${Date.now()}` })).runId;
    await client.temporal.workflow.getHandle(runId).terminate('test/cli/brokenPipe.stack.test.ts');
  });
  afterAll(async () => {
    await client?.close();
  });

  // The command, and its exit status when its output is read to the end (watch: the run was terminated).
  test.each([
    [['--help'], '0'],
    [['--version'], '0'],
    [['list'], '0'],
    [['list', '--json'], '0'],
    [['events', '<run>'], '0'],
    [['status', '<run>'], '0'],
    [['watch', '<run>'], '3'],
  ])('ftflow %j | head: no stack trace, exits quietly', (command: string[], readToEnd: string) => {
    const args = command.map((a) => (a === '<run>' ? runId : a));
    // head -n 0 has exited before the first write, so that write always meets a closed pipe: exit 0.
    const closed = piped(args, ['-n', '0'], env);
    expect({ args, err: closed.err, status: closed.status }).toEqual({ args, err: '', status: '0' });
    // head -1, the usual case: the pipe closes after the first line, or the output fitted in it before.
    const head = piped(args, ['-1'], env);
    expect({ args, err: head.err }).toEqual({ args, err: '' });
    expect(['0', readToEnd]).toContain(head.status);
    expect(head.out.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });
});
