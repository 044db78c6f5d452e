// How the job watcher spends its reads, as plain arithmetic: which way a cycle reads the followed jobs (one
// Jobs_List walk or one Jobs_Get each) and how long it waits before the next, so that following jobs costs
// at most its read allowance (a share of this worker's ARM read budget) whether it follows 10 jobs or 1,000.

export type ReadMode = 'list' | 'get';

export interface CyclePlanInput {
  /** Jobs read in this cycle. */
  jobs: number;
  /** Pages the last list walk took (0 before the first walk). The list shows every tagged job of the
   *  workspace, not only this worker's, so its cost is what a walk took, not jobs / page size. */
  lastListPages: number;
  /** Jobs per list page assumed before the first walk. */
  listPageSize: number;
}

export interface CyclePlan {
  mode: ReadMode;
  /** Reads the cycle is expected to make. */
  reads: number;
}

/**
 * A list walk when it costs at most half the Gets (a job the walk does not show, one that has just been
 * created, still costs its own Get), else a Get per job.
 */
export function planCycle(input: CyclePlanInput): CyclePlan {
  const pages = Math.max(1, input.lastListPages || Math.ceil(input.jobs / Math.max(1, input.listPageSize)));
  if (input.jobs > 2 * pages) return { mode: 'list', reads: pages };
  return { mode: 'get', reads: input.jobs };
}

export interface PacingInput {
  /** Reads the watcher may spend per second (its share of the worker's read budget). */
  readsPerSecond: number;
  /** Shortest time between the starts of two polling cycles (FTFLOW_JOB_POLL_SECONDS, or the push
   *  mode's fallback FTFLOW_JOB_PUSH_POLL_SECONDS). */
  minIntervalMs: number;
}

/** Time between two polling cycles that read `reads` jobs' worth each: the floor, or longer if the
 *  allowance needs it (1,000 jobs in 10 list pages at 5 reads/s: 2 s; 10 jobs in 1 page: the floor). */
export function cycleInterval(reads: number, pacing: PacingInput): number {
  return Math.max(pacing.minIntervalMs, Math.ceil((reads / pacing.readsPerSecond) * 1000));
}

/**
 * The watcher's reads as a token bucket kept as one time (GCRA): each read moves `paidUntil` on by
 * 1 / rate seconds. Polling cycles wait until nothing is owed; wakes (pushed events) may go up to
 * `burstMs` into debt, which pushes the next polling cycle back. Over any long window the reads stay
 * at or under the rate.
 */
export class ReadAllowance {
  private paidUntil = 0;

  constructor(
    readonly readsPerSecond: number,
    private readonly burstMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(readsPerSecond > 0)) throw new RangeError(`readsPerSecond must be > 0, got ${readsPerSecond}`);
  }

  /** Records reads made. */
  spend(reads: number): void {
    this.paidUntil = Math.max(this.paidUntil, this.now()) + (reads / this.readsPerSecond) * 1000;
  }

  /** Milliseconds until `reads` more fit within the burst (0: now). */
  waitFor(reads: number): number {
    const owed = Math.max(this.paidUntil, this.now()) + (reads / this.readsPerSecond) * 1000 - this.now();
    return Math.max(0, Math.ceil(owed - this.burstMs));
  }

  /** Milliseconds until nothing is owed. */
  untilPaid(): number {
    return Math.max(0, Math.ceil(this.paidUntil - this.now()));
  }
}
