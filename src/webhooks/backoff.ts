// When a failed delivery is tried again: exponential backoff from the first retry's delay, each wait `factor`
// times the last, capped, with ±10% jitter, and no attempt later than `giveUpAfterMs` after the first.
// The default: 5 s, 15 s, 45 s, 2 min 15 s, 6 min 45 s, 20 min, 1 h, then every 2 h: 19 attempts within 24 h.
// Pure and free of Node built-ins: the notification workflow computes its timers with it.
import type { RetrySchedule } from './events';

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  firstDelayMs: 5_000,
  factor: 3,
  maxDelayMs: 2 * 3600_000,
  giveUpAfterMs: 24 * 3600_000,
};

/** The jitter applied to a delay: ±10%. */
export const JITTER = 0.1;

/**
 * The wait after `failedAttempts` failed attempts (1 = after the first), before jitter; `random` in [0, 1)
 * spreads it by ±10% (0.5: none).
 */
export function retryDelayMs(schedule: RetrySchedule, failedAttempts: number, random = 0.5): number {
  const base = Math.min(
    schedule.maxDelayMs,
    schedule.firstDelayMs * schedule.factor ** Math.max(0, failedAttempts - 1),
  );
  return Math.round(base * (1 - JITTER + 2 * JITTER * random));
}

/**
 * When the next attempt starts (ms since the epoch), or undefined when it would start later than the schedule
 * allows after the first attempt: the delivery gives up.
 */
export function nextAttemptAt(
  schedule: RetrySchedule,
  firstAttemptAt: number,
  failedAttempts: number,
  now: number,
  random = 0.5,
): number | undefined {
  const at = now + retryDelayMs(schedule, failedAttempts, random);
  return at - firstAttemptAt <= schedule.giveUpAfterMs ? at : undefined;
}

/** The offsets (ms after the first attempt) of every attempt the schedule makes when each fails at once, no jitter. */
export function attemptOffsets(schedule: RetrySchedule): number[] {
  const offsets = [0];
  for (let failed = 1; ; failed++) {
    const next = nextAttemptAt(schedule, 0, failed, offsets[offsets.length - 1] ?? 0);
    if (next === undefined) return offsets;
    offsets.push(next);
  }
}
