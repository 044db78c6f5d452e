// Jobs_List on the emulator (tag filter, paging by nextLink), and the worker's job watcher on top of it:
// it reads every followed job once per cycle, with one list walk when that is cheaper than a Get per
// job, and falls back to Gets for jobs the walk did not show.
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { LOCAL_AZURE } from '../../src/config/local';
import { JobWatcher } from '../../src/azure/jobWatcher';
import { RUN_TAG } from '../../src/azure/tags';
import type { RunningEmulator } from '../../devstack/emulator/server';
import { armClient, armToken, call, pipelineJobBody, startTestEmulator, WS } from '../devstack/emulator/helpers';

const RG = LOCAL_AZURE.resourceGroup;
const WSNAME = LOCAL_AZURE.workspace;
/** The tag the worker filters its Jobs_List walk by (src/azure/tags.ts). */
const TAG = RUN_TAG;
const PAGE = 3;
const TAGGED = Array.from({ length: 8 }, (_, i) => `watched-${i}`);
const UNTAGGED = ['other-0', 'other-1'];

let emulator: RunningEmulator;
let arm: AzureMachineLearningWorkspaces;
let token: string;

interface LoggedRequest {
  method: string;
  path: string;
}

async function requestsSince(count: number): Promise<LoggedRequest[]> {
  const all = (await call(emulator, '/_emulator/requests')).body as LoggedRequest[] | { requests: LoggedRequest[] };
  const list = Array.isArray(all) ? all : all.requests;
  return list.slice(count);
}

async function requestCount(): Promise<number> {
  return (await requestsSince(0)).length;
}

beforeAll(async () => {
  // Jobs stay in their first phases for the whole file.
  emulator = await startTestEmulator({
    listPageSize: PAGE,
    clock: { jobPhaseMs: 600_000, provisionMs: 50, deleteMs: 50, cancelMs: 50 },
  });
  arm = armClient(emulator);
  token = await armToken(emulator);
  await arm.computeOperations.beginCreateOrUpdateAndWait(
    RG,
    WSNAME,
    'gpu',
    {
      location: 'eastus',
      properties: {
        computeType: 'AmlCompute',
        properties: { vmSize: 'Standard_NC24ads_A100_v4', scaleSettings: { maxNodeCount: 1 } },
      },
    },
    { updateIntervalInMs: 10 },
  );
  for (const name of [...TAGGED, ...UNTAGGED]) {
    const body = pipelineJobBody({ compute: 'gpu', train: 'x/train.jsonl', test: 'x/test.jsonl' });
    if (name.startsWith('watched')) body.properties.tags = { [TAG]: `run-${name}` } as typeof body.properties.tags;
    const res = await call(emulator, `${WS}/jobs/${name}?api-version=2022-10-01`, { method: 'PUT', token, body });
    expect({ status: res.status, body: res.status === 201 ? undefined : res.body }).toEqual({
      status: 201,
      body: undefined,
    });
  }
});

afterAll(async () => {
  await emulator?.close();
});

describe('Jobs_List', () => {
  test('pages by an absolute nextLink that continues with $skip, filtered by tag key', async () => {
    const first = await call(emulator, `${WS}/jobs?api-version=2022-10-01&tag=${TAG}`, { token });
    expect(first.status).toBe(200);
    const page = first.body as { value: { name: string }[]; nextLink?: string };
    expect(page.value.map((j) => j.name)).toEqual(TAGGED.slice(0, PAGE));
    expect(page.nextLink).toMatch(/^https:\/\/.*\$skip=3/);
    const names: string[] = [];
    for await (const p of arm.jobs.list(RG, WSNAME, { tag: TAG }).byPage()) names.push(...p.map((j) => j.name ?? '?'));
    expect(names).toEqual(TAGGED);
    const all: string[] = [];
    for await (const job of arm.jobs.list(RG, WSNAME)) all.push(job.name ?? '?');
    expect(all).toEqual([...TAGGED, ...UNTAGGED]);
    const archived: string[] = [];
    for await (const job of arm.jobs.list(RG, WSNAME, { listViewType: 'ArchivedOnly' })) archived.push(job.name ?? '?');
    expect(archived).toEqual([]);
  });

  test('a bad $skip is refused', async () => {
    const res = await call(emulator, `${WS}/jobs?api-version=2022-10-01&$skip=-1`, { token });
    expect(res.status).toBe(400);
  });
});

describe('the job watcher', () => {
  test('eight followed jobs cost one list walk (three pages), not eight Gets', async () => {
    const watcher = new JobWatcher(arm, {
      resourceGroup: RG,
      workspace: WSNAME,
      minIntervalMs: 100,
      readsPerSecond: 1000,
      tag: TAG,
    });
    const before = await requestCount();
    const jobs = await Promise.all(TAGGED.map((name) => watcher.next(name)));
    expect(jobs.map((j) => j.name)).toEqual(TAGGED);
    expect(jobs.every((j) => typeof j.properties.status === 'string')).toBe(true);
    const reads = (await requestsSince(before)).filter((r) => r.method === 'GET' && r.path.includes('/jobs'));
    expect(reads.filter((r) => /\/jobs$/.test(r.path.split('?')[0] ?? ''))).toHaveLength(3);
    expect(reads.filter((r) => /\/jobs\/[^/?]+$/.test(r.path.split('?')[0] ?? ''))).toHaveLength(0);
    expect(watcher.cycles.at(-1)).toMatchObject({ followed: 8, mode: 'list', reads: 3 });
    expect(watcher.followed).toBe(0);
  });

  test('a job the list does not show is read by its own Get in the same cycle; few jobs are read by Gets', async () => {
    const watcher = new JobWatcher(arm, {
      resourceGroup: RG,
      workspace: WSNAME,
      minIntervalMs: 100,
      readsPerSecond: 1000,
      tag: TAG,
    });
    // Warm the page count: one walk of three pages.
    await Promise.all(TAGGED.map((name) => watcher.next(name)));
    const [untagged] = await Promise.all([watcher.next('other-0'), ...TAGGED.map((name) => watcher.next(name))]);
    expect(untagged.name).toBe('other-0');
    expect(watcher.cycles.at(-1)).toMatchObject({ followed: 9, mode: 'list', reads: 4 });
    // Two jobs: two Gets are cheaper than a three-page walk.
    await Promise.all([watcher.next('watched-0'), watcher.next('watched-1')]);
    expect(watcher.cycles.at(-1)).toMatchObject({ followed: 2, mode: 'get', reads: 2 });
  });

  test('cycles start one interval apart however soon the caller asks again', async () => {
    const watcher = new JobWatcher(arm, {
      resourceGroup: RG,
      workspace: WSNAME,
      minIntervalMs: 400,
      readsPerSecond: 1000,
      tag: TAG,
    });
    await watcher.next('watched-3');
    const started = Date.now();
    await watcher.next('watched-3');
    await watcher.next('watched-3');
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
  });

  test('a job that does not exist rejects its waiter with the 404; an aborted wait is dropped', async () => {
    const watcher = new JobWatcher(arm, {
      resourceGroup: RG,
      workspace: WSNAME,
      minIntervalMs: 100,
      readsPerSecond: 1000,
      tag: TAG,
    });
    await expect(watcher.next('no-such-job')).rejects.toMatchObject({ statusCode: 404 });
    await watcher.next('watched-0');
    const controller = new AbortController();
    const waiting = watcher.next('watched-1', controller.signal);
    controller.abort(new Error('run cancelled'));
    await expect(waiting).rejects.toThrow('run cancelled');
    expect(watcher.followed).toBe(0);
  });
});
