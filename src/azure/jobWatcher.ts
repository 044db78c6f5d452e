// One poller per worker for every job its runs follow. Each cycle it reads the state of all followed jobs
// at once: with one Jobs_List walk (the jobs finetune-flow tagged, page by page) when that costs fewer
// reads than one Jobs_Get per job, else with those Gets. At 1,000 followed jobs a cycle is about ten
// list pages instead of 1,000 reads, so the cycle keeps its interval under the ARM budget and a
// finished job is noticed within one interval. Jobs a list walk did not show (just created, or
// outside the list's view) are read one by one in the same cycle.
import type { JobBase } from '@azure/arm-machinelearning';
import type { ArmClient } from './arm';

export interface JobWatcherOptions {
  resourceGroup: string;
  workspace: string;
  /** Time between the start of two cycles. */
  intervalMs: number;
  /** The tag key every followed job carries (the list is filtered by it). */
  tag: string;
}

interface Waiter {
  resolve(job: JobBase): void;
  reject(err: unknown): void;
}

export interface CycleRecord {
  followed: number;
  mode: 'list' | 'get';
  reads: number;
}

export class JobWatcher {
  private readonly waiting = new Map<string, Set<Waiter>>();
  private running = false;
  private nextCycleAt = 0;
  /** Pages the last list walk took: the cost to beat with Gets. */
  private listPages = 1;
  /** The last cycles, newest last (for tests and benchmarks). */
  readonly cycles: CycleRecord[] = [];

  constructor(
    private readonly arm: Pick<ArmClient, 'jobs'>,
    private readonly options: JobWatcherOptions,
  ) {}

  /** Jobs followed right now. */
  get followed(): number {
    return this.waiting.size;
  }

  /**
   * Resolves with the job as the next cycle reads it; rejects with the cycle's read error, or when
   * `signal` aborts (the caller's wait is dropped; the job is not read for it any more).
   */
  next(jobName: string, signal?: AbortSignal): Promise<JobBase> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason ?? new Error('aborted'));
        return;
      }
      const set = this.waiting.get(jobName) ?? new Set<Waiter>();
      const waiter: Waiter = {
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
      this.start();
    });
  }

  private drop(jobName: string, waiter: Waiter): void {
    const set = this.waiting.get(jobName);
    set?.delete(waiter);
    if (set && set.size === 0) this.waiting.delete(jobName);
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.waiting.size > 0) {
        // Cycles start at least one interval apart, however soon a caller asks again.
        // (Always yield once: callers that ask in the same tick share the cycle.)
        const wait = Math.max(0, this.nextCycleAt - Date.now());
        await new Promise((r) => setTimeout(r, wait));
        if (this.waiting.size === 0) break;
        this.nextCycleAt = Date.now() + this.options.intervalMs;
        await this.cycle();
      }
    } finally {
      this.running = false;
      // A caller may have arrived between the last check and the flag going down.
      if (this.waiting.size > 0) this.start();
    }
  }

  /** Reads every followed job once and settles its waiters. */
  private async cycle(): Promise<void> {
    const names = [...this.waiting.keys()];
    const useList = names.length > 2 * this.listPages;
    let reads = 0;
    let seen = new Map<string, JobBase>();
    if (useList) {
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
    const outcomes = await Promise.all(
      names.map(async (name): Promise<[string, { job: JobBase } | { error: unknown }]> => {
        const listed = seen.get(name);
        if (listed) return [name, { job: listed }];
        reads += 1;
        try {
          return [name, { job: await this.arm.jobs.get(this.options.resourceGroup, this.options.workspace, name) }];
        } catch (error) {
          return [name, { error }];
        }
      }),
    );
    // Recorded before the waiters hear back, so a caller that looks right after sees this cycle.
    this.cycles.push({ followed: names.length, mode: useList ? 'list' : 'get', reads });
    if (this.cycles.length > 100) this.cycles.shift();
    for (const [name, outcome] of outcomes)
      this.settle(name, (w) => ('job' in outcome ? w.resolve(outcome.job) : w.reject(outcome.error)));
  }

  private settle(name: string, how: (w: Waiter) => void): void {
    const set = this.waiting.get(name);
    if (!set) return;
    this.waiting.delete(name);
    for (const w of set) how(w);
  }

  private async list(): Promise<{ jobs: Map<string, JobBase>; pages: number }> {
    const jobs = new Map<string, JobBase>();
    let pages = 0;
    const iterator = this.arm.jobs
      .list(this.options.resourceGroup, this.options.workspace, { tag: this.options.tag, listViewType: 'ActiveOnly' })
      .byPage();
    for await (const page of iterator) {
      pages += 1;
      for (const job of page) if (job.name) jobs.set(job.name, job);
    }
    return { jobs, pages };
  }
}
