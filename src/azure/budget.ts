// The worker's share of ARM's request budget. ARM refills a subscription's buckets at 25 reads/s and
// 10 writes or deletes/s (per principal); a worker following 1,000 jobs must stay inside that. Every ARM
// call from this process (SDK client and raw REST) first takes a token from a bucket for its class, so
// a surge of polls is spread out instead of being answered with 429s.
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

export type RequestClass = 'read' | 'write' | 'delete';

export function requestClass(method: string): RequestClass {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'read';
  if (m === 'DELETE') return 'delete';
  return 'write';
}

export class ArmRequestBudget {
  private readonly buckets: Record<RequestClass, TokenBucket>;
  private waitedMs = 0;
  private granted = 0;

  constructor(readonly budget: ArmBudget = DEFAULT_ARM_BUDGET) {
    const bucket = (perSecond: number) => new TokenBucket({ bucketSize: budget.burst, tokensPerInterval: perSecond, interval: 'second' });
    this.buckets = { read: bucket(budget.readsPerSecond), write: bucket(budget.writesPerSecond), delete: bucket(budget.deletesPerSecond) };
  }

  /** Resolves when a request of this class may be sent. */
  async take(method: string): Promise<void> {
    const started = Date.now();
    await this.buckets[requestClass(method)].removeTokens(1);
    this.waitedMs += Date.now() - started;
    this.granted++;
  }

  stats(): { granted: number; waitedMs: number } {
    return { granted: this.granted, waitedMs: this.waitedMs };
  }

  policy(): PipelinePolicy {
    return {
      name: 'finetuneFlowArmBudgetPolicy',
      sendRequest: async (request, next) => {
        await this.take(request.method);
        return next(request);
      },
    };
  }
}

/** One budget per process, shared by every client the worker builds. */
let shared: ArmRequestBudget | undefined;
export function sharedArmBudget(budget?: ArmBudget): ArmRequestBudget {
  if (!shared || (budget && JSON.stringify(budget) !== JSON.stringify(shared.budget))) shared = new ArmRequestBudget(budget);
  return shared;
}
