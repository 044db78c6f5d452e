// ARM throttling: token buckets per subscription and principal (reads 250 + 25/s by default), 429
// SubscriptionRequestsThrottled with Retry-After, x-ms-ratelimit-remaining-* on every ARM response,
// and the product's own clients (AzureRestClient, the ARM SDK client from createArmClient, both
// with ClientSecretCredential) riding the 429s out with their retry policy.
import { AzureRestClient } from '../../../src/azure/rest';
import { createArmClient } from '../../../src/azure/arm';
import type { AzureConfig } from '../../../src/azure/config';
import { LOCAL_AZURE } from '../../../src/config/local';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { admin, armToken, call, credentialFor, startTestEmulator, WS } from './helpers';

const WS_URL = `${WS}?api-version=2022-10-01`;
let emulator: RunningEmulator;
let token: string;

beforeAll(async () => {
  emulator = await startTestEmulator();
  token = await armToken(emulator);
});

afterAll(async () => {
  await emulator?.close();
});

test('ARM remaining-request headers on every ARM response, per operation type', async () => {
  const read = await call(emulator, WS_URL, { token });
  expect(Number(read.headers.get('x-ms-ratelimit-remaining-subscription-reads'))).toBe(249);
  const write = await call(emulator, `${WS}/onlineEndpoints/ep-throttle?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { location: 'eastus', properties: { authMode: 'Key' } },
  });
  expect(write.headers.get('x-ms-ratelimit-remaining-subscription-writes')).toBe('199');
  const del = await call(emulator, `${WS}/onlineEndpoints/none?api-version=2022-10-01`, { method: 'DELETE', token });
  expect(del.headers.get('x-ms-ratelimit-remaining-subscription-deletes')).toBe('199');
  // Errors carry them too (a 404 here), and the throttle is ARM's: the token endpoint has none.
  const missing = await call(emulator, `${WS}/jobs/none?api-version=2022-10-01`, { token });
  expect(missing.status).toBe(404);
  expect(missing.headers.get('x-ms-ratelimit-remaining-subscription-reads')).not.toBeNull();
});

test('400 GETs at once: the first 250 pass (and what refills meanwhile), the rest get 429 with Retry-After', async () => {
  // ARM's capacity with a slow refill (1/s, not 25/s): on a loaded machine the 400 requests may take several
  // seconds to send, and at 25/s the bucket would refill as fast as they arrive; the bound below is exact.
  const refillPerSecond = 1;
  await admin(emulator, 'throttle', { method: 'PUT', body: { reads: { capacity: 250, refillPerSecond } } });
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 400 }, () => call(emulator, WS_URL, { token })));
  const elapsedSeconds = (Date.now() - started) / 1000;
  const ok = results.filter((r) => r.status === 200);
  const throttled = results.filter((r) => r.status === 429);
  expect(ok.length + throttled.length).toBe(400);
  expect(ok.length).toBeGreaterThanOrEqual(250);
  expect(ok.length).toBeLessThanOrEqual(250 + Math.ceil(refillPerSecond * elapsedSeconds) + 1);
  expect(throttled.length).toBeGreaterThan(0);
  for (const r of throttled) {
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r.headers.get('x-ms-ratelimit-remaining-subscription-reads')).toBe('0');
    expect(r.body).toMatchObject({
      error: {
        code: 'SubscriptionRequestsThrottled',
        message: expect.stringMatching(
          /^Number of 'read' requests for subscription '.+' actor '.+' exceeded\. Please try again after '\d+' seconds/,
        ),
      },
    });
  }
  // Writes have their own bucket.
  const write = await call(emulator, `${WS}/onlineEndpoints/ep-throttle-2?api-version=2022-10-01`, {
    method: 'PUT',
    token,
    body: { location: 'eastus', properties: { authMode: 'Key' } },
  });
  expect(write.status).toBe(201);
  const stats = await admin<{ throttled: number }>(emulator, 'throttle');
  expect(stats.throttled).toBe(throttled.length);
});

test("the product's REST and ARM SDK clients ride out 429s (Retry-After) with a lowered bucket", async () => {
  await admin(emulator, 'throttle', { method: 'PUT', body: { reads: { capacity: 10, refillPerSecond: 10 } } });
  await admin(emulator, 'reset', { method: 'POST' });
  const credential = credentialFor(emulator);
  const rest = new AzureRestClient(credential);
  const restResults = await Promise.all(
    Array.from({ length: 30 }, () => rest.get<{ name: string }>(`${emulator.url}${WS_URL}`)),
  );
  expect(restResults.every((w) => w.name === LOCAL_AZURE.workspace)).toBe(true);

  const arm = createArmClient(
    { subscriptionId: LOCAL_AZURE.subscriptionId, armEndpoint: emulator.url } as AzureConfig,
    credential,
  );
  const sdkResults = await Promise.all(
    Array.from({ length: 30 }, () => arm.workspaces.get(LOCAL_AZURE.resourceGroup, LOCAL_AZURE.workspace)),
  );
  expect(sdkResults.every((w) => w.name === LOCAL_AZURE.workspace)).toBe(true);

  // They did meet 429s on the way: the emulator's request log has them.
  const log = await admin<{ requests: { status: number }[] }>(
    emulator,
    `requests?method=GET&pathContains=/workspaces/`,
  );
  const statuses = log.requests.map((r) => r.status);
  expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20);
  expect(statuses.filter((s) => s === 200).length).toBe(60);
}, 30_000);

test('throttling can be switched off and is configurable at start', async () => {
  const relaxed = await startTestEmulator({ throttle: false, clientSecret: emulator.clientSecret });
  try {
    const t = await armToken(relaxed);
    const results = await Promise.all(Array.from({ length: 300 }, () => call(relaxed, WS_URL, { token: t })));
    expect(results.every((r) => r.status === 200)).toBe(true);
  } finally {
    await relaxed.close();
  }
  const tight = await startTestEmulator({ throttle: { reads: { capacity: 2, refillPerSecond: 1 } } });
  try {
    const t = await armToken(tight);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(tight, WS_URL, { token: t })).status);
    expect(statuses).toEqual([200, 200, 429]);
  } finally {
    await tight.close();
  }
});
