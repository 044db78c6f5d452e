// Servers of the test's own, for tests that stop and restart them (the shared stack of test/setup must
// keep running for everyone else): a Temporal dev server on a SQLite file and an Azure ML emulator with a
// state file, each started by devstack/stack as the real stack starts them, and started again on the same
// port and the same file. Also the emulator's admin API (records, clock, faults) at any address.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stackEnv, startStack, type RunningStack, type StackOptions } from '../../devstack/stack';
import { callEmulatorAdmin } from '../../devstack/chaos/emulatorAdmin';
import { TEST_EMULATOR_ARGS } from '../setup/testStack';
import {
  emulatorUrl,
  type EmulatorClock,
  type EmulatorClockView,
  type EmulatorRequest,
  type EmulatorResources,
} from './localStack';

/** A server that can be stopped and started again on the same port with the same state on disk. */
export interface RestartableServer {
  readonly dataDir: string;
  /** The running instance (after the last start). */
  readonly stack: RunningStack;
  /** host:port (Temporal) or https URL (emulator), the same across restarts. */
  readonly address: string;
  stop(): Promise<void>;
  /** Starts it again on the same port and the same state file; resolves when it answers. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

type Component = 'temporal' | 'emulator';

async function restartable(
  component: Component,
  options: Omit<StackOptions, 'components' | 'dataDir'>,
  addressOf: (s: RunningStack) => string | undefined,
): Promise<RestartableServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ftflow-${component}-`));
  const log: string[] = [];
  const base: StackOptions = {
    ...options,
    dataDir,
    components: [component],
    handleSignals: false,
    stackFile: false,
    stopTimeoutMs: 10_000,
    log: (line) => log.push(line),
  };
  let stack = await startStack(base);
  const address = addressOf(stack);
  if (!address) throw new Error(`${component} started without an address:\n${log.join('\n')}`);
  // Again on the port it chose the first time (clients and workers keep their address).
  const samePorts = { ...base.ports, ...stack.ports };
  return {
    dataDir,
    get stack() {
      return stack;
    },
    address,
    stop: () => stack.stop(),
    async start() {
      stack = await startStack({ ...base, ports: samePorts });
    },
    async dispose() {
      await stack.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A Temporal dev server (headless) keeping its state in <dataDir>/temporal/temporal.sqlite. */
export function startPrivateTemporal(): Promise<RestartableServer> {
  return restartable(
    'temporal',
    { ports: { temporal: 0 }, temporal: { headless: true } },
    (s) => s.urls.temporalAddress,
  );
}

/** The test stack's Azurite port (the private emulator reads staged data from the shared Azurite). */
function sharedAzuritePort(): number {
  const url = process.env.FTFLOW_TEST_AZURITE_URL;
  if (!url) throw new Error('FTFLOW_TEST_AZURITE_URL is not set: run the tests with `make test`');
  return Number(new URL(url).port);
}

/**
 * An emulator on the test clock, keeping its state in <dataDir>/emulator/state.json, over the shared Azurite.
 * `catalog: 'current'` serves today's registry (Phi-4; Phi-3 retired) instead of the seed's.
 */
export function startPrivateEmulator(options: { catalog?: 'seed' | 'current' } = {}): Promise<RestartableServer> {
  return restartable(
    'emulator',
    {
      ports: { emulator: 0, azurite: sharedAzuritePort() },
      emulator: { extraArgs: TEST_EMULATOR_ARGS, ...(options.catalog ? { catalog: options.catalog } : {}) },
    },
    (s) => s.urls.emulator,
  );
}

/** What a worker needs to use this emulator (ARM, token endpoint, Hub, its client secret) instead of the shared one. */
export function emulatorEnv(server: RestartableServer): Record<string, string> {
  return stackEnv(server.stack);
}

export interface FaultRule {
  method?: string;
  path?: string;
  action:
    | { type: 'delay'; ms: number }
    | { type: 'status'; status: number; retryAfter?: number }
    | { type: 'reset' }
    | { type: 'quota' }
    | { type: 'failProvisioning'; code?: string; message?: string };
  count?: number;
}

/** The emulator's admin API (/_emulator) at `baseUrl` (default: the shared test emulator). */
export function emulatorAdmin(baseUrl: string = emulatorUrl()) {
  const call = <T>(method: string, route: string, body?: unknown): Promise<T> =>
    callEmulatorAdmin<T>(baseUrl, method, route, body);
  return {
    resources: () => call<EmulatorResources>('GET', 'resources'),
    clock: () => call<EmulatorClockView>('GET', 'clock'),
    setClock: (clock: Partial<EmulatorClock>) => call<EmulatorClock>('PUT', 'clock', clock),
    /** Adds a fault rule; returns its id. */
    addFault: async (rule: FaultRule) => (await call<{ rules: { id: string }[] }>('POST', 'faults', rule)).rules[0].id,
    /** The request log (method, path, status, time). */
    requests: async () =>
      (await call<{ requests: (EmulatorRequest & { time: string })[] }>('GET', 'requests')).requests,
    removeFault: (id: string) => call<unknown>('DELETE', `faults/${encodeURIComponent(id)}`),
    /** Each rule with the times it fired (a delay rule's hits are requests it held). */
    faults: async () => (await call<{ rules: { id: string; hits: number }[] }>('GET', 'faults')).rules,
  };
}

export type EmulatorAdmin = ReturnType<typeof emulatorAdmin>;
