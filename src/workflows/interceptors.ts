// Workflow interceptors (bundled with the workflows, so deterministic and free of I/O): every workflow log
// line carries the step the run is at; each run records its outcome and duration, the seconds its online
// endpoint existed and what it cost (measureCost's result), through the workflow metric meter (which emits
// nothing while replaying).
import {
  ApplicationFailure,
  ContinueAsNew,
  isCancellation,
  log,
  metricMeter,
  TemporalFailure,
  type ActivityInput,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { METRIC } from '../observability/metricNames';

/** Failure types the fineTune workflow ends with, as outcomes in the user's words. */
const OUTCOME_BY_FAILURE_TYPE: Record<string, string> = {
  QualityGateFailed: 'quality-gate-failed',
  TrainingBudgetExceeded: 'training-budget-exceeded',
  CostBudgetExceeded: 'cost-budget-exceeded',
};

/** The run's outcome, or undefined when the error only fails a workflow task (retried, the run goes on). */
export function outcomeOf(err: unknown): string | undefined {
  if (isCancellation(err)) return 'cancelled';
  if (err instanceof ContinueAsNew) return undefined;
  if (err instanceof ApplicationFailure && err.type && OUTCOME_BY_FAILURE_TYPE[err.type])
    return OUTCOME_BY_FAILURE_TYPE[err.type];
  if (err instanceof TemporalFailure) return 'failed';
  return undefined;
}

/** Activities that are the run's bookkeeping, not one of its steps: log lines keep naming the step the run is at. */
const BOOKKEEPING = new Set(['estimateCost', 'measureCost', 'describeJob']);

function instanceTypeOf(args: unknown[]): string {
  const input = args[0] as { deployment?: { instanceType?: unknown } } | undefined;
  return typeof input?.deployment?.instanceType === 'string' ? input.deployment.instanceType : 'unknown';
}

/** The model a fineTune run trains (its input's spec.model.name), for the cost metric's label. */
function modelOf(args: unknown[]): string {
  const input = args[0] as { spec?: { model?: { name?: unknown } } } | undefined;
  return typeof input?.spec?.model?.name === 'string' ? input.spec.model.name : 'unknown';
}

/** measureCost's result as the cost metric reads it. */
function costOf(result: unknown): { usd: number; vmSize: string; instanceType: string } | undefined {
  const r = result as {
    totalUsd?: unknown;
    training?: { jobs?: { vmSize?: unknown }[] };
    endpoint?: { deployments?: { instanceType?: unknown }[] };
  } | null;
  if (typeof r?.totalUsd !== 'number') return undefined;
  const vmSize = r.training?.jobs?.[0]?.vmSize;
  const instanceType = r.endpoint?.deployments?.[0]?.instanceType;
  return {
    usd: r.totalUsd,
    vmSize: typeof vmSize === 'string' ? vmSize : 'none',
    instanceType: typeof instanceType === 'string' ? instanceType : 'none',
  };
}

function existed(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { existed?: unknown }).existed === true;
}

export function interceptors(): WorkflowInterceptors {
  const state: { step: string; endpointSince?: number; instanceType: string; model: string } = {
    step: 'start',
    instanceType: 'unknown',
    model: 'unknown',
  };
  const runs = metricMeter.createCounter(METRIC.runs, 'runs', 'Runs that ended, by outcome');
  const runDuration = metricMeter.createHistogram(METRIC.runDuration, 'float', 's', 'Run wall time, by outcome');
  const endpointSeconds = metricMeter.createCounter(
    METRIC.endpointSeconds,
    's',
    'Seconds an online endpoint of a run existed',
  );
  const runCost = metricMeter.createHistogram(METRIC.runCost, 'float', 'USD', 'What a run cost at list prices');

  const inbound: WorkflowInboundCallsInterceptor = {
    async execute(
      input: WorkflowExecuteInput,
      next: Next<WorkflowInboundCallsInterceptor, 'execute'>,
    ): Promise<unknown> {
      const started = Date.now();
      state.model = modelOf(input.args);
      log.info('run started');
      const ended = (outcome: string) => {
        const seconds = (Date.now() - started) / 1000;
        runs.add(1, { outcome });
        runDuration.record(seconds, { outcome });
        log.info('run ended', { outcome, durationSeconds: seconds });
      };
      try {
        const result = await next(input);
        ended('succeeded');
        return result;
      } catch (err) {
        const outcome = outcomeOf(err);
        if (outcome !== undefined) ended(outcome);
        throw err;
      }
    },
  };

  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity(
      input: ActivityInput,
      next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>,
    ): Promise<unknown> {
      if (!BOOKKEEPING.has(input.activityType)) state.step = input.activityType;
      if (input.activityType === 'deployEndpoint' && state.endpointSince === undefined) {
        state.endpointSince = Date.now();
        state.instanceType = instanceTypeOf(input.args);
      }
      const result = next(input);
      if (input.activityType === 'measureCost') {
        return result.then((measured) => {
          const cost = costOf(measured);
          if (cost)
            runCost.record(cost.usd, { model: state.model, vm_size: cost.vmSize, instance_type: cost.instanceType });
          return measured;
        });
      }
      if (input.activityType !== 'deleteEndpoint') return result;
      return result.then((deleted) => {
        if (existed(deleted) && state.endpointSince !== undefined) {
          // Billed by the started second: an endpoint that existed at all counts at least one.
          endpointSeconds.add(Math.max(1, Math.ceil((Date.now() - state.endpointSince) / 1000)), {
            instance_type: state.instanceType,
          });
        }
        state.endpointSince = undefined;
        return deleted;
      });
    },
    getLogAttributes(input, next) {
      return next({ ...input, step: state.step });
    },
  };

  return { inbound: [inbound], outbound: [outbound] };
}
