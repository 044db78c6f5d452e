// Azure faults injected by the emulator: each one is ridden out (throttling, 5xx, resets) or ends the run
// with a message naming the cause (failed provisioning, a failed job, quota), and no endpoint outlives it.
import { WorkflowFailedError } from '@temporalio/client';
import { emulatorUrl, resourcesOf, startHarness, type TestHarness } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 3 };

async function fault(rule: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${emulatorUrl()}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rule),
  });
  if (!res.ok) throw new Error(`POST /_emulator/faults answered ${res.status}: ${await res.text()}`);
}

async function clearFaults(): Promise<{ hits: number }[]> {
  const listed = (await (await fetch(`${emulatorUrl()}/_emulator/faults`)).json()) as
    { rules?: { hits: number }[] } | { hits: number }[];
  await fetch(`${emulatorUrl()}/_emulator/faults`, { method: 'DELETE' });
  return Array.isArray(listed) ? listed : (listed.rules ?? []);
}

describe('Azure faults during a run', () => {
  let h: TestHarness;
  beforeAll(async () => {
    h = await startHarness();
    // The stack is shared by the test files: start without rules another file may have left behind.
    await clearFaults();
  });
  afterEach(async () => {
    await clearFaults();
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function expectNoLiveEndpoint(names: { jobName: string; endpointName: string }) {
    for (const e of (await resourcesOf(names)).endpoints) expect(e.deletedAt).toBeTruthy();
  }

  test('throttled job reads (429 with Retry-After) and 503s on the endpoint PUT are ridden out', async () => {
    await fault({ method: 'GET', path: '*/jobs/*', action: { type: 'status', status: 429, retryAfter: 1 }, count: 4 });
    await fault({
      method: 'PUT',
      path: '*/onlineEndpoints/*',
      action: { type: 'status', status: 503, retryAfter: 1 },
      count: 2,
    });
    const run = await h.client.start({}, { options: QUICK });
    const result = await h.client.result(run.runId);
    expect(result.status).toBe('succeeded');
    const hits = (await clearFaults()).map((r) => r.hits);
    expect(hits).toEqual([4, 2]);
    await expectNoLiveEndpoint(run.names);
  });

  test('connection resets on reads are retried', async () => {
    await fault({ method: 'GET', path: '*/onlineEndpoints/*', action: { type: 'reset' }, count: 2 });
    const run = await h.client.start({}, { options: QUICK });
    await expect(h.client.result(run.runId)).resolves.toMatchObject({ status: 'succeeded' });
    await expectNoLiveEndpoint(run.names);
  });

  test('a deployment that fails to provision fails the run with the cause, and its endpoint is deleted', async () => {
    await fault({
      method: 'PUT',
      path: '*/deployments/*',
      action: { type: 'failProvisioning', code: 'ResourceNotReady', message: 'Deployment container failed to start' },
    });
    const run = await h.client.start({}, { options: QUICK });
    await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
    const progress = await h.client.progress(run.runId);
    expect(progress.steps.find((s) => s.name === 'deployEndpoint')?.detail).toMatch(
      /ResourceNotReady|failed to provision/,
    );
    expect(progress.steps.find((s) => s.name === 'deleteEndpoint')?.status).toBe('completed');
    await expectNoLiveEndpoint(run.names);
  });

  test('a job that fails while running fails the run with the job error and creates no endpoint', async () => {
    await fault({ action: { type: 'failJob', phase: 'Running', fraction: 0.5 } });
    const run = await h.client.start({}, { options: QUICK });
    await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
    const progress = await h.client.progress(run.runId);
    expect(progress.error).toMatch(/ended Failed/);
    expect((await resourcesOf(run.names)).endpoints).toEqual([]);
  });

  test('a deployment over quota fails the run as a quota error, and its endpoint is deleted', async () => {
    await fault({ method: 'PUT', path: '*/deployments/*', action: { type: 'quota' } });
    const run = await h.client.start({}, { options: QUICK });
    await expect(h.client.result(run.runId)).rejects.toBeInstanceOf(WorkflowFailedError);
    const progress = await h.client.progress(run.runId);
    expect(progress.steps.find((s) => s.name === 'deployEndpoint')?.detail).toMatch(/quota/i);
    await expectNoLiveEndpoint(run.names);
  });
});
