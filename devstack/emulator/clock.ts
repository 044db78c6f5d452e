// Time in the emulator. One time source (EmulatorTime: real, or stepped by an admin call with real
// time frozen) and the compressed durations of each lifecycle (EmulatorClock, scaled by `speed`).
// Nothing runs on timers: every state is a pure function of timestamps stored with the resource and
// "now", so states survive a restart (via the state file) and tests move time at will.

export const JOB_PHASES = ['NotStarted', 'Queued', 'Preparing', 'Running', 'Finalizing'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

export interface EmulatorClock {
  /** Default duration of each job phase (NotStarted, Queued, Preparing, Running, Finalizing). */
  jobPhaseMs: number;
  /** Per-phase overrides of jobPhaseMs. */
  jobPhases: Partial<Record<JobPhase, number>>;
  /** Provisioning of computes, endpoints and deployments (Creating/Updating → Succeeded). */
  provisionMs: number;
  /** Deleting → gone, for endpoints, deployments and computes. */
  deleteMs: number;
  /** CancelRequested → Canceled, for jobs. */
  cancelMs: number;
  /** Every duration above is divided by this (2 = twice as fast). */
  speed: number;
}

export const DEFAULT_CLOCK: EmulatorClock = {
  jobPhaseMs: 1500,
  jobPhases: {},
  provisionMs: 1500,
  deleteMs: 1000,
  cancelMs: 1000,
  speed: 1,
};

/** The durations a resource created now gets (each record keeps its own, so changing the clock
 *  never moves an existing job or endpoint). */
export interface EffectiveDurations {
  jobPhases: number[];
  provisionMs: number;
  deleteMs: number;
  cancelMs: number;
}

export function effectiveDurations(clock: EmulatorClock): EffectiveDurations {
  const scale = (ms: number): number => Math.max(0, Math.round(ms / clock.speed));
  return {
    jobPhases: JOB_PHASES.map((p) => scale(clock.jobPhases[p] ?? clock.jobPhaseMs)),
    provisionMs: scale(clock.provisionMs),
    deleteMs: scale(clock.deleteMs),
    cancelMs: scale(clock.cancelMs),
  };
}

// ---- the time source ---------------------------------------------------------------------------

export type TimeMode = 'real' | 'stepped';

export interface TimeState {
  mode: TimeMode;
  /** Real mode: added to the base clock (moved by advance()). */
  offsetMs: number;
  /** Stepped mode: the frozen emulator time. */
  frozenAt?: number | undefined;
}

/** "Now" for every resource, token and timestamp the emulator hands out. In stepped mode real time
 *  is frozen and only advance() moves it (tests); in real mode it follows the base clock. */
export class EmulatorTime {
  private state: TimeState;

  constructor(
    private readonly base: () => number,
    initial: Partial<TimeState> = {},
    private readonly onChange: (s: TimeState) => void = () => undefined,
  ) {
    const mode = initial.mode ?? 'real';
    this.state = {
      mode,
      offsetMs: initial.offsetMs ?? 0,
      frozenAt: mode === 'stepped' ? (initial.frozenAt ?? base()) : undefined,
    };
  }

  now(): number {
    return this.state.mode === 'stepped' ? (this.state.frozenAt ?? this.base()) : this.base() + this.state.offsetMs;
  }

  get mode(): TimeMode {
    return this.state.mode;
  }

  snapshot(): TimeState {
    return { ...this.state };
  }

  setMode(mode: TimeMode): void {
    if (mode === this.state.mode) return;
    const now = this.now();
    this.state =
      mode === 'stepped'
        ? { mode, offsetMs: this.state.offsetMs, frozenAt: now }
        : { mode, offsetMs: now - this.base(), frozenAt: undefined };
    this.onChange(this.snapshot());
  }

  /** Moves emulator time forward (never back). */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new Error('advance: ms must be a number >= 0');
    if (this.state.mode === 'stepped') this.state.frozenAt = this.now() + ms;
    else this.state.offsetMs += ms;
    this.onChange(this.snapshot());
    return this.now();
  }
}

// ---- resources with long-running create, update and delete -------------------------------------

export interface Lifecycle {
  createdAt: number;
  provisionStartedAt: number;
  provisionMs: number;
  provisionKind: 'Creating' | 'Updating';
  provisionOutcome: 'Succeeded' | 'Failed';
  provisionError?: { code: string; message: string } | undefined;
  deleteRequestedAt?: number | undefined;
  deleteMs: number;
}

/** The lifecycle of a resource created now: Creating for provisionMs, then Succeeded (or Failed with `failure`). */
export function newLifecycle(
  now: number,
  durations: { provisionMs: number; deleteMs: number },
  failure?: { code: string; message: string },
): Lifecycle {
  return {
    createdAt: now,
    provisionStartedAt: now,
    provisionMs: durations.provisionMs,
    provisionKind: 'Creating',
    provisionOutcome: failure ? 'Failed' : 'Succeeded',
    ...(failure ? { provisionError: failure } : {}),
    deleteMs: durations.deleteMs,
  };
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

// ---- jobs ---------------------------------------------------------------------------------------

export type JobStatus = JobPhase | 'Completed' | 'Failed' | 'CancelRequested' | 'Canceled';

export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['Completed', 'Failed', 'Canceled']);

export interface JobTimeline {
  createdAt: number;
  /** Duration of each of the five phases. */
  phases: readonly number[];
  /** Where a failing job fails: `fraction` of the way through `phase` (1 = at its end). */
  failAt?: { phase: JobPhase; fraction: number } | undefined;
  cancelRequestedAt?: number | undefined;
  cancelMs: number;
}

/** When a phase starts. */
export function phaseStart(t: JobTimeline, phase: JobPhase): number {
  const index = JOB_PHASES.indexOf(phase);
  return t.createdAt + t.phases.slice(0, index).reduce((a, b) => a + b, 0);
}

/** When the job would end on its own (Completed, or Failed at its failure point). */
export function naturalEnd(t: JobTimeline): number {
  if (t.failAt) {
    const index = JOB_PHASES.indexOf(t.failAt.phase);
    return phaseStart(t, t.failAt.phase) + Math.round((t.phases[index] ?? 0) * t.failAt.fraction);
  }
  return t.createdAt + t.phases.reduce((a, b) => a + b, 0);
}

function cancelled(t: JobTimeline): boolean {
  return t.cancelRequestedAt !== undefined && t.cancelRequestedAt < naturalEnd(t);
}

export function jobStatus(t: JobTimeline, now: number): JobStatus {
  if (cancelled(t) && t.cancelRequestedAt !== undefined && now >= t.cancelRequestedAt) {
    return now < t.cancelRequestedAt + t.cancelMs ? 'CancelRequested' : 'Canceled';
  }
  if (now >= naturalEnd(t)) return t.failAt ? 'Failed' : 'Completed';
  let at = t.createdAt;
  for (const [i, phase] of JOB_PHASES.entries()) {
    at += t.phases[i] ?? 0;
    if (now < at) return phase;
  }
  return 'Finalizing';
}

/** One status a job had, and the emulator time it began. */
export interface JobStatusChange {
  status: JobStatus;
  at: number;
}

/**
 * Every status the job has had up to `now`, in order, each with the emulator time it began: the
 * statuses jobStatus reports over time, read off the same stored timeline (so a reader that polls
 * cannot miss a short phase, and a restart loses nothing). A phase of no length never was the
 * job's status and is left out; the phase a cancel came in is kept even when the cancel came at
 * the instant it began (it was the status until then). The last entry is the current status.
 */
export function jobStatusHistory(t: JobTimeline, now: number): JobStatusChange[] {
  const cancel = cancelled(t) ? t.cancelRequestedAt : undefined;
  const changes: JobStatusChange[] = [];
  let at = t.createdAt;
  for (const [i, phase] of JOB_PHASES.entries()) {
    const end = at + (t.phases[i] ?? 0);
    const seen = cancel !== undefined ? at <= cancel : at < naturalEnd(t);
    if (at < end && seen) changes.push({ status: phase, at });
    at = end;
  }
  if (cancel !== undefined) {
    if (t.cancelMs > 0) changes.push({ status: 'CancelRequested', at: cancel });
    changes.push({ status: 'Canceled', at: cancel + t.cancelMs });
  } else {
    changes.push({ status: t.failAt ? 'Failed' : 'Completed', at: naturalEnd(t) });
  }
  return changes.filter((c) => c.at <= now);
}

/** When the job reached its terminal state (undefined while it runs). */
export function jobEndedAt(t: JobTimeline, now: number): number | undefined {
  const end = cancelled(t) && t.cancelRequestedAt !== undefined ? t.cancelRequestedAt + t.cancelMs : naturalEnd(t);
  return now >= end ? end : undefined;
}

/** Start and end of the Running phase (training), used by the MLflow metric timeline. */
export function runningWindow(t: JobTimeline): { start: number; end: number } {
  const start = phaseStart(t, 'Running');
  return { start, end: start + (t.phases[3] ?? 0) };
}

/** The moment the job stopped making progress: cancel time, failure time, or now. */
export function progressCutoff(t: JobTimeline, now: number): number {
  const stop =
    cancelled(t) && t.cancelRequestedAt !== undefined ? t.cancelRequestedAt : t.failAt ? naturalEnd(t) : Infinity;
  return Math.min(now, stop);
}
