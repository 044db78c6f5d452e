// One full run on a real worker process (node dist/worker.js) with JSON logs, the Prometheus endpoint and
// console tracing on; the client in this process traces too. Then: what an operator would scrape and read.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { FineTuneClient, type RunHandle } from '../../src/client';
import { AZURITE_ACCOUNT } from '../../src/config/local';
import { METRIC } from '../../src/observability/metricNames';
import { installTracing } from '../../src/observability/tracing';
import { pickFreePort } from '../../devstack/stack';
import { STEPS, type FineTuneResult } from '../../src/workflows/definitions';
import { temporalAddress, waitFor } from '../helpers/localStack';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/** A succeeded run's activities: its eleven steps, the estimate before its job and the cost measured at its end. */
const RUN_ACTIVITIES = [...STEPS, 'estimateCost', 'measureCost'];

const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./;

/** Parses Prometheus text: samples of one metric, with their labels. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const m = /^[^{ ]+(?:\{(.*)\})? ([^ ]+)$/.exec(line);
      if (!m) throw new Error(`unparsable sample: ${line}`);
      const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      return { labels, value: Number(m[2]) };
    });
}

/** The emulator's keys for this run's endpoint, from its state file (they never leave Azure otherwise). */
function endpointKeys(endpointName: string): string[] {
  const dataDir = process.env.FTFLOW_TEST_DATA_DIR;
  if (!dataDir) throw new Error('FTFLOW_TEST_DATA_DIR is not set: run the tests with `make test`');
  const state = JSON.parse(fs.readFileSync(path.join(dataDir, 'emulator', 'state.json'), 'utf8')) as {
    endpoints: { name: string; keys: { primaryKey: string; secondaryKey: string } }[];
  };
  return state.endpoints
    .filter((e) => e.name === endpointName)
    .flatMap((e) => [e.keys.primaryKey, e.keys.secondaryKey]);
}

describe('a run on a production-configured worker process', () => {
  const taskQueue = `obs-${randomUUID()}`;
  const clientSpans = new InMemorySpanExporter();
  let worker: WorkerProcess;
  let metricsUrl: string;
  let client: FineTuneClient;
  let run: RunHandle;
  let result: FineTuneResult;

  beforeAll(async () => {
    // This process traces its client calls (in memory); the worker prints its spans as JSON lines.
    installTracing({ tracing: 'none', serviceName: 'finetune-flow-test-client' }, { exporter: clientSpans });
    const port = await pickFreePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    worker = await startWorkerProcess({
      FTFLOW_TASK_QUEUE: taskQueue,
      FTFLOW_METRICS_ADDRESS: `127.0.0.1:${port}`,
      FTFLOW_TRACING: 'console',
      FTFLOW_LOG_LEVEL: 'INFO',
      FTFLOW_LOG_FORMAT: 'json',
    });
    client = await FineTuneClient.connect({ address: temporalAddress(), taskQueue });
    run = await client.start({}, { options: { heartbeatTimeoutSeconds: 5 } });
    result = await client.handle(run.runId).result();
    // The worker's last lines may still be in the pipe when the result arrives.
    await waitFor(
      'the run-ended log line',
      async () =>
        worker.json().some((l) => l.message === 'run ended' && l.workflowId === run.runId) ? true : undefined,
      10_000,
    );
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await worker?.kill('SIGTERM');
  });

  test('the run succeeds', () => {
    expect(result.status).toBe('succeeded');
  });

  test('every line the worker writes, on stdout and stderr, is one JSON object', () => {
    expect(worker.lines.length).toBeGreaterThan(20);
    const notJson = worker.lines.filter((l) => {
      try {
        const parsed: unknown = JSON.parse(l.text);
        return typeof parsed !== 'object' || parsed === null || Array.isArray(parsed);
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
  });

  test('activity and workflow lines name the run, the Temporal execution and the step', () => {
    const lines = worker.json().filter((l) => l.workflowId === run.runId);
    const activityLines = lines.filter((l) => l.sdkComponent === 'activity');
    const workflowLines = lines.filter((l) => l.sdkComponent === 'workflow');
    expect(activityLines.length).toBeGreaterThan(0);
    expect(workflowLines.length).toBeGreaterThan(0);
    for (const line of activityLines) {
      expect(line).toMatchObject({
        workflowId: run.runId,
        runId: expect.any(String),
        activityType: expect.any(String),
      });
      expect(line.step).toBe(line.activityType);
      expect(line).not.toHaveProperty('taskToken');
    }
    for (const line of workflowLines)
      expect(line).toMatchObject({ workflowId: run.runId, runId: expect.any(String), step: expect.any(String) });
    const completed = activityLines.filter((l) => l.message === 'step completed').map((l) => l.step);
    expect(new Set(completed)).toEqual(new Set(RUN_ACTIVITIES));
    expect(workflowLines.find((l) => l.message === 'run ended')).toMatchObject({
      outcome: 'succeeded',
      step: 'deleteEndpoint',
    });
  });

  test('no line carries a secret: client secret, token, endpoint key or storage key', () => {
    const secrets = [
      process.env.AZURE_CLIENT_SECRET,
      ...endpointKeys(run.names.endpointName),
      AZURITE_ACCOUNT.key,
    ].filter((s): s is string => !!s);
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    for (const { text } of worker.lines) {
      for (const secret of secrets)
        expect(text.includes(secret) ? `${secret.slice(0, 4)}… in: ${text}` : 'clean').toBe('clean');
      expect(JWT.test(text) ? `token in: ${text}` : 'clean').toBe('clean');
    }
  });

  test("the console exporter prints a span for every activity of the run, in the client's trace", () => {
    const spans = worker
      .json()
      .filter((l) => l.message === 'span')
      .map((l) => l.span as { name: string; traceId: string; attributes: Record<string, unknown> });
    const activitySpans = spans.filter(
      (s) => s.name.startsWith('RunActivity:') && s.attributes.temporalWorkflowId === run.runId,
    );
    expect(new Set(activitySpans.map((s) => s.name.slice('RunActivity:'.length)))).toEqual(new Set(RUN_ACTIVITIES));
    const started = clientSpans.getFinishedSpans().find((s) => s.name === 'StartWorkflow:fineTune');
    expect(started).toBeDefined();
    for (const span of activitySpans) expect(span.traceId).toBe(started?.spanContext().traceId);
  });

  test("GET /metrics shows the service's own metrics with non-zero values, beside the SDK's", async () => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^temporal_\w+/m);

    const runs = samples(text, METRIC.runs).filter((s) => s.labels.taskQueue === taskQueue);
    expect(runs).toEqual([
      expect.objectContaining({
        labels: expect.objectContaining({ outcome: 'succeeded', workflowType: 'fineTune' }),
        value: 1,
      }),
    ]);
    expect(samples(text, `${METRIC.runDuration}_count`).find((s) => s.labels.outcome === 'succeeded')?.value).toBe(1);

    const steps = samples(text, `${METRIC.stepDuration}_count`).filter(
      (s) => s.labels.outcome === 'completed' && s.labels.taskQueue === taskQueue,
    );
    expect(new Set(steps.map((s) => s.labels.step))).toEqual(new Set(RUN_ACTIVITIES));
    for (const s of steps) expect(s.value).toBeGreaterThan(0);

    // What the run cost, measured after it: one observation, priced, labelled with the model and the sizes.
    const costs = samples(text, `${METRIC.runCost}_count`).filter((s) => s.labels.taskQueue === taskQueue);
    expect(costs).toEqual([
      expect.objectContaining({
        labels: expect.objectContaining({
          model: 'Phi-3-mini-4k-instruct',
          vm_size: 'Standard_NC24ads_A100_v4',
          instance_type: 'Standard_NC6s_v3',
        }),
        value: 1,
      }),
    ]);
    const spent = samples(text, `${METRIC.runCost}_sum`).filter((s) => s.labels.taskQueue === taskQueue);
    expect(spent[0]?.value).toBeGreaterThan(0);
    expect(samples(text, `${METRIC.stepDuration}_sum`).reduce((sum, s) => sum + s.value, 0)).toBeGreaterThan(0);

    const calls = samples(text, METRIC.azureCalls);
    expect(
      calls.filter((s) => s.labels.client === 'arm' && s.labels.status === '200').reduce((n, s) => n + s.value, 0),
    ).toBeGreaterThan(0);
    expect(calls.filter((s) => s.labels.client === 'rest').reduce((n, s) => n + s.value, 0)).toBeGreaterThan(0);

    const endpointSeconds = samples(text, METRIC.endpointSeconds);
    expect(endpointSeconds.reduce((n, s) => n + s.value, 0)).toBeGreaterThanOrEqual(1);
    // The spec leaves the instance type unset: the seed's model allows the notebook's, so the run used it.
    expect(endpointSeconds.map((s) => s.labels.instance_type)).toContain('Standard_NC6s_v3');
  });
});
