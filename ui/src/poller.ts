// A poll loop: runs `tick` every `intervalMs`, one tick at a time, until the tick says it is done (a run
// that ended) or the page stops it; waits longer after a 429 (the API's Retry-After) or a failure, and
// does not poll while the tab is hidden.
import { ApiError } from './api';

export interface Poller {
  /** Stops for good (the page went elsewhere). */
  stop(): void;
  /** Runs a tick now (after the current one), also after the tick said it was done (e.g. after a resume). */
  now(): void;
}

export function poll(
  tick: () => Promise<'continue' | 'done'>,
  intervalMs: number,
  onError: (err: unknown) => void,
): Poller {
  let stopped = false;
  let done = false;
  let running = false;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => void run(), ms);
  };
  const run = async (): Promise<void> => {
    if (stopped || done) return;
    if (document.hidden) return schedule(intervalMs);
    running = true;
    let next = intervalMs;
    try {
      if ((await tick()) === 'done') done = true;
    } catch (err) {
      onError(err);
      next =
        err instanceof ApiError && err.retryAfterSeconds !== undefined
          ? err.retryAfterSeconds * 1000
          : Math.min(intervalMs * 4, 15_000);
    } finally {
      running = false;
    }
    if (again) {
      // now() was called during the tick: one more, whatever the tick said.
      again = false;
      done = false;
      next = 0;
    }
    if (!done) schedule(next);
  };
  const onVisible = () => {
    if (!document.hidden && !running) schedule(0);
  };
  document.addEventListener('visibilitychange', onVisible);
  schedule(0);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    },
    now() {
      done = false;
      if (running) again = true;
      else schedule(0);
    },
  };
}
