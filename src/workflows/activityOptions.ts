// The fineTune run's activity option groups: one proxy per timeout class, so each step in fineTune.ts
// says which class it belongs to by the proxy it calls. The timeouts come from the run's options
// (FineTuneOptions), which is why the groups are made per run rather than once at the top of a file. Every
// call carries its one-line summary for the Temporal UI (uiText.ts, ACTIVITY_SUMMARIES).
import {
  ActivityCancellationType,
  proxyActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { FineTuneOptions } from './definitions';
import { ACTIVITY_SUMMARIES, summaryText } from './uiText';

export type Activities = ReturnType<typeof createActivities>;

type AnyActivity = ((...args: unknown[]) => Promise<unknown>) & {
  executeWithOptions(options: ActivityOptions, args: unknown[]): Promise<unknown>;
};

/**
 * proxyActivities, with each call's summary (what it does to which Azure object) in its options. The summary is
 * metadata of the ScheduleActivityTask command, not a command of its own: histories keep their shape.
 */
export function summarizedActivities(options: ActivityOptions): ActivityInterfaceFor<Activities> {
  const plain = proxyActivities<Activities>(options);
  return new Proxy(plain, {
    get(target, name) {
      const activity = Reflect.get(target, name) as AnyActivity;
      const summarize = ACTIVITY_SUMMARIES[name as keyof Activities] as ((...args: unknown[]) => string) | undefined;
      if (typeof name !== 'string' || summarize === undefined) return activity;
      const call = (...args: unknown[]) => {
        let summary: string;
        try {
          summary = summaryText(summarize(...args));
        } catch {
          summary = name; // an unexpected argument shape never fails the workflow task
        }
        return activity.executeWithOptions({ summary }, args);
      };
      return Object.assign(call, { executeWithOptions: activity.executeWithOptions });
    },
  });
}

export function activityGroups(options: FineTuneOptions | undefined) {
  const heartbeatTimeout = (options?.heartbeatTimeoutSeconds ?? 30) * 1000;
  const quickTimeout = (options?.quickStepTimeoutSeconds ?? 300) * 1000;
  const retry: RetryPolicy = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' };
  const long: ActivityOptions = {
    heartbeatTimeout,
    // Cleanup must not start while a deployment is still being created.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
  return {
    // Reads and idempotent writes that answer in seconds.
    quick: summarizedActivities({ startToCloseTimeout: quickTimeout, retry: { ...retry, maximumAttempts: 20 } }),
    // Submitting the GPU job: on cancellation the workflow waits for the attempt to settle, so the
    // job cleanup that follows sees the job it may have created (an abandoned attempt could PUT later).
    submit: summarizedActivities({
      startToCloseTimeout: quickTimeout,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { ...retry, maximumAttempts: 20 },
    }),
    // Heartbeating steps that wait on Azure (cluster creation, upload, deployment, scoring).
    long: summarizedActivities({
      ...long,
      startToCloseTimeout: '6 hours',
      retry: { ...retry, maximumAttempts: 20 },
    }),
    // Following a training job: for days if need be; a worker crash resumes after the heartbeat timeout.
    // It only reads, so on cancellation the workflow need not wait for it: cancelling the GPU job at once
    // matters more than the follower noticing (its next heartbeat stops it).
    wait: summarizedActivities({
      ...long,
      cancellationType: ActivityCancellationType.TRY_CANCEL,
      startToCloseTimeout: '30 days',
      retry,
    }),
    // Cleanup: retried until it succeeds (no attempt limit), run in non-cancellable scopes.
    cleanup: summarizedActivities({ heartbeatTimeout, startToCloseTimeout: '1 hour', retry }),
    // Bookkeeping after the run ended (the measured cost): a few tries, then the run ends without it.
    bookkeeping: summarizedActivities({
      startToCloseTimeout: quickTimeout,
      retry: { ...retry, maximumInterval: '10 seconds', maximumAttempts: 5 },
    }),
  };
}

export type ActivityGroups = ReturnType<typeof activityGroups>;
