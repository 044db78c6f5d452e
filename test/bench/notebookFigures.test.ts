// bench:notebook's arithmetic: Azure's waits from the emulator's records, requests sorted the way ARM
// counts them, Blob requests told apart by client from Azurite's debug log, and the linear extrapolation
// to 1,000 jobs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EmulatorRequest, EmulatorResources } from '../../bench/common';
import { azureWaitIntervals, azureWaits, unionMs } from '../../bench/notebook/azureWaits';
import { notebookAtScale, perJobRates, type StreamFigures } from '../../bench/notebook/follow';
import {
  diffCounts,
  isAzureOwnBlobRequest,
  isPythonRequest,
  readBlobRequests,
  tallyRequests,
} from '../../bench/notebook/requests';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

describe("Azure's waits", () => {
  test('the union counts overlapping intervals once', () => {
    expect(
      unionMs([
        { startMs: 0, endMs: 10 },
        { startMs: 5, endMs: 15 },
        { startMs: 20, endMs: 25 },
        { startMs: 30, endMs: 30 },
      ]),
    ).toBe(20);
  });

  test('the job, each provisioning (creates and later PUTs) and each deletion within the window, nothing before it', () => {
    const resources: EmulatorResources = {
      counts: { liveEndpoints: 0, activeJobs: 0, jobs: 2 },
      jobs: [
        { name: 'old', state: 'Completed', createdAt: iso(-100), endedAt: iso(-50) },
        { name: 'job', state: 'Completed', createdAt: iso(10), endedAt: iso(110) },
      ],
      computes: [{ name: 'gpu', state: 'Succeeded', createdAt: iso(5) }],
      endpoints: [{ name: 'ep', state: 'Gone', createdAt: iso(120), deleteRequestedAt: iso(150), deletedAt: iso(151) }],
      deployments: [
        {
          name: 'demo',
          endpoint: 'ep',
          state: 'Gone',
          createdAt: iso(125),
          deleteRequestedAt: iso(150),
          deletedAt: iso(151),
        },
      ],
    };
    const put = (path: string, s: number): EmulatorRequest => ({
      method: 'PUT',
      path,
      status: 200,
      time: iso(s),
      durationMs: 1,
    });
    const endpoint =
      '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/onlineEndpoints/ep';
    const requests = [put(endpoint, 120), put(`${endpoint}/deployments/demo`, 125), put(endpoint, 140)];
    const intervals = azureWaitIntervals(resources, requests, 1500, T0, T0 + 200_000);
    expect(intervals.map((i) => `${i.kind} ${i.what} ${(i.startMs - T0) / 1000}-${(i.endMs - T0) / 1000}`)).toEqual([
      'job job 10-110',
      'provisioning compute gpu 5-6.5',
      'provisioning endpoint ep 120-121.5',
      'deletion endpoint ep 150-151',
      'provisioning deployment ep/demo 125-126.5',
      'deletion deployment ep/demo 150-151',
      `provisioning update ${endpoint} 140-141.5`,
    ]);
    const waits = azureWaits(intervals);
    expect(waits.byKind).toEqual({ job: 100, provisioning: 6, deletion: 1 });
    expect(waits.totalSeconds).toBe(107);
  });
});

describe('requests', () => {
  test('ARM reads are GET and HEAD, deletes DELETE, writes the rest; cloud metadata apart; the Hub is the unnamed surface', () => {
    const before = { arm: { GET: 10, PUT: 1 }, public: { GET: 3 } };
    const after = {
      arm: { GET: 30, HEAD: 1, PUT: 4, POST: 2, DELETE: 1 },
      public: { GET: 9 },
      history: { GET: 5 },
      entra: { POST: 2 },
      mlflow: { GET: 1, POST: 1 },
      other: { GET: 7 },
    };
    const emulator = diffCounts(before, after);
    expect(emulator['arm']).toEqual({ GET: 20, HEAD: 1, PUT: 3, POST: 2, DELETE: 1 });
    const blob = [
      { atMs: 1, method: 'PUT', userAgent: 'azsdk-python-storage-blob/12', url: 'u' },
      { atMs: 2, method: 'GET', userAgent: 'azsdk-python-storage-blob/12', url: 'u' },
    ];
    const t = tallyRequests(emulator, blob, 4);
    expect(t.arm).toEqual({ reads: 21, writes: 5, deletes: 1, total: 27 });
    expect(t.other).toEqual({
      registry: 0,
      mlflow: 2,
      runHistory: 5,
      token: 2,
      blob: 2,
      scoring: 0,
      hub: 7,
      total: 18,
    });
    expect(t.cloudMetadata).toBe(6);
    expect(t.blobByMethod).toEqual({ PUT: 1, GET: 1 });
    expect(t.azureOwnBlob).toBe(4);
  });

  test("Azurite's debug log gives each request's time, method, client and URL without its SAS", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-blob-'));
    const file = path.join(dir, 'debug.log');
    const line = (ua: string | undefined, url: string) =>
      `2026-12-06T10:00:01.500Z 87504c1f info: BlobStorageContextMiddleware: RequestMethod=GET RequestURL=${url} ` +
      `RequestHeaders:${JSON.stringify(ua ? { 'user-agent': ua, host: 'h' } : { host: 'h' })} ClientIP=127.0.0.1 Protocol=https HTTPVersion=1.1`;
    fs.writeFileSync(
      file,
      [
        line(
          'azureml-emulator azsdk-js-azure-storage-blob/12.32.0',
          'https://127.0.0.1/devstoreaccount1/azureml?restype=container',
        ),
        '2026-12-06T10:00:01.600Z 87504c1f debug: something else',
        line(
          'azure-ai-ml/1.35.2 azsdk-python-core/1.41.0 Python/3.11.7',
          'https://a.blob.core.localhost/azureml/log.txt?sv=1&sig=x',
        ),
        line(undefined, 'https://127.0.0.1/devstoreaccount1?comp=list'),
      ].join('\n'),
    );
    const requests = readBlobRequests(file);
    expect(requests.map((r) => [r.atMs - T0, r.method, r.url])).toEqual([
      [1500, 'GET', 'https://127.0.0.1/devstoreaccount1/azureml'],
      [1500, 'GET', 'https://a.blob.core.localhost/azureml/log.txt'],
      [1500, 'GET', 'https://127.0.0.1/devstoreaccount1'],
    ]);
    expect(requests.map(isAzureOwnBlobRequest)).toEqual([true, false, false]);
    expect(requests.map((r) => isPythonRequest(r.userAgent))).toEqual([false, true, false]);
    expect(readBlobRequests(path.join(dir, 'missing.log'))).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('following 1,000 jobs', () => {
  const one: StreamFigures = {
    streams: 1,
    windowSeconds: 100,
    requests: { arm: 0, runHistory: 20, blob: 40, cloudMetadata: 20, other: 0 },
    pollCycles: 20,
    cpuSeconds: 2,
    rssBeforeMiB: null,
    rssPeakMiB: 200,
    armRequestsPerStream: 5,
  };

  test('per job: rates over the Running window, requests per poll cycle without cloud metadata', () => {
    expect(perJobRates(one)).toEqual({
      armReadsPerSecond: 0,
      runHistoryPerSecond: 0.2,
      blobPerSecond: 0.4,
      requestsPerPollCycle: 3,
      cpuCores: 0.02,
    });
  });

  test('kernel per job multiplies one process; threads add the measured growth per thread to one process', () => {
    const threads: StreamFigures = {
      ...one,
      streams: 10,
      requests: { ...one.requests, runHistory: 200, blob: 400 },
      pollCycles: 200,
      cpuSeconds: 20,
      rssBeforeMiB: 180,
      rssPeakMiB: 200,
      armRequestsPerStream: 4,
    };
    const { kernelPerJob, threadsInOneProcess } = notebookAtScale(one, threads);
    expect(kernelPerJob).toMatchObject({
      processes: 1000,
      memoryGiB: 195.3,
      armReadsPerSecond: 0,
      armRequestsPerJob: 5,
      otherReadsPerSecond: 600,
      steadyReadsPerSecond: 50,
      cpuCores: 20,
      // 0.02 cores for 0.6 requests/s per job, at 50 requests/s in all
      steadyCpuCores: 1.67,
    });
    expect(threadsInOneProcess).toMatchObject({
      processes: 1,
      threads: 1000,
      memoryGiB: 2.1,
      armRequestsPerJob: 4,
      otherReadsPerSecond: 600,
      cpuCores: 20,
      steadyCpuCores: 1.67,
      limit: expect.stringContaining('GIL'),
    });
  });
});
