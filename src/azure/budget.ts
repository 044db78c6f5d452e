// The worker's share of ARM's request budget. ARM refills a subscription's buckets at 25 reads/s and
// 10 writes or deletes/s (per principal); a worker following 1,000 jobs must stay inside that. Every ARM
// call from this process (SDK client and raw REST) first takes a token from a bucket for its class, so
// a surge of polls is spread out instead of being answered with 429s.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { TokenBucket } from 'limiter';

export interface ArmBudget {
  /** Sustained reads per second this worker may send (default 20: headroom under ARM's 25/s). */
  readsPerSecond: number;
  writesPerSecond: number;
  deletesPerSecond: number;
  /** Burst size of each bucket. */
  burst: number;
}

export const DEFAULT_ARM_BUDGET: ArmBudget = { readsPerSecond: 20, writesPerSecond: 8, deletesPerSecond: 8, burst: 50 };

/**
 * One process's share when `processes` workers share the budget (FTFLOW_ARM_BUDGET_SPLIT): each rate and
 * the burst divided evenly, so N workers together stay inside what one would spend. The burst keeps at
 * least one token; a rate is never rounded up, so the shares never add up to more than the whole.
 */
export function splitBudget(budget: ArmBudget, processes: number): ArmBudget {
  if (!Number.isInteger(processes) || processes < 1)
    throw new RangeError(`processes must be 1 or more, got ${processes}`);
  if (processes === 1) return budget;
  return {
    readsPerSecond: budget.readsPerSecond / processes,
    writesPerSecond: budget.writesPerSecond / processes,
    deletesPerSecond: budget.deletesPerSecond / processes,
    burst: Math.max(1, Math.floor(budget.burst / processes)),
  };
}

export type RequestClass = 'read' | 'write' | 'delete';

/** MLflow's searches are reads that travel as POST (runs/search, experiments/search, logged-models/search). */
const MLFLOW_SEARCH = /\/api\/2\.0\/mlflow\/[\w-]+\/search(\?|$)/;

export function requestClass(method: string, url?: string): RequestClass {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'read';
  if (m === 'POST' && url !== undefined && MLFLOW_SEARCH.test(url)) return 'read';
  if (m === 'DELETE') return 'delete';
  return 'write';
}

interface Waiter {
  grant: () => void;
}

/** Requests made inside `firstInLine` (the job watcher's: a few per second at most, by its own allowance). */
const inLine = new AsyncLocalStorage<boolean>();

/**
 * Runs `fn` with its ARM requests served before every other waiting request of their class. The job
 * watcher's reads go first so that a finished job is not noticed late because hundreds of deployment
 * reads queue in the worker's budget (bench/README.md: the 135 s maximum); the watcher keeps itself to
 * its share, so the others still get the rest.
 */
export function firstInLine<T>(fn: () => Promise<T>): Promise<T> {
  return inLine.run(true, fn);
}

/** What the budget needs of an abort signal (a DOM AbortSignal or the Azure pipeline's AbortSignalLike). */
interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export class ArmRequestBudget {
  private readonly buckets: Record<RequestClass, TokenBucket>;
  /** Requests waiting for a token, first come first served. A request whose caller gave up (its abort
   *  signal fired: a cancelled or timed-out activity attempt) leaves the queue without using a token;
   *  otherwise, at 1,000 runs, tokens went to requests nobody waited for any more (bench/scale). */
  private readonly queues: Record<RequestClass, Waiter[]> = { read: [], write: [], delete: [] };
  /** Requests made in `firstInLine`: served before `queues`. */
  private readonly firstQueues: Record<RequestClass, Waiter[]> = { read: [], write: [], delete: [] };
  private readonly timers: Partial<Record<RequestClass, NodeJS.Timeout>> = {};
  private waitedMs = 0;
  private granted = 0;
  /** Requests let through per class: the live training poller keeps its reads a share of the others'. */
  private readonly grantedByClass: Record<RequestClass, number> = { read: 0, write: 0, delete: 0 };

  constructor(readonly budget: ArmBudget = DEFAULT_ARM_BUDGET) {
    const bucket = (perSecond: number) =>
      new TokenBucket({ bucketSize: budget.burst, tokensPerInterval: perSecond, interval: 'second' });
    this.buckets = {
      read: bucket(budget.readsPerSecond),
      write: bucket(budget.writesPerSecond),
      delete: bucket(budget.deletesPerSecond),
    };
  }

  /** Resolves when a request of this class may be sent; rejects (using no token) if `signal` aborts first. */
  take(method: string, signal?: AbortSignalLike, url?: string): Promise<void> {
    const cls = requestClass(method, url);
    const started = Date.now();
    const granted = () => {
      this.waitedMs += Date.now() - started;
      this.granted++;
      this.grantedByClass[cls]++;
    };
    if (signal?.aborted) return Promise.reject(abortError());
    const first = inLine.getStore() === true;
    const queue = first ? this.firstQueues[cls] : this.queues[cls];
    const ahead = first ? 0 : this.queues[cls].length;
    if (this.firstQueues[cls].length + ahead === 0 && this.buckets[cls].tryRemoveTokens(1)) {
      granted();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        reject(abortError());
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          granted();
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.schedule(cls);
    });
  }

  /** Hands out the tokens that are there, in order, and sleeps until the next one when some wait. */
  private schedule(cls: RequestClass): void {
    if (this.timers[cls] !== undefined) return;
    const first = this.firstQueues[cls];
    const queue = this.queues[cls];
    const bucket = this.buckets[cls];
    while (first.length + queue.length > 0 && bucket.tryRemoveTokens(1)) (first.shift() ?? queue.shift())?.grant();
    if (first.length + queue.length === 0) return;
    this.timers[cls] = setTimeout(
      () => {
        delete this.timers[cls];
        this.schedule(cls);
      },
      Math.max(1, bucket.getWaitTime(1)),
    );
  }

  stats(): { granted: number; grantedByClass: Record<RequestClass, number>; waitedMs: number; waiting: number } {
    return {
      granted: this.granted,
      grantedByClass: { ...this.grantedByClass },
      waitedMs: this.waitedMs,
      waiting:
        this.queues.read.length +
        this.queues.write.length +
        this.queues.delete.length +
        this.firstQueues.read.length +
        this.firstQueues.write.length +
        this.firstQueues.delete.length,
    };
  }

  policy(): PipelinePolicy {
    return {
      name: 'finetuneFlowArmBudgetPolicy',
      sendRequest: async (request, next) => {
        await this.take(request.method, request.abortSignal, request.url);
        return next(request);
      },
    };
  }
}

function abortError(): Error {
  const err = new Error('The operation was aborted while it waited for the ARM request budget.');
  err.name = 'AbortError';
  return err;
}

/** One budget per process, shared by every client the worker builds. */
let shared: ArmRequestBudget | undefined;
export function sharedArmBudget(budget?: ArmBudget): ArmRequestBudget {
  if (!shared || (budget && JSON.stringify(budget) !== JSON.stringify(shared.budget)))
    shared = new ArmRequestBudget(budget);
  return shared;
}
