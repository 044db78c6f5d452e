// Tracing with Temporal's OpenTelemetry interceptors: the client's span for starting a run is the parent
// of the workflow's spans, which are the parents of each activity attempt's span. The exporter is chosen
// by FTFLOW_TRACING: none (default: spans are not recorded), console (one JSON object per span on stdout,
// beside the JSON logs) or otlp (OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT).
import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';
import type { ObservabilityConfig, TracingExporter } from './config';
import { createRedactor, type Redactor } from './redact';

/** The OpenTelemetry workflow interceptors, bundled with the workflows (see workflowInterceptorModules). */
export const OTEL_WORKFLOW_INTERCEPTORS_MODULE =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export interface Tracing {
  /** False with FTFLOW_TRACING=none: no provider registered, spans are dropped. */
  readonly enabled: boolean;
  readonly exporter: TracingExporter | 'custom';
  readonly resource: Resource;
  readonly spanProcessor: SpanProcessor;
  /** Flushes and stops the exporter; call once the worker or client is done. */
  shutdown(): Promise<void>;
}

/** Writes each finished span as one JSON line, in the same stream and shape family as the logs. */
export class JsonLinesSpanExporter implements SpanExporter {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
    private readonly redact: Redactor = createRedactor(),
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const context = span.spanContext();
      const [seconds, nanos] = span.startTime;
      const [durSeconds, durNanos] = span.duration;
      const line = {
        time: new Date(seconds * 1000 + nanos / 1e6).toISOString(),
        level: 'INFO',
        message: 'span',
        sdkComponent: 'tracing',
        span: {
          name: span.name,
          traceId: context.traceId,
          spanId: context.spanId,
          parentSpanId: span.parentSpanId,
          kind: otel.SpanKind[span.kind],
          status: otel.SpanStatusCode[span.status.code],
          durationMs: durSeconds * 1000 + durNanos / 1e6,
          attributes: this.redact(span.attributes),
          service: span.resource.attributes['service.name'],
        },
      };
      this.write(JSON.stringify(line) + '\n');
    }
    done({ code: ExportResultCode.SUCCESS });
  }

  async shutdown(): Promise<void> {}
}

export interface TracingOptions {
  /** An exporter to use instead of the configured one (tests: an in-memory exporter). */
  exporter?: SpanExporter;
}

let installed: Tracing | undefined;

/**
 * Sets up tracing for this process from its configuration, once: a tracer provider with the W3C
 * propagator and an async-hooks context manager registered globally (the interceptors use the global
 * API). With FTFLOW_TRACING=none nothing is registered and spans cost nothing.
 */
export function installTracing(
  config: Pick<ObservabilityConfig, 'tracing' | 'otlpEndpoint' | 'serviceName'>,
  opts: TracingOptions = {},
): Tracing {
  if (installed) return installed;
  const resource = new Resource({ 'service.name': config.serviceName });
  if (config.tracing === 'none' && !opts.exporter) {
    installed = {
      enabled: false,
      exporter: 'none',
      resource,
      spanProcessor: new NoopSpanProcessor(),
      shutdown: async () => {},
    };
    return installed;
  }
  const spanProcessor =
    opts.exporter !== undefined
      ? new SimpleSpanProcessor(opts.exporter)
      : config.tracing === 'console'
        ? new SimpleSpanProcessor(new JsonLinesSpanExporter())
        : new BatchSpanProcessor(
            new OTLPTraceExporter({
              url: `${(config.otlpEndpoint ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`,
            }),
          );
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  installed = {
    enabled: true,
    exporter: opts.exporter !== undefined ? 'custom' : config.tracing,
    resource,
    spanProcessor,
    shutdown: async () => {
      await provider.shutdown();
    },
  };
  return installed;
}

/** The tracing this process installed, or a disabled one (nothing registered) if none was. */
export function currentTracing(): Tracing {
  return (
    installed ?? {
      enabled: false,
      exporter: 'none',
      resource: new Resource({ 'service.name': 'finetune-flow' }),
      spanProcessor: new NoopSpanProcessor(),
      shutdown: async () => {},
    }
  );
}

/** Client interceptors that start a span per client call and pass its context to the workflow. */
export function tracingClientInterceptors(tracing: Tracing | undefined = installed): WorkflowClientInterceptor[] {
  return tracing?.enabled ? [new OpenTelemetryWorkflowClientInterceptor()] : [];
}

/** Worker-side pieces: a span per activity attempt, and the sink the workflow spans are exported through. */
export function tracingWorkerParts(tracing: Tracing): {
  activity: ActivityInterceptorsFactory;
  sinks: NonNullable<WorkerOptions['sinks']>;
} {
  return {
    activity: (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
    // The workflow interceptors are always bundled, so the sink is always there; with tracing off it drops the spans.
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
