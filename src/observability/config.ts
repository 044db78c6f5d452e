// What the worker process reports and where: log level and format, the Prometheus endpoint, the span
// exporter, and the prebuilt workflow bundle. One schema with the Temporal connection's (config/temporal.ts).
import { z } from 'zod';
import { ConfigurationError, describeEnvIssues, temporalEnvSchema } from '../config/temporal';

export const OBSERVABILITY_ENV = {
  logLevel: 'FTFLOW_LOG_LEVEL',
  logFormat: 'FTFLOW_LOG_FORMAT',
  metricsAddress: 'FTFLOW_METRICS_ADDRESS',
  tracing: 'FTFLOW_TRACING',
  otlpEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  serviceName: 'OTEL_SERVICE_NAME',
  workflowBundle: 'FTFLOW_WORKFLOW_BUNDLE',
} as const;

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export const TRACING_EXPORTERS = ['none', 'console', 'otlp'] as const;
export type TracingExporter = (typeof TRACING_EXPORTERS)[number];

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const upper = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase() : v);
const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);

export const observabilityEnvSchema = z.object({
  [OBSERVABILITY_ENV.logLevel]: z
    .preprocess(
      (v) => upper(blankToUndefined(v)),
      z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('INFO'),
    )
    .describe('lowest level logged (SDK, Core and the service)'),
  [OBSERVABILITY_ENV.logFormat]: z
    .preprocess(
      (v) => lower(blankToUndefined(v)),
      z.enum(['json', 'text'], { error: 'must be json or text' }).default('json'),
    )
    .describe('json: one object per line on stdout; text: the SDK default, for a terminal'),
  [OBSERVABILITY_ENV.metricsAddress]: z
    .preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^[^:\s]+:\d{1,5}$/, 'must be host:port to bind, e.g. 0.0.0.0:9464')
        .optional(),
    )
    .describe('bind address of the Prometheus endpoint (GET /metrics); unset: no endpoint'),
  [OBSERVABILITY_ENV.tracing]: z
    .preprocess(
      (v) => lower(blankToUndefined(v)),
      z.enum(TRACING_EXPORTERS, { error: `must be one of ${TRACING_EXPORTERS.join(', ')}` }).default('none'),
    )
    .describe('span exporter: none, console (one JSON object per span on stdout) or otlp (OTLP/HTTP)'),
  [OBSERVABILITY_ENV.otlpEndpoint]: z
    .preprocess(blankToUndefined, z.url({ error: 'must be a URL, e.g. http://otel-collector:4318' }).optional())
    .describe(
      'OTLP/HTTP collector base URL for FTFLOW_TRACING=otlp (spans go to <url>/v1/traces); default http://localhost:4318',
    ),
  [OBSERVABILITY_ENV.serviceName]: z
    .preprocess(blankToUndefined, z.string().default('finetune-flow'))
    .describe('service.name of the spans'),
  [OBSERVABILITY_ENV.workflowBundle]: z
    .preprocess(blankToUndefined, z.string().optional())
    .describe(
      'prebuilt workflow bundle (npm run bundle: dist/workflow-bundle.js) the worker loads instead of bundling at start-up',
    ),
});

/** Everything the worker process reads besides Azure (azure/config.ts): one schema. */
export const workerProcessEnvSchema = temporalEnvSchema.extend(observabilityEnvSchema.shape);

export interface ObservabilityConfig {
  logLevel: LogLevelName;
  logFormat: 'json' | 'text';
  metricsAddress?: string;
  tracing: TracingExporter;
  otlpEndpoint?: string;
  serviceName: string;
  workflowBundle?: string;
}

export function loadObservabilityConfig(env: NodeJS.ProcessEnv = process.env): ObservabilityConfig {
  const parsed = observabilityEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigurationError(describeEnvIssues(parsed.error));
  const v = parsed.data;
  return {
    logLevel: v[OBSERVABILITY_ENV.logLevel],
    logFormat: v[OBSERVABILITY_ENV.logFormat],
    metricsAddress: v[OBSERVABILITY_ENV.metricsAddress],
    tracing: v[OBSERVABILITY_ENV.tracing],
    otlpEndpoint: v[OBSERVABILITY_ENV.otlpEndpoint],
    serviceName: v[OBSERVABILITY_ENV.serviceName],
    workflowBundle: v[OBSERVABILITY_ENV.workflowBundle],
  };
}
