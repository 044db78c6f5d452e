// The documented API example (the block marked `<!-- readme-test: api -->`, in docs/usage.md), run as
// written against `node dist/api/main.js` with a key made by the CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startHarness, type TestHarness } from '../helpers/localStack';
import { API_MAIN, ftflow, readmeBlocks, runBash } from '../helpers/frontEnds';

describe('the documented API example', () => {
  let h: TestHarness;
  let api: ChildProcess | undefined;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-api-readme-'));
  });
  afterAll(async () => {
    api?.kill('SIGTERM');
    await h?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('runs as written against the API process', async () => {
    const keysFile = path.join(dir, 'api-keys.json');
    const created = await ftflow(
      ['api-key', 'create', 'ci-pipeline', '--scopes', 'fine-tunes:read,fine-tunes:write', '--file', keysFile],
      h.taskQueue,
    );
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(fs.readFileSync(keysFile, 'utf8')).not.toContain(key);

    const env = {
      ...process.env,
      FTFLOW_TASK_QUEUE: h.taskQueue,
      FTFLOW_API_KEYS_FILE: keysFile,
      FTFLOW_API_PORT: '0',
    };
    const proc = spawn(process.execPath, [API_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    api = proc;
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /API_READY (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      proc.once('exit', (code) => reject(new Error(`the API exited (${code}) before it was ready: ${out}`)));
    });

    const [block] = readmeBlocks('api');
    const ran = await runBash(block, { cwd: dir, env: { ...env, FTFLOW_API_URL: url, FTFLOW_API_KEY: key } });
    if (ran.code !== 0)
      throw new Error(`documented API block failed (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`);
    expect(ran.stdout).toContain('"id":"ft-phi3-api-readme"');
    expect(ran.stdout).toContain('"cleanup":"confirmed"');
    expect(ran.stdout).toContain(
      '{"error":{"type":"invalid_request_error","message":"invalid request: see fields","fields":[{"field":"dataset.percent","message":"dataset.percent must be at most 100"}]}}',
    );

    // The key is revoked in the file: the running API refuses it from the next request on.
    expect((await ftflow(['api-key', 'revoke', 'ci-pipeline', '--file', keysFile], h.taskQueue)).code).toBe(0);
    const res = await fetch(`${url}/v1/fine-tunes`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(403);
  });
});
