// Azure ML job statuses the service acts on, in one place.

/** Statuses that end a follower's wait (the run succeeds on Completed and fails on the others). */
export const TERMINAL_JOB_STATUSES: ReadonlySet<string> = new Set([
  'Completed',
  'Failed',
  'Canceled',
  'NotResponding',
  'Paused',
]);

/**
 * Statuses a job has only once it has ended, and never leaves: an authenticated job event that reports one
 * can settle a follower without a read (NotResponding and Paused can change again, so they are read).
 */
export const FINAL_JOB_STATUSES: ReadonlySet<string> = new Set(['Completed', 'Failed', 'Canceled']);
