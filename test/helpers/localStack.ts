// Test helpers over the stack that test/setup/globalSetup.ts started (Temporal, Azurite, emulator):
// an in-process worker with the real activities, a client, and the emulator's own records.
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createActivities, createDeps, type FineTuneActivities } from '../../src/activities';
import { loadAzureConfig } from '../../src/azure/config';
import { FineTuneClient } from '../../src/client';
import { workerOptions } from '../../src/worker';

export const FAST_TUNING = { FTFLOW_JOB_POLL_SECONDS: '0.3', FTFLOW_LRO_POLL_MS: '200' };

export function emulatorUrl(): string {
  const url = process.env.FTFLOW_TEST_EMULATOR_URL;
  if (!url)
    throw new Error(
      'FTFLOW_TEST_EMULATOR_URL is not set: this test needs the shared local stack, which only the stack project ' +
        'starts: name the file *.stack.test.ts and run it with `make test` (docs/local-stack.md, Tests)',
    );
  return url;
}

export function temporalAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address)
    throw new Error(
      'TEMPORAL_ADDRESS is not set: this test needs the shared local stack: name the file *.stack.test.ts and run it with `make test` (docs/local-stack.md, Tests)',
    );
  return address;
}

export interface TestHarness {
  taskQueue: string;
  client: FineTuneClient;
  temporal: Client;
  activities: FineTuneActivities;
  stop(): Promise<void>;
}

/**
 * Starts a worker on a fresh task queue with the real activities pointed at the local stack (or, with
 * `azureEnv`, at another emulator: e.g. emulatorEnv() of a private one).
 */
export async function startHarness(
  overrides: Partial<FineTuneActivities> = {},
  azureEnv: Record<string, string> = {},
): Promise<TestHarness> {
  const env = { ...process.env, ...FAST_TUNING, ...azureEnv };
  const taskQueue = `test-${randomUUID()}`;
  const connection = await Connection.connect({ address: temporalAddress() });
  const temporal = new Client({ connection, namespace: 'default' });
  const activities = {
    ...createActivities(createDeps(loadAzureConfig(env), env, undefined, { temporal })),
    ...overrides,
  };
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
  const worker = await Worker.create({
    connection: nativeConnection,
    ...workerOptions({ address: temporalAddress(), namespace: 'default', taskQueue }, activities),
  });
  const running = worker.run();
  const client = await FineTuneClient.connect({ client: temporal, taskQueue });
  return {
    taskQueue,
    client,
    temporal,
    activities,
    async stop() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    },
  };
}

export interface EmulatorResource {
  name: string;
  createdAt?: string;
  deletedAt?: string | null;
  state?: string;
  [key: string]: unknown;
}

export interface EmulatorResources {
  endpoints: EmulatorResource[];
  deployments: EmulatorResource[];
  jobs: EmulatorResource[];
  models: EmulatorResource[];
  computes: EmulatorResource[];
}

export interface EmulatorRequest {
  method: string;
  path: string;
  status: number;
}

async function adminGet<T>(path: string): Promise<T> {
  const res = await fetch(`${emulatorUrl()}/_emulator/${path}`);
  if (!res.ok) throw new Error(`emulator /_emulator/${path} answered ${res.status}`);
  return (await res.json()) as T;
}

export interface EmulatorClock {
  jobPhaseMs: number;
  provisionMs: number;
  deleteMs: number;
  cancelMs: number;
}

/** GET /_emulator/clock: the durations, and the emulator's time when it answered. */
export interface EmulatorClockView extends EmulatorClock {
  mode: 'real' | 'stepped';
  nowMs: number;
}

export const emulator = {
  resources: () => adminGet<EmulatorResources>('resources'),
  clock: () => adminGet<EmulatorClockView>('clock'),
  async setClock(clock: Partial<EmulatorClock>): Promise<EmulatorClock> {
    const res = await fetch(`${emulatorUrl()}/_emulator/clock`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(clock),
    });
    if (!res.ok) throw new Error(`emulator PUT /_emulator/clock answered ${res.status}`);
    return (await res.json()) as EmulatorClock;
  },
  async requests(): Promise<EmulatorRequest[]> {
    const body = await adminGet<{ requests: EmulatorRequest[] }>('requests');
    return body.requests;
  },
};

/** Runs `body` with a slower emulator clock for resources it creates (e.g. a job that runs long enough to cancel). */
export async function withClock<T>(clock: Partial<EmulatorClock>, body: () => Promise<T>): Promise<T> {
  const before = await emulator.clock();
  await emulator.setClock(clock);
  try {
    return await body();
  } finally {
    await emulator.setClock(before);
  }
}

/** Endpoints, jobs and models the emulator ever saw whose name belongs to this run. */
export async function resourcesOf(names: {
  jobName: string;
  endpointName: string;
}): Promise<{ endpoints: EmulatorResource[]; jobs: EmulatorResource[] }> {
  const all = await emulator.resources();
  return {
    endpoints: all.endpoints.filter((e) => e.name === names.endpointName),
    jobs: all.jobs.filter((j) => j.name === names.jobName),
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
