// Keeps a long activity visibly alive: heartbeats on a timer while the body runs, and hands the body
// the activity's cancellation signal so pollers and requests stop when the run is cancelled.
import { Context } from '@temporalio/activity';

/**
 * `startNow: false` sends the first heartbeat only after one interval: the SDK sends one heartbeat at once
 * and holds later ones back (up to 0.8 × the timeout), so a body that heartbeats something important soon
 * after starting (deleteEndpoint: "I found the endpoint") must not have that slot taken by an empty one.
 */
export async function withHeartbeat<T>(
  body: (signal: AbortSignal) => Promise<T>,
  details?: () => unknown,
  options: { startNow?: boolean } = {},
): Promise<T> {
  const ctx = Context.current();
  const timeoutMs = ctx.info.heartbeatTimeoutMs ?? 0;
  const everyMs = timeoutMs > 0 ? Math.max(200, Math.floor(timeoutMs / 3)) : 10_000;
  if (options.startNow ?? true) ctx.heartbeat(details?.());
  const timer = setInterval(() => ctx.heartbeat(details?.()), everyMs);
  try {
    return await body(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

/** Sleeps for `ms`, heartbeating meanwhile; rejects with CancelledFailure when the activity is cancelled. */
export async function pause(ms: number, details?: unknown): Promise<void> {
  const ctx = Context.current();
  const timeoutMs = ctx.info.heartbeatTimeoutMs ?? 0;
  const slice = timeoutMs > 0 ? Math.max(200, Math.floor(timeoutMs / 3)) : ms;
  let left = ms;
  while (left > 0) {
    const step = Math.min(slice, left);
    ctx.heartbeat(details);
    await ctx.sleep(step);
    left -= step;
  }
  ctx.heartbeat(details);
}

export function isoDuration(totalSeconds: number): string {
  if (!(totalSeconds >= 0))
    throw new RangeError(`duration must be a non-negative number of seconds, got ${totalSeconds}`);
  const s = Math.round(totalSeconds);
  if (s === 0) return 'PT0S';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${sec ? `${sec}S` : ''}`;
}
