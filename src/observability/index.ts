// The worker process's telemetry, set up once before anything connects: JSON logs (SDK, Core and the
// service), the Prometheus endpoint with the SDK's and the service's metrics, and tracing. The interceptors
// and sinks every worker gets (the process's and the tests' in-process ones) come from here too.
import { Runtime, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from '@temporalio/common';
import { stepInterceptors } from './activityInterceptors';
import { loadObservabilityConfig, type ObservabilityConfig } from './config';
import { createJsonLogger, createTextLogger, routeProcessWarnings } from './logging';
import { COST_BUCKETS_USD, DURATION_BUCKETS_SECONDS, METRIC } from './metricNames';
import { installServiceMetrics } from './metrics';
import { createRedactor } from './redact';
import {
  OTEL_WORKFLOW_INTERCEPTORS_MODULE,
  currentTracing,
  installTracing,
  tracingWorkerParts,
  type Tracing,
} from './tracing';

/**
 * Workflow interceptor modules, bundled with the workflows at start-up or by `npm run bundle`. With tracing,
 * OpenTelemetry's; without, a stand-in that loads them only for runs that already ran with them
 * (workflows/tracingInterceptors.ts): every cached run holds its own instance of each module it loads.
 */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return [
    tracing ? OTEL_WORKFLOW_INTERCEPTORS_MODULE : require.resolve('../workflows/tracingInterceptors'),
    require.resolve('../workflows/interceptors'),
  ];
}

/** True when a workflow bundle's code holds OpenTelemetry's workflow interceptors for every run. */
export function bundleTracesEveryRun(code: string): boolean {
  return !code.includes('workflows/tracingInterceptors');
}

export interface WorkerTelemetry {
  config: ObservabilityConfig;
  logger: Logger;
  tracing: Tracing;
}

/**
 * Installs the Temporal runtime with the JSON logger (Core's logs forwarded to it) and, when
 * FTFLOW_METRICS_ADDRESS is set, the Prometheus endpoint; the service's metrics record through the same
 * meter. Must run before any NativeConnection or Worker exists.
 */
export function setUpWorkerTelemetry(env: NodeJS.ProcessEnv = process.env): WorkerTelemetry {
  const config = loadObservabilityConfig(env);
  const redact = createRedactor(env);
  const logger =
    config.logFormat === 'json'
      ? createJsonLogger({ level: config.logLevel, redact })
      : createTextLogger({ level: config.logLevel, redact });
  const durations = {
    ...Object.fromEntries([METRIC.stepDuration, METRIC.runDuration].map((name) => [name, DURATION_BUCKETS_SECONDS])),
    [METRIC.runCost]: COST_BUCKETS_USD,
  };
  Runtime.install({
    logger,
    telemetryOptions: {
      logging: { forward: {}, filter: { core: config.logLevel, other: 'WARN' } },
      ...(config.metricsAddress
        ? { metrics: { prometheus: { bindAddress: config.metricsAddress, histogramBucketOverrides: durations } } }
        : {}),
    },
  });
  installServiceMetrics(Runtime.instance().metricMeter);
  routeProcessWarnings(logger);
  const tracing = installTracing(config);
  return { config, logger, tracing };
}

/** Interceptors and sinks for Worker.create: step logs and metrics, tracing, and the workflow interceptors. */
export function workerTelemetryOptions(opts: {
  prebuiltBundle: boolean;
  tracing?: Tracing;
}): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const installed = opts.tracing ?? currentTracing();
  const tracing = tracingWorkerParts(installed);
  return {
    interceptors: {
      // Tracing outermost: the step's log lines carry its trace and span ids.
      activity: [tracing.activity, stepInterceptors()],
      // A prebuilt bundle already contains them (scripts/bundleWorkflows.ts).
      ...(opts.prebuiltBundle ? {} : { workflowModules: workflowInterceptorModules(installed.enabled) }),
    },
    sinks: tracing.sinks,
  };
}
