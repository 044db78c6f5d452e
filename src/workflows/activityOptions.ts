// The fineTune run's activity option groups: one proxy per timeout class, so each step in fineTune.ts
// says which class it belongs to by the proxy it calls. The timeouts come from the run's options
// (FineTuneOptions), which is why the groups are made per run rather than once at the top of a file.
import {
  ActivityCancellationType,
  proxyActivities,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { FineTuneOptions } from './definitions';

export type Activities = ReturnType<typeof createActivities>;

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
    quick: proxyActivities<Activities>({ startToCloseTimeout: quickTimeout, retry: { ...retry, maximumAttempts: 20 } }),
    // Submitting the GPU job: on cancellation the workflow waits for the attempt to settle, so the
    // job cleanup that follows sees the job it may have created (an abandoned attempt could PUT later).
    submit: proxyActivities<Activities>({
      startToCloseTimeout: quickTimeout,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { ...retry, maximumAttempts: 20 },
    }),
    // Heartbeating steps that wait on Azure (cluster creation, upload, deployment, scoring).
    long: proxyActivities<Activities>({
      ...long,
      startToCloseTimeout: '6 hours',
      retry: { ...retry, maximumAttempts: 20 },
    }),
    // Following a training job: for days if need be; a worker crash resumes after the heartbeat timeout.
    // It only reads, so on cancellation the workflow need not wait for it: cancelling the GPU job at once
    // matters more than the follower noticing (its next heartbeat stops it).
    wait: proxyActivities<Activities>({
      ...long,
      cancellationType: ActivityCancellationType.TRY_CANCEL,
      startToCloseTimeout: '30 days',
      retry,
    }),
    // Cleanup: retried until it succeeds (no attempt limit), run in non-cancellable scopes.
    cleanup: proxyActivities<Activities>({ heartbeatTimeout, startToCloseTimeout: '1 hour', retry }),
    // Bookkeeping after the run ended (the measured cost): a few tries, then the run ends without it.
    bookkeeping: proxyActivities<Activities>({
      startToCloseTimeout: quickTimeout,
      retry: { ...retry, maximumInterval: '10 seconds', maximumAttempts: 5 },
    }),
  };
}

export type ActivityGroups = ReturnType<typeof activityGroups>;
