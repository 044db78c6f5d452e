// The production configuration without a server: Temporal connection settings and their errors, the
// observability settings, the log redactor and the Azure call counter.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import {
  noopMetricMeter,
  type MetricCounter,
  type MetricHistogram,
  type MetricMeter,
  type MetricTags,
} from '@temporalio/common';
import { ConfigurationError, connectionOptions, loadTemporalConfig } from '../../src/config/temporal';
import { loadObservabilityConfig } from '../../src/observability/config';
import { createRedactor, REDACTED } from '../../src/observability/redact';
import { formatJsonLine } from '../../src/observability/logging';
import { azureCallMetricsPolicy } from '../../src/observability/azureCalls';
import { installServiceMetrics } from '../../src/observability/metrics';
import { METRIC } from '../../src/observability/metricNames';
import { AZURITE_ACCOUNT } from '../../src/config/local';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-config-'));
const pem = (name: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n`);
  return file;
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadTemporalConfig(env);
  } catch (err) {
    if (err instanceof ConfigurationError) return err.problems;
    throw err;
  }
  return [];
}

describe('Temporal connection from the environment', () => {
  test('defaults to the local dev server, plaintext', () => {
    const config = loadTemporalConfig({});
    expect(config).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'finetune-flow',
      auth: 'none',
    });
    expect(connectionOptions(config)).toEqual({ address: '127.0.0.1:7233' });
  });

  test('an API key (Temporal Cloud) turns TLS on', () => {
    const config = loadTemporalConfig({
      TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'ml.a1b2c',
      TEMPORAL_API_KEY: 'key-123456',
    });
    expect(config.auth).toBe('api-key');
    expect(connectionOptions(config)).toEqual({
      address: 'us-east-1.aws.api.temporal.io:7233',
      tls: {},
      apiKey: 'key-123456',
    });
  });

  test('mTLS reads the certificate, key and CA files at start-up', () => {
    const config = loadTemporalConfig({
      TEMPORAL_ADDRESS: 'ml.a1b2c.tmprl.cloud:7233',
      TEMPORAL_TLS_CERT: pem('client.pem'),
      TEMPORAL_TLS_KEY: pem('client.key'),
      TEMPORAL_TLS_CA: pem('ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(config.auth).toBe('mtls');
    expect(config.tls?.clientCertPair?.crt.toString()).toContain('BEGIN CERTIFICATE');
    expect(config.tls?.serverNameOverride).toBe('temporal.internal');
    expect(config.tls?.serverRootCACertificate).toBeDefined();
  });

  test('TEMPORAL_TLS=true is TLS with the system roots; empty variables count as unset', () => {
    expect(loadTemporalConfig({ TEMPORAL_TLS: 'true', TEMPORAL_API_KEY: '', TEMPORAL_TLS_CERT: ' ' })).toMatchObject({
      auth: 'tls',
      tls: {},
    });
  });

  test('errors name the variable and the fix', () => {
    expect(problemsOf({ TEMPORAL_TLS_CERT: pem('only.pem') })).toEqual([
      expect.stringMatching(/mTLS needs both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY \(only TEMPORAL_TLS_CERT is set\)/),
    ]);
    expect(problemsOf({ TEMPORAL_ADDRESS: 'temporal' })).toEqual([
      expect.stringMatching(/^TEMPORAL_ADDRESS: must be host:port/),
    ]);
    expect(problemsOf({ TEMPORAL_TLS: 'maybe' })).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS: must be true or false/),
    ]);
    expect(problemsOf({ TEMPORAL_ADDRESS: 'ml.a1b2c.tmprl.cloud:7233' })).toEqual([
      expect.stringMatching(/is Temporal Cloud: set TEMPORAL_API_KEY, or TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/),
    ]);
    expect(problemsOf({ TEMPORAL_TLS_CERT: '/nope/client.pem', TEMPORAL_TLS_KEY: '/nope/client.key' })).toEqual([
      'TEMPORAL_TLS_CERT=/nope/client.pem cannot be read: ENOENT',
      'TEMPORAL_TLS_KEY=/nope/client.key cannot be read: ENOENT',
    ]);
    expect(problemsOf({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: pem('ca2.pem') })).toEqual([
      expect.stringMatching(/TEMPORAL_TLS=false contradicts/),
    ]);
    expect(
      problemsOf({ TEMPORAL_API_KEY: 'k-123456', TEMPORAL_TLS_CERT: pem('a.pem'), TEMPORAL_TLS_KEY: pem('a.key') }),
    ).toEqual([expect.stringMatching(/either TEMPORAL_API_KEY or the mTLS pair/)]);
    const notPem = path.join(dir, 'not.pem');
    fs.writeFileSync(notPem, 'hello');
    expect(problemsOf({ TEMPORAL_TLS_CA: notPem })).toEqual([
      expect.stringMatching(/TEMPORAL_TLS_CA=.*not\.pem is not a PEM file/),
    ]);
  });
});

describe('observability settings', () => {
  test('defaults: INFO JSON logs, no metrics endpoint, no tracing, bundling at start-up', () => {
    expect(loadObservabilityConfig({})).toEqual({
      logLevel: 'INFO',
      logFormat: 'json',
      tracing: 'none',
      serviceName: 'finetune-flow',
      metricsAddress: undefined,
      otlpEndpoint: undefined,
      workflowBundle: undefined,
    });
  });

  test('values are normalised and checked', () => {
    expect(
      loadObservabilityConfig({
        FTFLOW_LOG_LEVEL: 'debug',
        FTFLOW_TRACING: 'OTLP',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318',
        FTFLOW_METRICS_ADDRESS: '0.0.0.0:9464',
      }),
    ).toMatchObject({
      logLevel: 'DEBUG',
      tracing: 'otlp',
      otlpEndpoint: 'http://otel:4318',
      metricsAddress: '0.0.0.0:9464',
    });
    expect(() => loadObservabilityConfig({ FTFLOW_TRACING: 'jaeger', FTFLOW_METRICS_ADDRESS: '9464' })).toThrow(
      /FTFLOW_METRICS_ADDRESS: must be host:port[\s\S]*FTFLOW_TRACING: must be one of none, console, otlp/,
    );
  });
});

describe('log redaction', () => {
  const redact = createRedactor({ AZURE_CLIENT_SECRET: 'sp-secret-value-1234', TEMPORAL_API_KEY: 'tmprl-key-abcdef' });
  const jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.c2lnbmF0dXJl';

  test('removes configured secrets, tokens, storage keys and credential fields, keeps the rest', () => {
    const out = JSON.stringify(
      redact({
        message: `login with sp-secret-value-1234 failed; Authorization: Bearer ${jwt}`,
        url: 'https://acct.blob.core.windows.net/c/x.jsonl?sv=2024&sig=abcDEF123%3D&se=2030',
        conn: `DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;AccountKey=${AZURITE_ACCOUNT.key};`,
        bare: `key ${AZURITE_ACCOUNT.key} end`,
        headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-ms-request-id': 'req-1' },
        primaryKey: 'endpoint-key-xyz',
        nested: [{ apiKey: 'tmprl-key-abcdef', jobName: 'ftflow-job-1' }],
        keepAliveMinutes: 5,
      }),
    );
    for (const secret of [
      'sp-secret-value-1234',
      'tmprl-key-abcdef',
      jwt.slice(0, 20),
      'abcDEF123',
      AZURITE_ACCOUNT.key,
      'dXNlcjpwYXNz',
      'endpoint-key-xyz',
    ])
      expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
    for (const kept of ['req-1', 'ftflow-job-1', 'devstoreaccount1', '"keepAliveMinutes":5', 'sv=2024'])
      expect(out).toContain(kept);
  });

  test('errors keep name, message, code and cause, without what they carry besides', () => {
    const err = Object.assign(new Error('PUT answered 401 for Bearer abcdefghijklmnop'), {
      code: 'AuthenticationFailed',
      request: { headers: { authorization: 'Bearer x' } },
    });
    const line = formatJsonLine(
      { level: 'WARN', message: 'step failed', timestampNanos: 1_700_000_000_000_000_000n, meta: { error: err } },
      redact,
    );
    const parsed = JSON.parse(line) as { time: string; error: Record<string, unknown> };
    expect(parsed.time).toBe('2023-11-14T22:13:20.000Z');
    expect(parsed.error).toMatchObject({
      name: 'Error',
      code: 'AuthenticationFailed',
      message: `PUT answered 401 for Bearer ${REDACTED}`,
    });
    expect(parsed.error).not.toHaveProperty('request');
  });
});

describe('Azure call counter', () => {
  const recorded: { name: string; value: number; tags: MetricTags }[] = [];
  const meter: MetricMeter = {
    createCounter: (name) =>
      ({
        add: (value: number, tags: MetricTags = {}) => recorded.push({ name, value, tags }),
      }) as unknown as MetricCounter,
    createHistogram: () => ({ record: () => undefined }) as unknown as MetricHistogram,
    createGauge: () => {
      throw new Error('unused');
    },
    withTags: () => meter,
  };
  afterAll(() => {
    installServiceMetrics(noopMetricMeter);
  });

  test('counts each attempt by status, and 429s as throttled', async () => {
    installServiceMetrics(meter);
    const policy = azureCallMetricsPolicy('arm');
    const request = { method: 'GET' } as PipelineRequest;
    await policy.sendRequest(request, async () => ({ status: 429 }) as PipelineResponse);
    await policy.sendRequest(request, async () => ({ status: 200 }) as PipelineResponse);
    await expect(policy.sendRequest(request, async () => Promise.reject(new Error('ECONNRESET')))).rejects.toThrow(
      'ECONNRESET',
    );
    expect(recorded).toEqual([
      { name: METRIC.azureCalls, value: 1, tags: { client: 'arm', method: 'GET', status: '429' } },
      { name: METRIC.azureThrottled, value: 1, tags: { client: 'arm' } },
      { name: METRIC.azureCalls, value: 1, tags: { client: 'arm', method: 'GET', status: '200' } },
      { name: METRIC.azureCalls, value: 1, tags: { client: 'arm', method: 'GET', status: 'network-error' } },
    ]);
  });
});
