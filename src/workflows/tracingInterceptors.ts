// The workflow tracing interceptors for a worker with tracing off (bundled in their place, see
// src/observability/index.ts): OpenTelemetry's workflow interceptors are loaded only for a run whose history
// says it ran with them, so a new run costs none of their per-run module state (about 290 KiB per cached
// run, bench/README.md) and an older traced run replays exactly as it first ran.
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { getActivator } from '@temporalio/workflow/lib/global-attributes';
import { SdkFlags } from '@temporalio/workflow/lib/flags';

/**
 * Flags only the OpenTelemetry workflow interceptors set: one of them in the run's history means the run's
 * first tasks were completed with those interceptors. Read from the known flags, never through hasFlag(),
 * which would record the flag in a run that never had the interceptors.
 */
const TRACING_FLAGS = [
  SdkFlags.OpenTelemetryInterceporsAvoidsExtraYields.id,
  SdkFlags.OpenTelemetryInterceptorsInstrumentsAllMethods.id,
];

/**
 * True when the run's history carries a flag of the OpenTelemetry workflow interceptors. The activator's
 * flag set is not public API: should a later SDK not have it, every run loads them (the old behaviour).
 */
export function ranWithTracing(knownFlags: ReadonlySet<number> | undefined): boolean {
  return knownFlags === undefined || TRACING_FLAGS.some((id) => knownFlags.has(id));
}

function knownFlags(): ReadonlySet<number> | undefined {
  const flags = (getActivator() as unknown as { knownFlags?: unknown }).knownFlags;
  return flags instanceof Set ? (flags as ReadonlySet<number>) : undefined;
}

type Hook = (input: unknown, next: (input: unknown) => unknown) => unknown;
type Hooks = Record<string, Hook | undefined>;

/** Every hook either interceptor kind may define: each one is forwarded when the loaded interceptor has it. */
const INBOUND = ['execute', 'handleSignal', 'handleUpdate', 'validateUpdate', 'handleQuery'] as const;
const OUTBOUND = [
  'scheduleActivity',
  'scheduleLocalActivity',
  'startTimer',
  'signalWorkflow',
  'startChildWorkflowExecution',
  'startNexusOperation',
  'continueAsNew',
  'getLogAttributes',
  'getMetricTags',
] as const;
const INTERNALS = ['activate', 'concludeActivation', 'dispose'] as const;

/** Forwards each hook to the interceptor `pick` returns (decided at the first hook called), else to next. */
function forwarding(methods: readonly string[], pick: () => Hooks | undefined): Hooks {
  const hooks: Hooks = {};
  for (const method of methods) {
    hooks[method] = (input, next) => {
      const target = pick();
      const hook = target?.[method];
      return hook ? hook.call(target, input, next) : next(input);
    };
  }
  return hooks;
}

/** Loaded on demand, not imported at the top: each module's state is per run, so an import costs every run. */
function openTelemetryInterceptors(): WorkflowInterceptors {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors') as {
    interceptors: () => WorkflowInterceptors;
  };
  return otel.interceptors();
}

export function interceptors(): WorkflowInterceptors {
  let loaded: WorkflowInterceptors | null | undefined;
  // Decided at the first hook: by then the first activation's flags are known (they come before its jobs).
  const tracing = (): WorkflowInterceptors | null => {
    if (loaded === undefined) loaded = ranWithTracing(knownFlags()) ? openTelemetryInterceptors() : null;
    return loaded;
  };
  const first = (list: object[] | undefined): Hooks | undefined => list?.[0] as Hooks | undefined;
  return {
    inbound: [forwarding(INBOUND, () => first(tracing()?.inbound)) as WorkflowInboundCallsInterceptor],
    outbound: [forwarding(OUTBOUND, () => first(tracing()?.outbound)) as WorkflowOutboundCallsInterceptor],
    internals: [forwarding(INTERNALS, () => first(tracing()?.internals)) as WorkflowInternalsInterceptor],
  };
}
