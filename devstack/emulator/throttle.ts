// ARM request throttling as documented since 2024 (MicrosoftDocs/azure-docs
// articles/azure-resource-manager/management/request-limits-and-throttling.md, ms.date 2025-05-28):
// a token bucket per subscription, principal and operation type (reads, writes, deletes), refilled
// continuously.
// An empty bucket answers 429 SubscriptionRequestsThrottled with Retry-After (seconds until a token
// is back); every ARM response carries x-ms-ratelimit-remaining-subscription-<type>. Buckets run on
// real time (not the emulator's stepped clock), so a client that waits Retry-After gets through.
import { performance } from 'node:perf_hooks';

export type OperationType = 'reads' | 'writes' | 'deletes';

export interface BucketLimit {
  /** Bucket size (burst). */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

export interface ThrottleConfig {
  enabled: boolean;
  reads: BucketLimit;
  writes: BucketLimit;
  deletes: BucketLimit;
}

/** ARM's subscription limits per principal (reads 250 +25/s, writes 200 +10/s, deletes 200 +10/s). */
export const DEFAULT_THROTTLE: ThrottleConfig = {
  enabled: true,
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
};

export function operationType(method: string): OperationType {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' ? 'reads' : m === 'DELETE' ? 'deletes' : 'writes';
}

export interface TakeResult {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: seconds until a token is available (>= 1). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function checkBucketLimit(name: string, limit: BucketLimit): void {
  if (!Number.isFinite(limit.capacity) || limit.capacity < 1)
    throw new Error(`emulator: throttle.${name}.capacity must be >= 1`);
  if (!Number.isFinite(limit.refillPerSecond) || limit.refillPerSecond <= 0)
    throw new Error(`emulator: throttle.${name}.refillPerSecond must be > 0`);
}

export class Throttle {
  private readonly buckets = new Map<string, Bucket>();
  private throttled = 0;
  /** Requests let through per operation type since the last reset (benches turn these into rates). */
  private granted: Record<OperationType, number> = { reads: 0, writes: 0, deletes: 0 };

  constructor(
    private config: ThrottleConfig,
    private readonly clock: () => number = () => performance.now(),
  ) {
    for (const t of ['reads', 'writes', 'deletes'] as const) checkBucketLimit(t, config[t]);
  }

  get settings(): ThrottleConfig {
    return structuredClone(this.config);
  }

  /** New limits apply to every bucket from now on; buckets start full. */
  configure(next: ThrottleConfig): void {
    for (const t of ['reads', 'writes', 'deletes'] as const) checkBucketLimit(t, next[t]);
    this.config = structuredClone(next);
    this.buckets.clear();
  }

  reset(): void {
    this.buckets.clear();
    this.throttled = 0;
    this.granted = { reads: 0, writes: 0, deletes: 0 };
  }

  /** One request of `type` by `scope` (subscription + principal). */
  take(scope: string, type: OperationType): TakeResult {
    const limit = this.config[type];
    if (!this.config.enabled) {
      this.granted[type] += 1;
      return { allowed: true, remaining: limit.capacity, retryAfterSeconds: 0 };
    }
    const bucket = this.refill(`${scope}|${type}`, limit);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.granted[type] += 1;
      return { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
    }
    this.throttled += 1;
    return {
      allowed: false,
      remaining: 0,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / limit.refillPerSecond)),
    };
  }

  stats(): {
    throttled: number;
    granted: Record<OperationType, number>;
    buckets: { scope: string; type: string; tokens: number }[];
  } {
    const buckets = [...this.buckets.entries()].map(([key, b]) => {
      const cut = key.lastIndexOf('|');
      const scope = key.slice(0, cut);
      const type = key.slice(cut + 1);
      const limit = this.config[type as OperationType];
      return {
        scope,
        type,
        tokens: Math.floor(Math.min(limit.capacity, b.tokens + ((this.clock() - b.at) / 1000) * limit.refillPerSecond)),
      };
    });
    return { throttled: this.throttled, granted: { ...this.granted }, buckets };
  }

  private refill(key: string, limit: BucketLimit): Bucket {
    const now = this.clock();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: limit.capacity, at: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(limit.capacity, bucket.tokens + ((now - bucket.at) / 1000) * limit.refillPerSecond);
    bucket.at = now;
    return bucket;
  }
}
