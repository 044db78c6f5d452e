// Issue 13, "bounded everything", at the command line: the spec input is a regular file (or stdin) of at
// most 1 MiB, read with a cap; flags that would be silently truncated are refused; every bad input
// exits 2, naming the file, the flag or the field. None of these cases needs Temporal: the CLI refuses
// them before it connects (run with FTFLOW_TEST_STACK=off for these alone).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import { loadSpec } from '../../src/cli/specInput';
import { CliInputError } from '../../src/cli/exitCodes';
import { RunSpecError } from '../../src/runSpec/schema';
import { CLI_MAIN, runProcess } from '../helpers/frontEnds';

const MIB = 1024 * 1024;
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-spec-input-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The CLI in this process; an unreachable Temporal address, so a case that got past the input would exit 7. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = (json: boolean): CliIO => ({
    out: (l) => (stdout += l + '\n'),
    err: (l) => (stderr += l + '\n'),
    write: (t) => (stdout += t),
    isTTY: false,
    json,
  });
  const code = await runCli(['node', 'ftflow', '--address', '127.0.0.1:1', '--connect-timeout', '1', ...args], {
    io,
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
  });
  return { code, stdout, stderr };
}

/** The built CLI as a process, killed after `killMs`; stdin as given. */
function cliProcess(
  args: string[],
  opts: { killMs: number; feed?: (stdin: NodeJS.WritableStream) => void; shell?: string },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const env = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const child = opts.shell
      ? spawn('bash', ['-c', opts.shell, 'ftflow', process.execPath, CLI_MAIN, ...args], { env })
      : spawn(process.execPath, [CLI_MAIN, ...args], { env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined); // EPIPE once the CLI stops reading
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.killMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Date.now() - t0 });
    });
    if (opts.feed) opts.feed(child.stdin);
    else child.stdin.end();
  });
}

describe('--model', () => {
  test('more than one "/" is refused (exit 2) naming the flag and the accepted forms', async () => {
    expect(() => loadSpec(undefined, { model: 'a/b/c' })).toThrow(CliInputError);
    const ran = await cli('start', '--model', 'azureml/Phi-3/mini');
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/--model "azureml\/Phi-3\/mini": give <name> or <registry>\/<name>/);
    expect(loadSpec(undefined, { model: 'myreg/Phi-3.5-mini-instruct' })).toEqual({
      model: { registry: 'myreg', name: 'Phi-3.5-mini-instruct' },
    });
  });
});

describe('the spec file', () => {
  test('a file over 1 MiB is refused (exit 2) naming the file and the limit', async () => {
    const big = path.join(dir, 'big.yaml');
    fs.writeFileSync(big, `# ${'x'.repeat(MIB)}\ntraining: {}\n`);
    const ran = await cli('start', big);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(`the run spec ${big} is larger than 1 MiB`);
    const justUnder = path.join(dir, 'under.yaml');
    fs.writeFileSync(justUnder, `# ${'x'.repeat(MIB - 100)}\nexperimentName: nightly\n`);
    expect(loadSpec(justUnder, {})).toEqual({ experimentName: 'nightly' });
  });

  test('a FIFO is refused (exit 2) without waiting for a writer', async () => {
    const fifo = path.join(dir, 'spec.fifo');
    execFileSync('mkfifo', [fifo]);
    const ran = await cliProcess(['start', fifo], { killMs: 15_000 });
    expect(ran.signal).toBeNull();
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(`the run spec ${fifo} is not a regular file (a FIFO)`);
  });

  test('/dev/zero (a character device) is refused (exit 2) without reading it', async () => {
    // Under a 3 GB address-space limit, so a CLI that reads it anyway fails instead of eating the machine.
    const ran = await cliProcess(['start', '/dev/zero'], {
      killMs: 15_000,
      shell: 'ulimit -v 3000000; exec "$1" "$2" "${@:3}"',
    });
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('the run spec /dev/zero is not a regular file (a character device)');
  });

  test('an endless stdin is read up to 1 MiB + 1 byte and refused promptly (exit 2)', async () => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const ran = await cliProcess(['start', '-'], {
      killMs: 20_000,
      feed: (stdin) => {
        const pump = (): void => {
          while (written < 64 * MIB) {
            written += chunk.length;
            if (!stdin.write(chunk)) {
              stdin.once('drain', pump);
              return;
            }
          }
          stdin.end();
        };
        pump();
      },
    });
    expect(ran.signal).toBeNull();
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('the run spec on stdin is larger than 1 MiB');
    expect(written).toBeLessThan(64 * MIB);
  });

  test('a small spec on stdin is read as before', async () => {
    const ran = await runProcess(process.execPath, [CLI_MAIN, 'start', '-', '--connect-timeout', '1'], {
      input: 'experimentName: "bad/name"\n',
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      timeoutMs: 20_000,
    });
    // Refused by the schema (exit 2) before the CLI tries to reach Temporal.
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/experimentName/);
  });
});

describe('every bad input exits 2', () => {
  test('__proto__, constructor and prototype keys in a YAML or JSON spec are refused by name (exit 2)', async () => {
    const yaml = path.join(dir, 'proto.yaml');
    fs.writeFileSync(yaml, 'qualityGate:\n  __proto__: { max: 1.2 }\n');
    const json = path.join(dir, 'ctor.json');
    fs.writeFileSync(json, '{"training": {"constructor": 1}}');
    for (const [file, field] of [
      [yaml, 'qualityGate.__proto__'],
      [json, 'training.constructor'],
    ] as const) {
      expect(() => loadSpec(file, {})).toThrow(RunSpecError);
      const ran = await cli('start', file);
      expect(ran.code).toBe(2);
      expect(ran.stderr).toContain(`${field}: "${field.split('.').pop() ?? ''}" is not allowed as a key in a run spec`);
    }
  });

  test('--set with a prototype key names it', async () => {
    expect(() => loadSpec(undefined, { set: ['qualityGate.__proto__.max=1'] })).toThrow(
      /--set qualityGate.__proto__.max: not a field path: "__proto__" is not allowed as a key in a run spec/,
    );
    const ran = await cli('start', '--set', 'training={"__proto__": 1}');
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/training.__proto__/);
  });

  test('a spec the schema refuses is exit 2 naming each field, before (and without) reaching Temporal', async () => {
    const spec = path.join(dir, 'escape.yaml');
    fs.writeFileSync(
      spec,
      'dataset:\n  files:\n    train: azureml://datastores/workspaceblobstore/paths/chat/100%.jsonl\n    test: /data/test.jsonl\n',
    );
    const ran = await cli('start', spec, '--json');
    expect(ran.code).toBe(2);
    const out = JSON.parse(ran.stdout) as { error: { exitCode: number; fields: { field: string; message: string }[] } };
    expect(out.error.exitCode).toBe(2);
    expect(out.error.fields).toEqual([
      { field: 'dataset.files.train', message: expect.stringContaining('malformed %-escape') as string },
    ]);
    expect(ran.stderr).toMatch(/dataset\.files\.train: .*malformed %-escape/);
  });

  test('a spec nested thousands of levels deep is exit 2, never a crash', async () => {
    const spec = path.join(dir, 'deep.json');
    fs.writeFileSync(spec, `{"dataset": ${'{"a": '.repeat(20_000)}1${'}'.repeat(20_000)}}`);
    const ran = await cli('start', spec);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/nested deeper than 8 levels|not valid YAML or JSON/);
  });
});
