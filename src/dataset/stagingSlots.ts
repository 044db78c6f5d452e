// How many datasets one worker stages at once (FTFLOW_MAX_CONCURRENT_STAGINGS). A staging holds its
// source's bytes and its blocks in memory until the next full garbage collection; hundreds of runs
// staging at once left hundreds of MiB the allocator never gave back (bench/README.md, section 7). A run
// over the limit waits, heartbeating, and then often finds its data staged by the run before it.

/** A first-come-first-served counting semaphore; a waiter whose signal aborts leaves the queue. */
export class StagingSlots {
  private free: number;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`staging slots must be 1 or more, got ${size}`);
    this.free = size;
  }

  /** Runs staging right now, and runs waiting for a slot. */
  get stats(): { staging: number; waiting: number } {
    return { staging: this.size - this.free, waiting: this.waiting.length };
  }

  /** Resolves with the slot's release (call it once) when a slot is free; rejects when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      if (this.free > 0) {
        this.free -= 1;
        resolve(this.releaser());
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant();
      else this.free += 1;
    };
  }
}
