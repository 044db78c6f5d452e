// docs/design.md, invariant 3 (secrets stay out of history): after a run that succeeded and one that failed
// after it had fetched the endpoint key, the whole of what Temporal keeps about each run (every
// history event with every payload, the memo, the search attributes, pending activities' heartbeat
// details seen while it ran, the progress query) holds none of the stack's secrets: the client
// secret, Entra tokens, the endpoints' keys, the storage account key; raw, base64 or JSON-escaped.
import { createActivities, createDeps, type FineTuneActivities } from '../../src/activities';
import { loadAzureConfig } from '../../src/azure/config';
import { AZURITE_ACCOUNT } from '../../src/config/local';
import { emulatorUrl, startHarness, type TestHarness } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 3 };
/** The header of every token the emulator's Entra endpoint signs (HS256, kid "emulator"). */
const EMULATOR_JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'emulator' })).toString(
  'base64url',
);

/** A secret as it could appear in a text: raw, JSON-escaped, and base64/base64url at each byte alignment. */
export function secretForms(secret: string): string[] {
  const forms = new Set([
    secret,
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(JSON.stringify(secret)).slice(2, -2),
  ]);
  const bytes = Buffer.from(secret, 'utf8');
  for (let pad = 0; pad < 3; pad++) {
    for (const enc of ['base64', 'base64url'] as const) {
      const text = Buffer.concat([Buffer.alloc(pad), bytes]).toString(enc);
      // Drop the characters that mix in the padding bytes or the bytes after the secret.
      const start = Math.ceil((pad * 4) / 3);
      const end = Math.floor(((pad + bytes.length) * 4) / 3);
      forms.add(text.slice(start, end));
    }
  }
  return [...forms].filter((f) => f.length >= 8);
}

/** Everything a value holds as text: JSON with byte arrays as base64, plus each byte array read as UTF-8. */
function textOf(value: unknown): string {
  const decoded: string[] = [];
  const json = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) {
      decoded.push(Buffer.from(v).toString('utf8'));
      return Buffer.from(v).toString('base64');
    }
    if (
      typeof v === 'object' &&
      v !== null &&
      (v as { type?: unknown }).type === 'Buffer' &&
      Array.isArray((v as { data?: unknown }).data)
    ) {
      const b = Buffer.from((v as { data: number[] }).data);
      decoded.push(b.toString('utf8'));
      return b.toString('base64');
    }
    return v;
  });
  return [json, ...decoded].join('\n');
}

let h: TestHarness;
const endpointKeys: string[] = [];
const tokens: string[] = [];
let storageKeys: string[] = [];
const deps = () => createDeps(loadAzureConfig(process.env), process.env);

beforeAll(async () => {
  const observer = deps();
  // Observe (not change) the secrets a run uses: read the endpoint's keys just before the smoke test uses them.
  const real = createActivities(createDeps(loadAzureConfig(process.env), process.env));
  const smokeScore: FineTuneActivities['smokeScore'] = async (input) => {
    const cfg = loadAzureConfig(process.env);
    const keys = await observer.arm.onlineEndpoints.listKeys(cfg.resourceGroup, cfg.workspace, input.endpointName);
    for (const k of [keys.primaryKey, keys.secondaryKey]) if (k) endpointKeys.push(k);
    return real.smokeScore(input);
  };
  h = await startHarness({ smokeScore });
  const token = await observer.credential.getToken('https://management.azure.com/.default');
  if (token) tokens.push(token.token);
  const cfg = loadAzureConfig(process.env);
  const datastore = await observer.arm.datastores.get(cfg.resourceGroup, cfg.workspace, 'workspaceblobstore');
  expect(datastore.name).toBe('workspaceblobstore');
  storageKeys = [AZURITE_ACCOUNT.key];
});

afterAll(async () => {
  await fetch(`${emulatorUrl()}/_emulator/faults`, { method: 'DELETE' });
  await h?.stop();
});

/** Starts a run and records, while it runs, the heartbeat details of its pending activities. */
async function runAndRecord(
  spec: Record<string, unknown>,
): Promise<{ runId: string; failed: boolean; collected: unknown[] }> {
  const run = await h.client.start(spec, { options: QUICK });
  const collected: unknown[] = [];
  const handle = h.temporal.workflow.getHandle(run.runId);
  let done = false;
  const result = h.client.result(run.runId).then(
    () => false,
    () => true,
  );
  void result.then(() => (done = true));
  while (!done) {
    const d = await handle.describe();
    collected.push(d.raw.pendingActivities ?? []);
    await new Promise((r) => setTimeout(r, 150));
  }
  const failed = await result;
  const description = await handle.describe();
  collected.push(description.raw, description.memo, description.searchAttributes);
  collected.push(await h.client.get(run.runId));
  collected.push(await handle.fetchHistory());
  collected.push(await h.client.events(run.runId, { limit: 500 }));
  return { runId: run.runId, failed, collected };
}

function leaks(text: string, secrets: Record<string, string[]>): string[] {
  const found: string[] = [];
  for (const [what, values] of Object.entries(secrets)) {
    for (const value of values)
      for (const form of secretForms(value)) if (text.includes(form)) found.push(`${what} (${form.slice(0, 6)}…)`);
  }
  return found;
}

test('the secret forms find a secret in base64 at any alignment and JSON-escaped', () => {
  const secret = 'p@ss"word/with+chars==';
  for (const prefix of ['', 'a', 'ab', 'abc']) {
    expect(leaks(Buffer.from(prefix + secret + 'tail').toString('base64'), { s: [secret] })).not.toEqual([]);
  }
  expect(leaks(JSON.stringify({ x: secret }), { s: [secret] })).not.toEqual([]);
  expect(leaks('nothing here', { s: [secret] })).toEqual([]);
});

test('no secret is in what Temporal keeps of a succeeded run and of a run that failed after fetching the endpoint key', async () => {
  const happy = await runAndRecord({});
  expect(happy.failed).toBe(false);

  // The scoring call is refused: the run fails after the key was fetched and used.
  const fault = await fetch(`${emulatorUrl()}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      method: 'POST',
      path: '*/score',
      action: { type: 'status', status: 401, code: 'Unauthorized', message: 'key rejected' },
      count: 100,
    }),
  });
  expect(fault.status).toBe(201);
  const failing = await runAndRecord({});
  await fetch(`${emulatorUrl()}/_emulator/faults`, { method: 'DELETE' });
  expect(failing.failed).toBe(true);

  const clientSecret = process.env.AZURE_CLIENT_SECRET ?? '';
  expect(clientSecret.length).toBeGreaterThan(8);
  expect(endpointKeys.length).toBeGreaterThanOrEqual(4); // two keys of each run's endpoint
  expect(tokens.length).toBe(1);
  const secrets = {
    'client secret': [clientSecret],
    'Entra token': [...tokens, EMULATOR_JWT_HEADER],
    'endpoint key': endpointKeys,
    'storage account key': storageKeys,
  };
  for (const run of [happy, failing]) {
    const text = textOf(run.collected);
    // The scan reads the payloads: the spec's model name is there, decoded, in the history.
    expect(text).toContain('Phi-3-mini-4k-instruct');
    expect(text).toContain('"activityType"');
    expect({ runId: run.runId, leaks: leaks(text, secrets) }).toEqual({ runId: run.runId, leaks: [] });
  }
});
