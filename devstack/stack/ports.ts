// Port selection and the "is it free?" check that runs before anything is spawned.
import * as net from 'node:net';
import { DEFAULT_PORTS } from 'finetune-flow/config';

export const STACK_HOST = '127.0.0.1';

export type PortName = keyof typeof DEFAULT_PORTS;

export const PORT_ENV: Readonly<Record<PortName, string>> = {
  temporal: 'FTFLOW_TEMPORAL_PORT',
  temporalUi: 'FTFLOW_TEMPORAL_UI_PORT',
  azurite: 'FTFLOW_AZURITE_PORT',
  emulator: 'FTFLOW_EMULATOR_PORT',
};

export const PORT_ROLE: Readonly<Record<PortName, string>> = {
  temporal: 'temporal (Temporal frontend gRPC)',
  temporalUi: 'temporal (Temporal Web UI)',
  azurite: 'azurite (Blob Storage)',
  emulator: 'emulator (Azure ML emulator, HTTPS)',
};

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly portName: PortName,
    detail: string,
  ) {
    super(detail);
    this.name = 'PortInUseError';
  }
}

/**
 * The wanted port for each name: an explicit option, else the environment variable, else the
 * default. 0 means "any free port" (chosen later, just before the component starts).
 */
export function wantedPorts(
  names: readonly PortName[],
  explicit: Partial<Record<PortName, number>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Record<PortName, number> {
  const out = { ...DEFAULT_PORTS } as Record<PortName, number>;
  for (const name of names) {
    const fromOption = explicit[name];
    const raw = env[PORT_ENV[name]];
    let port: number;
    if (fromOption !== undefined) {
      port = fromOption;
    } else if (raw !== undefined && raw.trim() !== '') {
      if (!/^\d+$/.test(raw.trim())) {
        throw new Error(`${PORT_ENV[name]}=${raw} is not a port number (use 1-65535, or 0 for any free port).`);
      }
      port = Number(raw.trim());
    } else {
      port = DEFAULT_PORTS[name];
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(
        `Port ${port} for ${PORT_ROLE[name]} is out of range (use 1-65535, or 0 for any free port; env ${PORT_ENV[name]}).`,
      );
    }
    out[name] = port;
  }
  return out;
}

export type PortState = 'free' | 'in-use' | 'denied';

/** Tries to bind the port exclusively on the host; the listener is closed at once. */
export function probePort(port: number, host: string = STACK_HOST): Promise<PortState> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve('in-use');
      else if (err.code === 'EACCES') resolve('denied');
      else reject(err);
    });
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve('free')));
  });
}

/** A port the OS reports free right now, avoiding the ones in `avoid`. */
export async function pickFreePort(avoid: ReadonlySet<number> = new Set(), host: string = STACK_HOST): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen({ port: 0, host, exclusive: true }, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr !== null ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port > 0 && !avoid.has(port)) return port;
  }
  throw new Error('could not find a free TCP port on ' + host);
}

/** Fails with a message naming the port, the component that wanted it and the variable to change. */
export async function assertPortFree(name: PortName, port: number, host: string = STACK_HOST): Promise<void> {
  const state = await probePort(port, host);
  if (state === 'free') return;
  const envVar = PORT_ENV[name];
  if (state === 'denied') {
    throw new PortInUseError(
      port,
      name,
      `Port ${port} on ${host} cannot be bound (permission denied); the stack's ${PORT_ROLE[name]} wants it. ` +
        `Choose a port above 1023: ${envVar}=<port> (0 = any free port).`,
    );
  }
  throw new PortInUseError(
    port,
    name,
    `Port ${port} on ${host} is already in use; the stack's ${PORT_ROLE[name]} wants it. ` +
      `Stop whatever listens there (\`ss -ltnp 'sport = :${port}'\` shows it; a stack left running stops with ` +
      `\`node devstack/dist/stack/main.js down\`, with the --data-dir it was started with, if any), or choose another port: ` +
      `${envVar}=<port> (0 = any free port).`,
  );
}

/** Explicit (non-zero) ports must be distinct from each other. */
export function assertDistinct(ports: ReadonlyArray<readonly [PortName, number]>): void {
  const seen = new Map<number, PortName>();
  for (const [name, port] of ports) {
    if (port === 0) continue;
    const other = seen.get(port);
    if (other !== undefined) {
      throw new Error(
        `Port ${port} is configured for both ${PORT_ROLE[other]} and ${PORT_ROLE[name]}; ` +
          `change ${PORT_ENV[name]} or ${PORT_ENV[other]}.`,
      );
    }
    seen.set(port, name);
  }
}
