// The compressed clock. Nothing runs on timers: every state is a pure function of timestamps
// stored with the resource and "now", so states survive a restart (via the state file) and tests
// can move time by injecting `now`.

export interface EmulatorClock {
  /** Duration of each job phase (NotStarted, Queued, Preparing, Running, Finalizing). */
  jobPhaseMs: number;
  /** Provisioning of computes, endpoints and deployments (Creating/Updating → Succeeded). */
  provisionMs: number;
  /** Deleting → gone, for endpoints, deployments and computes. */
  deleteMs: number;
  /** CancelRequested → Canceled, for jobs. */
  cancelMs: number;
}

export const DEFAULT_CLOCK: EmulatorClock = {
  jobPhaseMs: 1500,
  provisionMs: 1500,
  deleteMs: 1000,
  cancelMs: 1000,
};

/** The lifecycle of an ARM resource with long-running create, update and delete. */
export interface Lifecycle {
  createdAt: number;
  provisionStartedAt: number;
  provisionMs: number;
  provisionKind: 'Creating' | 'Updating';
  provisionOutcome: 'Succeeded' | 'Failed';
  deleteRequestedAt?: number | undefined;
  deleteMs: number;
}

export type LifecycleState = 'Creating' | 'Updating' | 'Succeeded' | 'Failed' | 'Deleting' | 'Gone';

export function lifecycleState(l: Lifecycle, now: number): LifecycleState {
  if (l.deleteRequestedAt !== undefined) {
    return now >= l.deleteRequestedAt + l.deleteMs ? 'Gone' : 'Deleting';
  }
  return now < l.provisionStartedAt + l.provisionMs ? l.provisionKind : l.provisionOutcome;
}

/** When the resource stopped existing (for billing), or undefined while it exists. */
export function goneAt(l: Lifecycle, now: number): number | undefined {
  if (l.deleteRequestedAt === undefined) return undefined;
  const at = l.deleteRequestedAt + l.deleteMs;
  return now >= at ? at : undefined;
}

export const JOB_PHASES = ['NotStarted', 'Queued', 'Preparing', 'Running', 'Finalizing'] as const;
export type JobStatus =
  | (typeof JOB_PHASES)[number]
  | 'Completed'
  | 'Failed'
  | 'CancelRequested'
  | 'Canceled';

export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['Completed', 'Failed', 'Canceled']);

export interface JobTimeline {
  createdAt: number;
  phaseMs: number;
  /** A job that fails does so at the end of Preparing (input validation happens there). */
  failed: boolean;
  cancelRequestedAt?: number | undefined;
  cancelMs: number;
}

/** When the job would end on its own (Completed, or Failed after Preparing). */
export function naturalEnd(t: JobTimeline): number {
  return t.createdAt + (t.failed ? 3 : JOB_PHASES.length) * t.phaseMs;
}

export function jobStatus(t: JobTimeline, now: number): JobStatus {
  if (t.cancelRequestedAt !== undefined && t.cancelRequestedAt < naturalEnd(t)) {
    return now < t.cancelRequestedAt + t.cancelMs ? 'CancelRequested' : 'Canceled';
  }
  if (now >= naturalEnd(t)) return t.failed ? 'Failed' : 'Completed';
  const index = Math.max(0, Math.floor((now - t.createdAt) / t.phaseMs));
  return JOB_PHASES[Math.min(index, JOB_PHASES.length - 1)] ?? 'NotStarted';
}

/** Start and end of the Running phase (training), used by the MLflow metric timeline. */
export function runningWindow(t: JobTimeline): { start: number; end: number } {
  return { start: t.createdAt + 3 * t.phaseMs, end: t.createdAt + 4 * t.phaseMs };
}

/** The moment the job stopped making progress: cancel time or its natural end. */
export function progressCutoff(t: JobTimeline, now: number): number {
  const stop = t.cancelRequestedAt !== undefined && t.cancelRequestedAt < naturalEnd(t) ? t.cancelRequestedAt : Infinity;
  return Math.min(now, stop);
}
