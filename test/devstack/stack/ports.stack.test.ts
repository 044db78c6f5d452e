// Port selection and the "port in use" error, checked before anything is spawned.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { startStack } from '../../../devstack/stack';
import { assertDistinct, pickFreePort, probePort, wantedPorts } from '../../../devstack/stack/ports';
import { quiet, scratchDir } from './helpers';

function listen(): Promise<{ server: net.Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : 0 });
    });
  });
}

describe('stack ports', () => {
  let busy: { server: net.Server; port: number };
  beforeAll(async () => {
    busy = await listen();
  });
  afterAll(() => new Promise<void>((r) => busy.server.close(() => r())));

  test('a port in use fails the start with the port, the component and the variable to change', async () => {
    const dataDir = scratchDir('ports-azurite');
    const err = await startStack({
      dataDir,
      components: ['azurite'],
      ports: { azurite: busy.port },
      stackFile: false,
      handleSignals: false,
      log: quiet,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(`Port ${busy.port}`);
    expect(msg).toContain('azurite');
    expect(msg).toContain('FTFLOW_AZURITE_PORT');
    expect((err as Error).name).toBe('PortInUseError');
    // Nothing was spawned: no log was even created.
    expect(fs.existsSync(path.join(dataDir, 'logs'))).toBe(false);
  });

  test('the port can come from the environment, and the error names that variable', async () => {
    const dataDir = scratchDir('ports-temporal');
    const env = { ...process.env, FTFLOW_TEMPORAL_PORT: String(busy.port) };
    await expect(
      startStack({
        dataDir,
        env,
        components: ['temporal'],
        temporal: { headless: true },
        stackFile: false,
        handleSignals: false,
        log: quiet,
      }),
    ).rejects.toThrow(new RegExp(`Port ${busy.port} .*temporal.*FTFLOW_TEMPORAL_PORT`));
  });

  test('the UI port is checked too, unless headless', async () => {
    const dataDir = scratchDir('ports-ui');
    await expect(
      startStack({
        dataDir,
        components: ['temporal'],
        ports: { temporal: 0, temporalUi: busy.port },
        stackFile: false,
        handleSignals: false,
        log: quiet,
      }),
    ).rejects.toThrow(/Web UI.*FTFLOW_TEMPORAL_UI_PORT/);
  });

  test('wantedPorts: option, then environment, then default; bad values are named', () => {
    const env = { FTFLOW_AZURITE_PORT: '12345', FTFLOW_EMULATOR_PORT: '0' };
    const ports = wantedPorts(['temporal', 'azurite', 'emulator'], { temporal: 17000 }, env);
    expect(ports).toMatchObject({ temporal: 17000, azurite: 12345, emulator: 0, temporalUi: 8233 });
    expect(() => wantedPorts(['azurite'], {}, { FTFLOW_AZURITE_PORT: 'ten' })).toThrow(/FTFLOW_AZURITE_PORT=ten/);
    expect(() => wantedPorts(['azurite'], { azurite: 70000 }, {})).toThrow(/out of range/);
    expect(() =>
      assertDistinct([
        ['temporal', 9000],
        ['azurite', 9000],
      ]),
    ).toThrow(/FTFLOW_AZURITE_PORT or FTFLOW_TEMPORAL_PORT/);
    expect(() =>
      assertDistinct([
        ['temporal', 0],
        ['azurite', 0],
      ]),
    ).not.toThrow();
  });

  test('probePort and pickFreePort', async () => {
    expect(await probePort(busy.port)).toBe('in-use');
    const free = await pickFreePort(new Set([busy.port]));
    expect(free).not.toBe(busy.port);
    expect(await probePort(free)).toBe('free');
  });
});
