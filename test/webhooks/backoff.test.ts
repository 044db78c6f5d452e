// The retry schedule of a failing delivery: exponential (x3) from 5 s, capped at 2 h between attempts, none
// later than 24 h after the first, ±10% jitter.
import { DEFAULT_RETRY_SCHEDULE, attemptOffsets, nextAttemptAt, retryDelayMs } from '../../src/webhooks/backoff';
import { loadWebhookSettings } from '../../src/webhooks/settings';

const S = 1000;
const H = 3600 * S;

test('the default waits: 5 s, 15 s, 45 s, 2 min 15 s, 6 min 45 s, 20 min 15 s, 1 h 45 s, then 2 h', () => {
  const waits = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => retryDelayMs(DEFAULT_RETRY_SCHEDULE, n));
  expect(waits).toEqual([5 * S, 15 * S, 45 * S, 135 * S, 405 * S, 1215 * S, 3645 * S, 2 * H, 2 * H]);
});

test('19 attempts, the last 23 h 31 min after the first: none later than 24 h', () => {
  const offsets = attemptOffsets(DEFAULT_RETRY_SCHEDULE);
  expect(offsets).toHaveLength(19);
  expect(offsets.slice(0, 4)).toEqual([0, 5 * S, 20 * S, 65 * S]);
  expect(offsets[offsets.length - 1]).toBe(84_665 * S);
  expect(offsets[offsets.length - 1]).toBeLessThanOrEqual(24 * H);
  expect(nextAttemptAt(DEFAULT_RETRY_SCHEDULE, 0, 19, 84_665 * S)).toBeUndefined();
});

test('jitter spreads a wait by at most 10% either way', () => {
  expect(retryDelayMs(DEFAULT_RETRY_SCHEDULE, 1, 0)).toBe(4500);
  expect(retryDelayMs(DEFAULT_RETRY_SCHEDULE, 1, 0.999999)).toBe(5500);
  expect(retryDelayMs(DEFAULT_RETRY_SCHEDULE, 8, 0.5)).toBe(2 * H);
});

test('the operator shortens or stretches it (FTFLOW_WEBHOOK_FIRST_RETRY_SECONDS, _MAX_RETRY_SECONDS, _RETRY_HOURS)', () => {
  const { schedule } = loadWebhookSettings({
    FTFLOW_WEBHOOK_FIRST_RETRY_SECONDS: '1',
    FTFLOW_WEBHOOK_MAX_RETRY_SECONDS: '4',
    FTFLOW_WEBHOOK_RETRY_HOURS: '0.01',
  });
  expect(schedule).toEqual({ firstDelayMs: 1000, factor: 3, maxDelayMs: 4000, giveUpAfterMs: 36_000 });
  expect(attemptOffsets(schedule)).toEqual([
    0, 1000, 4000, 8000, 12_000, 16_000, 20_000, 24_000, 28_000, 32_000, 36_000,
  ]);
});
