// Activity interceptors: every activity log line names the run (workflowId, runId) and the step, without
// the task token (it completes the activity: a credential); each attempt of a step logs its start and end
// and records its duration by outcome.
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { serviceMetrics } from './metrics';

function outcomeOf(err: unknown): 'cancelled' | 'failed' {
  return err instanceof CancelledFailure ? 'cancelled' : 'failed';
}

export function stepInterceptors(): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const tags = { step: ctx.info.activityType, namespace: ctx.info.namespace, taskQueue: ctx.info.taskQueue };
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1000;
        ctx.log.info('step started');
        try {
          const result = await next(input);
          const durationSeconds = seconds();
          serviceMetrics().stepDuration.record(durationSeconds, { ...tags, outcome: 'completed' });
          ctx.log.info('step completed', { durationSeconds });
          return result;
        } catch (err) {
          const durationSeconds = seconds();
          const outcome = outcomeOf(err);
          serviceMetrics().stepDuration.record(durationSeconds, { ...tags, outcome });
          // The SDK logs the failure itself, with the error; this line adds the step's duration.
          ctx.log.warn(outcome === 'cancelled' ? 'step cancelled' : 'step failed', {
            durationSeconds,
            reason: err instanceof Error ? err.message : String(err),
          });
          throw err;
        }
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        const { taskToken: _taskToken, ...attributes } = next(input);
        return { ...attributes, runId: ctx.info.workflowExecution?.runId, step: ctx.info.activityType };
      },
    },
  });
}
