// Temporal unreachable: every front end's connection (FineTuneClient.connect) says which address it
// tried, the namespace, and the variables to set; the CLI still exits 7 (needs `make build`).
import * as net from 'node:net';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import { exitCodeFor, EXIT } from '../../src/cli/exitCodes';
import { TemporalUnreachableError, connectOrExplain } from '../../src/config/temporalConnection';
import { isUnavailable } from '../../src/control/errors';
import { CLI_MAIN, runProcess } from '../helpers/frontEnds';

/** A port nobody listens on: bound once by us, then released. */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The environment without the test stack's Temporal settings. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_')) delete env[k];
  return { ...env, ...extra };
}

describe('Temporal unreachable', () => {
  test('ftflow names the address it tried, the namespace and the variables, and exits 7', async () => {
    const port = await unusedPort();
    const ran = await runProcess(
      process.execPath,
      [CLI_MAIN, '--address', `127.0.0.1:${port}`, '--connect-timeout', '1', 'list'],
      { env: cleanEnv() },
    );
    expect(ran.code).toBe(EXIT.unavailable);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toContain(
      `cannot reach Temporal at 127.0.0.1:${port} (as passed; namespace default; plaintext)`,
    );
    expect(ran.stderr).toContain('Failed to connect before the deadline');
    expect(ran.stderr).toMatch(/TEMPORAL_ADDRESS=host:port .*TEMPORAL_NAMESPACE.*TEMPORAL_TLS=true/);
    expect(ran.stderr).toContain('--address host:port');
    expect(ran.stderr).not.toMatch(/^\s+at /m);
  });

  test('from the environment: says so, with the namespace and TLS it used; --json carries the message', async () => {
    const port = await unusedPort();
    let stdout = '';
    let stderr = '';
    const io = (json: boolean): CliIO => ({
      out: (l) => (stdout += l + '\n'),
      err: (l) => (stderr += l + '\n'),
      write: (t) => (stdout += t),
      isTTY: false,
      json,
    });
    const env = cleanEnv({
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      TEMPORAL_NAMESPACE: 'ml-prod',
      TEMPORAL_TLS: 'true',
    });
    const code = await runCli(['node', 'ftflow', '--connect-timeout', '1', '--json', 'status', 'ft-x'], { io, env });
    expect(code).toBe(7);
    expect(stderr).toContain(
      `cannot reach Temporal at 127.0.0.1:${port} (from TEMPORAL_ADDRESS; namespace ml-prod; TLS)`,
    );
    expect(stderr).toContain('if it is plaintext, set TEMPORAL_TLS=false');
    const body = JSON.parse(stdout) as { error: { message: string; exitCode: number } };
    expect(body.error).toMatchObject({ exitCode: 7, message: expect.stringContaining(`127.0.0.1:${port}`) });
  });

  test('only "nothing answered" is rewritten; it stays classified as unavailable (CLI 7, API 503)', async () => {
    const target = { address: '127.0.0.1:7233', namespace: 'default' };
    const refused = connectOrExplain(
      target,
      () => Promise.reject(new Error('Failed to connect before the deadline')),
      {},
    );
    await expect(refused).rejects.toThrow(TemporalUnreachableError);
    await expect(refused).rejects.toThrow(
      /127\.0\.0\.1:7233 \(the default: TEMPORAL_ADDRESS is not set; namespace default/,
    );
    const err = await refused.catch((e: unknown) => e);
    expect(isUnavailable(err)).toBe(true);
    expect(exitCodeFor(err)).toBe(EXIT.unavailable);
    expect((err as Error).cause).toBeInstanceOf(Error);

    const denied = Object.assign(new Error('16 UNAUTHENTICATED: bad API key'), { code: 16 });
    await expect(connectOrExplain(target, () => Promise.reject(denied), {})).rejects.toBe(denied);
  });
});
