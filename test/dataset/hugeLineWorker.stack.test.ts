// Issue 13 item 2 on a worker: a run whose train file is 400 MiB without a newline (served over http
// by this test, reached through the operator allow list) fails at stageDataset, naming the field, the
// row and the limit, while another run on the same worker goes all the way through, and the worker's
// event loop never stalls.
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createDeps } from '../../src/activities';
import { makeStageDataset } from '../../src/activities/stageDataset';
import { loadAzureConfig } from '../../src/azure/config';
import { DATASET_ENV, loadDatasetSourceSettings } from '../../src/dataset/sourceSettings';
import { startHarness, type TestHarness } from '../helpers/localStack';

const MiB = 1024 * 1024;
const TOTAL = 400 * MiB;
const QUICK = { heartbeatTimeoutSeconds: 3 };

/** Serves /huge.jsonl: TOTAL bytes of "x" and no newline, written as the client reads (nothing held). */
function startServer(): http.Server {
  const chunk = Buffer.alloc(256 * 1024, 0x78);
  return http.createServer((req, res) => {
    if (req.url !== '/huge.jsonl') return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(TOTAL), etag: '"huge-1"', 'content-type': 'application/jsonl' });
    if (req.method === 'HEAD') return res.end();
    let sent = 0;
    const pump = () => {
      while (sent < TOTAL) {
        const part = chunk.subarray(0, Math.min(chunk.length, TOTAL - sent));
        sent += part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => (sent = TOTAL));
    pump();
  });
}

describe('a 400 MiB JSONL without a newline, on a worker that runs another run', () => {
  let h: TestHarness;
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = startServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/huge.jsonl`;
    // Judged as a worker not in local mode: the test server is reachable only through the allow list.
    const env: NodeJS.ProcessEnv = { ...process.env, [DATASET_ENV.allowHosts]: '127.0.0.1' };
    delete env.FTFLOW_ARM_ENDPOINT;
    const sources = loadDatasetSourceSettings(env);
    expect(sources.localMode).toBe(false);
    const deps = createDeps(loadAzureConfig(process.env), process.env);
    h = await startHarness({ stageDataset: makeStageDataset(deps, { sources }) });
  });

  afterAll(async () => {
    await h?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  test('the huge run fails at stageDataset naming the row and the limit; the other run succeeds meanwhile', async () => {
    const delay = monitorEventLoopDelay({ resolution: 20 });
    delay.enable();
    const rss0 = process.memoryUsage().rss;
    let rssPeak = rss0;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const t0 = Date.now();
    const huge = await h.client.start(
      { dataset: { files: { train: url, test: url } }, compute: { name: 'huge-line-cluster' } },
      { options: QUICK },
    );
    const other = await h.client.start({}, { options: QUICK });
    const [hugeOutcome, otherOutcome] = await Promise.all([
      h.client.result(huge.runId).then(
        () => ({ error: undefined, seconds: (Date.now() - t0) / 1000 }),
        (err: unknown) => ({ error: err as Error, seconds: (Date.now() - t0) / 1000 }),
      ),
      h.client.result(other.runId).then(() => (Date.now() - t0) / 1000),
    ]);
    delay.disable();
    clearInterval(sampler);
    const maxDelayMs = delay.max / 1e6;
    console.log(
      `400 MiB no-newline run failed after ${hugeOutcome.seconds.toFixed(1)} s; the other run succeeded after ${otherOutcome.toFixed(1)} s; event loop delay max ${maxDelayMs.toFixed(0)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms; RSS growth of this process (worker and test) ${((rssPeak - rss0) / MiB).toFixed(0)} MiB`,
    );

    const chain: string[] = [];
    for (let e: unknown = hugeOutcome.error; e instanceof Error; e = e.cause) chain.push(e.message);
    const message = chain.join(' <- ');
    expect(message).toContain('stageDataset: dataset.files.train');
    expect(message).toContain('row 0: row_too_large');
    expect(message).toContain('longer than 1 MiB');
    expect(message).toContain('dataset.maxInvalidFraction');
    const record = await h.client.get(huge.runId);
    expect(record.steps.find((s) => s.status === 'failed')?.name).toBe('stageDataset');
    expect(
      record.steps.filter((s) => s.status === 'completed' || s.status === 'running').map((s) => s.name),
    ).not.toContain('submitPipeline');
    expect(hugeOutcome.seconds).toBeLessThan(45);
    expect(otherOutcome).toBeLessThan(55);
    // The delay is printed above; this bound only catches a loop held for seconds (the line read or parsed in
    // one piece), not the machine's load: 1.3 s max (p99 0.9 s) was seen at load 14 on 2 cores, 0.1-0.6 s idle.
    expect(maxDelayMs).toBeLessThan(5000);
  }, 90_000);
});
