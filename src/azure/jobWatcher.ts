// One poller per worker for every job its runs follow. A cycle reads all followed jobs at once, with one
// Jobs_List walk (the jobs finetune-flow tagged, page by page) when that costs fewer reads than a Jobs_Get
// per job, else with those Gets; how often it cycles follows from what it follows and what it may spend
// (jobWatchPlan.ts): at most its share of the worker's read budget, and no more often than the floor.
// A follower hears back only when its job's status changed. With push on (jobEventFeed.ts), Azure's
// RunStatusChanged events wake the jobs they name: those are read at once, and polling slows to a
// fallback cycle for missed events. The read, not the event, is the truth: a duplicate, late or
// reordered event costs at most one read.
import type { JobBase } from '@azure/arm-machinelearning';
import type { ArmClient } from './arm';
import { firstInLine } from './budget';
import { cycleInterval, planCycle, ReadAllowance, type ReadMode } from './jobWatchPlan';

/**
 * Sent with the watcher's reads, so that what following costs can be told apart from a run's other job reads
 * (the emulator counts them; Azure ignores a header it does not know).
 */
export const WATCHER_HEADER = { 'x-ftflow-reader': 'job-watcher' };
const tagged = { requestOptions: { customHeaders: WATCHER_HEADER } };

export interface JobWatcherOptions {
  resourceGroup: string;
  workspace: string;
  /** The tag key every followed job carries (the list is filtered by it). */
  tag: string;
  /** Shortest time between the starts of two polling cycles (FTFLOW_JOB_POLL_SECONDS). */
  minIntervalMs: number;
  /** Reads per second the watcher may spend: its share of the worker's ARM read budget. */
  readsPerSecond: number;
  /** The polling floor while pushed events arrive (FTFLOW_JOB_PUSH_POLL_SECONDS). */
  pushMinIntervalMs?: number;
  /** Jobs per list page assumed before the first walk (default 100). */
  listPageSize?: number;
  /** Wakes arriving within this long are read together (default 50 ms). */
  wakeDelayMs?: number;
}

interface Waiter {
  /** The status the follower already knows: it hears back when the job's status differs. */
  known: string | undefined;
  resolve(job: JobBase): void;
  reject(err: unknown): void;
}

export interface CycleRecord {
  /** A polling cycle (every followed job) or a wake (the jobs events named). */
  kind: 'poll' | 'wake';
  followed: number;
  jobs: number;
  mode: ReadMode;
  reads: number;
  at: number;
}

export class JobWatcher {
  private readonly waiting = new Map<string, Set<Waiter>>();
  /** The status each followed job had at its last read. */
  private readonly lastStatus = new Map<string, string>();
  /** Followed jobs an event named, to read before the next polling cycle. */
  private readonly due = new Set<string>();
  private dueSince = 0;
  private readonly allowance: ReadAllowance;
  private running = false;
  private nextPollAt = 0;
  private pushing = false;
  private kick: (() => void) | undefined;
  /** Pages the last list walk took: the cost to beat with Gets. */
  private listPages = 0;
  /** The last cycles, newest last (for tests and benchmarks). */
  readonly cycles: CycleRecord[] = [];
  private totals = { reads: 0, pollCycles: 0, wakeCycles: 0, wakes: 0 };

  constructor(
    private readonly arm: Pick<ArmClient, 'jobs'>,
    private readonly options: JobWatcherOptions,
  ) {
    // Wakes may run up to 10 s of the allowance ahead; the polling cycles after them wait it off.
    this.allowance = new ReadAllowance(options.readsPerSecond, 10_000);
  }

  /** Jobs followed right now. */
  get followed(): number {
    return this.waiting.size;
  }

  stats(): {
    followed: number;
    pushing: boolean;
    reads: number;
    pollCycles: number;
    wakeCycles: number;
    wakes: number;
  } {
    return { followed: this.waiting.size, pushing: this.pushing, ...this.totals };
  }

  /**
   * Resolves with the job as a later read finds it, once its status differs from `known` (any status when
   * `known` is not given); rejects with that read's error, or when `signal` aborts (the caller's wait is
   * dropped; the job is not read for it any more).
   */
  next(jobName: string, signal?: AbortSignal, known?: string): Promise<JobBase> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason ?? new Error('aborted'));
        return;
      }
      const set = this.waiting.get(jobName) ?? new Set<Waiter>();
      const waiter: Waiter = {
        known,
        resolve: (job) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(job);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = (): void => {
        this.drop(jobName, waiter);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
      this.waiting.set(jobName, set);
      if (known !== undefined && !this.lastStatus.has(jobName)) this.lastStatus.set(jobName, known);
      this.start();
    });
  }

  /**
   * An event says the job's status changed (to `status`, if it says). A followed job whose last read
   * showed another status is read at once, within the allowance; anything else is ignored. Returns
   * whether the job will be read.
   */
  wake(jobName: string, status?: string): boolean {
    this.totals.wakes += 1;
    if (!this.waiting.has(jobName)) return false;
    if (status !== undefined && this.lastStatus.get(jobName) === status) return false;
    if (this.due.size === 0) this.dueSince = Date.now();
    this.due.add(jobName);
    this.kick?.();
    return true;
  }

  /** Every followed job at the next chance (events may have been missed: the feed saw a gap). */
  pollSoon(): void {
    this.nextPollAt = 0;
    this.kick?.();
  }

  /** Push on: polling falls back to its slow floor; off (the feed lost the relay): back to the fast one. */
  setPushing(on: boolean): void {
    if (this.pushing === on) return;
    this.pushing = on;
    // Going back to polling: the next cycle comes at the fast floor, not a slow one planned earlier.
    if (!on) this.nextPollAt = Math.min(this.nextPollAt, Date.now() + this.options.minIntervalMs);
    this.kick?.();
  }

  private floorMs(): number {
    return this.pushing
      ? Math.max(this.options.minIntervalMs, this.options.pushMinIntervalMs ?? 60_000)
      : this.options.minIntervalMs;
  }

  private drop(jobName: string, waiter: Waiter): void {
    const set = this.waiting.get(jobName);
    set?.delete(waiter);
    if (set && set.size === 0) this.forget(jobName);
  }

  private forget(jobName: string): void {
    this.waiting.delete(jobName);
    this.lastStatus.delete(jobName);
    this.due.delete(jobName);
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      // Always yield once first: callers that ask in the same tick share the cycle.
      await this.sleep(0);
      while (this.waiting.size > 0) {
        const now = Date.now();
        const pollAt = Math.max(this.nextPollAt, now + this.allowance.untilPaid());
        const dueJobs = [...this.due].filter((name) => this.waiting.has(name));
        const wakeAt =
          dueJobs.length > 0
            ? Math.max(
                this.dueSince + (this.options.wakeDelayMs ?? 50),
                now + this.allowance.waitFor(this.cost(dueJobs.length)),
              )
            : Number.POSITIVE_INFINITY;
        const at = Math.min(pollAt, wakeAt);
        if (at > now) {
          await this.sleep(at - now);
          continue;
        }
        if (wakeAt < pollAt) {
          this.due.clear();
          await this.read(dueJobs, 'wake');
          continue;
        }
        this.due.clear();
        const reads = await this.read([...this.waiting.keys()], 'poll');
        this.nextPollAt =
          now +
          cycleInterval(reads, {
            readsPerSecond: this.options.readsPerSecond,
            minIntervalMs: this.floorMs(),
          });
      }
    } finally {
      this.running = false;
      // A caller may have arrived between the last check and the flag going down.
      if (this.waiting.size > 0) this.start();
    }
  }

  /** Sleeps `ms`, or less if a wake or a change of mode comes first. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.kick = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.kick = done;
    });
  }

  private cost(jobs: number): number {
    return planCycle({ jobs, lastListPages: this.listPages, listPageSize: this.options.listPageSize ?? 100 }).reads;
  }

  /** Reads the jobs (the cheaper way), settles the waiters whose job changed, and returns the reads made. */
  private async read(names: string[], kind: CycleRecord['kind']): Promise<number> {
    const plan = planCycle({
      jobs: names.length,
      lastListPages: this.listPages,
      listPageSize: this.options.listPageSize ?? 100,
    });
    let reads = 0;
    const outcomes = await firstInLine(async () => {
      let seen = new Map<string, JobBase>();
      if (plan.mode === 'list') {
        try {
          const listed = await this.list();
          seen = listed.jobs;
          reads += listed.pages;
          this.listPages = Math.max(1, listed.pages);
        } catch {
          // A failed walk costs this cycle its list; the Gets below still read every job.
          seen = new Map();
        }
      }
      return Promise.all(
        names.map(async (name): Promise<[string, { job: JobBase } | { error: unknown }]> => {
          const listed = seen.get(name);
          if (listed) return [name, { job: listed }];
          reads += 1;
          try {
            return [
              name,
              { job: await this.arm.jobs.get(this.options.resourceGroup, this.options.workspace, name, tagged) },
            ];
          } catch (error) {
            return [name, { error }];
          }
        }),
      );
    });
    this.allowance.spend(reads);
    this.totals.reads += reads;
    if (kind === 'poll') this.totals.pollCycles += 1;
    else this.totals.wakeCycles += 1;
    // Recorded before the waiters hear back, so a caller that looks right after sees this cycle.
    this.cycles.push({ kind, followed: this.waiting.size, jobs: names.length, mode: plan.mode, reads, at: Date.now() });
    if (this.cycles.length > 100) this.cycles.shift();
    for (const [name, outcome] of outcomes) {
      if ('job' in outcome) this.settleChanged(name, outcome.job);
      else this.settleAll(name, (w) => w.reject(outcome.error));
    }
    return reads;
  }

  private settleChanged(name: string, job: JobBase): void {
    const set = this.waiting.get(name);
    if (!set) return;
    const status = job.properties.status ?? 'Unknown';
    this.lastStatus.set(name, status);
    for (const w of [...set]) {
      if (w.known !== undefined && w.known === status) continue;
      set.delete(w);
      w.resolve(job);
    }
    if (set.size === 0) this.forget(name);
  }

  private settleAll(name: string, how: (w: Waiter) => void): void {
    const set = this.waiting.get(name);
    if (!set) return;
    this.forget(name);
    for (const w of set) how(w);
  }

  private async list(): Promise<{ jobs: Map<string, JobBase>; pages: number }> {
    const jobs = new Map<string, JobBase>();
    let pages = 0;
    const iterator = this.arm.jobs
      .list(this.options.resourceGroup, this.options.workspace, {
        tag: this.options.tag,
        listViewType: 'ActiveOnly',
        ...tagged,
      })
      .byPage();
    for await (const page of iterator) {
      pages += 1;
      for (const job of page) if (job.name) jobs.set(job.name, job);
    }
    return { jobs, pages };
  }
}
