// Structured logs: one JSON object per line on stdout, from the SDK, Core (forwarded) and the service,
// each passed through the redactor. Workflow and activity lines carry the run's ids and step (added by
// the interceptors in workflows/interceptors.ts and observability/activityInterceptors.ts).
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import type { LogLevel, Logger } from '@temporalio/common';
import { createRedactor, type Redactor } from './redact';

export interface JsonLoggerOptions {
  level: LogLevel;
  /** Where each line goes; default process.stdout. */
  write?: (line: string) => void;
  redact?: Redactor;
}

/** One log entry as a JSON line: time, level, message, then the attributes (redacted). */
export function formatJsonLine(entry: LogEntry, redact: Redactor): string {
  const meta = (entry.meta ? redact(entry.meta) : {}) as Record<string, unknown>;
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return JSON.stringify({ time, level: entry.level, message: redact(entry.message), ...meta });
}

export function createJsonLogger(opts: JsonLoggerOptions): Logger {
  const redact = opts.redact ?? createRedactor();
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  return new DefaultLogger(opts.level, (entry) => write(formatJsonLine(entry, redact) + '\n'));
}

/** The SDK's human-readable format (for a terminal), still redacted. */
export function createTextLogger(opts: JsonLoggerOptions): Logger {
  const redact = opts.redact ?? createRedactor();
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  return new DefaultLogger(opts.level, (entry) => {
    const meta = entry.meta ? ` ${JSON.stringify(redact(entry.meta))}` : '';
    write(
      `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${String(redact(entry.message))}${meta}\n`,
    );
  });
}

/** Node's own warnings (deprecations, listeners) go through the logger too, so stdout stays JSON. */
export function routeProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn(warning.message, { sdkComponent: 'node', warning: warning.name }));
}
