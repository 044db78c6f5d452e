// A restarted emulator keeps its resources and accepts the tokens it issued (state file).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionsFromArgs } from '../../../devstack/emulator/main';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { admin, armToken, call, jobEnded, jobWalk, pipelineJobBody, sleep, startTestEmulator, WS } from './helpers';

let dir: string;

interface Resources {
  computes: { name: string; state: string }[];
  endpoints: { name: string; state: string }[];
}

/** Polls the emulator's records until `done` holds (a state that stays once reached: Succeeded). */
async function waitForRecord(
  emulator: RunningEmulator,
  what: string,
  done: (r: Resources) => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done(await admin<Resources>(emulator, 'resources'))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emulator-state-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('resources, keys, job progress and tokens survive a restart', async () => {
  const stateFile = join(dir, 'state.json');
  const first = await startTestEmulator({
    stateFile,
    clock: { jobPhaseMs: 100, provisionMs: 50, deleteMs: 50, cancelMs: 50 },
  });
  const token = await armToken(first);
  await call(first, `${WS}/computes/cpu-one?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: {
      location: 'eastus',
      properties: {
        computeType: 'AmlCompute',
        properties: { vmSize: 'Standard_DS3_v2', scaleSettings: { maxNodeCount: 1 } },
      },
    },
  });
  await call(first, `${WS}/onlineEndpoints/ep-persist?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { location: 'eastus', properties: { authMode: 'Key' } },
  });
  // Both provisioned before the restart (the emulator's record says so), so the second instance shows
  // what the first one finished, not what it computes on its own.
  await waitForRecord(
    first,
    'the compute and the endpoint to be provisioned',
    (r) =>
      r.computes.some((c) => c.name === 'cpu-one' && c.state === 'Succeeded') &&
      r.endpoints.some((e) => e.name === 'ep-persist' && e.state === 'Succeeded'),
  );
  const job = await call(first, `${WS}/jobs/job-persist?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: pipelineJobBody({ compute: 'cpu-one', train: 'a/train.jsonl', test: 'a/test.jsonl' }),
  });
  expect(job.status).toBe(201);
  const keys = (
    await call(first, `${WS}/onlineEndpoints/ep-persist/listKeys?api-version=2022-10-01`, { method: 'POST', token })
  ).body;
  await first.close();

  const second = await startTestEmulator({ stateFile, clientSecret: first.clientSecret });
  try {
    expect(second.port).not.toBe(first.port);
    const endpoint = await call(second, `${WS}/onlineEndpoints/ep-persist?api-version=2022-10-01`, { token });
    expect(endpoint).toMatchObject({
      status: 200,
      body: { properties: { provisioningState: 'Succeeded', scoringUri: `${second.url}/inference/ep-persist/score` } },
    });
    expect(
      (
        await call(second, `${WS}/onlineEndpoints/ep-persist/listKeys?api-version=2022-10-01`, {
          method: 'POST',
          token,
        })
      ).body,
    ).toEqual(keys);
    expect((await call(second, `${WS}/computes/cpu-one?api-version=2022-10-01`, { token })).status).toBe(200);
    // The job walks on to Completed on the clock it was created with (100 ms phases; this instance gives new
    // jobs 150 ms ones), whatever part of its walk the restart fell in.
    const ended = await jobEnded(second, 'job-persist');
    expect(jobWalk(ended)).toEqual([
      ['NotStarted', 0],
      ['Queued', 100],
      ['Preparing', 200],
      ['Running', 300],
      ['Finalizing', 400],
      ['Completed', 500],
    ]);
    expect((await call(second, `${WS}/jobs/job-persist?api-version=2022-10-01`, { token })).body).toMatchObject({
      properties: { status: 'Completed' },
    });
  } finally {
    await second.close();
  }
});

test('a corrupt state file stops the start with a clear error', async () => {
  const stateFile = join(dir, 'corrupt.json');
  writeFileSync(stateFile, JSON.stringify({ version: 1, signingKey: 'x' }));
  await expect(startTestEmulator({ stateFile })).rejects.toThrow(/not a valid emulator state/);
});

test('the CLI flags map onto the options', () => {
  const opts = optionsFromArgs(
    [
      '--port',
      '8443',
      '--host',
      '0.0.0.0',
      '--cert',
      'c.pem',
      '--key',
      'k.pem',
      '--azurite-url',
      'http://127.0.0.1:10000/devstoreaccount1',
      '--state-file',
      's.json',
      '--job-phase-ms',
      '300',
      '--provision-ms',
      '200',
      '--delete-ms',
      '100',
      '--cancel-ms',
      '50',
      '--retry-after',
      '0',
      '--catalog',
      'current',
    ],
    { AZURE_CLIENT_SECRET: 'from-env' },
  );
  expect(opts).toEqual({
    port: 8443,
    host: '0.0.0.0',
    tls: { certPath: 'c.pem', keyPath: 'k.pem' },
    azuriteBlobUrl: 'http://127.0.0.1:10000/devstoreaccount1',
    stateFile: 's.json',
    clock: { jobPhaseMs: 300, provisionMs: 200, deleteMs: 100, cancelMs: 50 },
    retryAfterSeconds: 0,
    catalog: 'current',
    clientSecret: 'from-env',
  });
  expect(() => optionsFromArgs(['--job-phase-ms', 'soon'], {})).toThrow(/--job-phase-ms/);
  expect(optionsFromArgs(['--client-secret', 'cli', '--azurite-url', ''], { AZURE_CLIENT_SECRET: 'env' })).toEqual({
    clock: {},
    clientSecret: 'cli',
  });
});
