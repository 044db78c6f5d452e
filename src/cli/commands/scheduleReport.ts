// How `ftflow schedule trigger|backfill` and `ftflow janitor trigger` show what the schedule did with the
// ticks they asked for, and what they exit with: 0 when a tick started or waits in the buffer,
// EXIT_NOTHING_STARTED when every tick was skipped by the overlap policy (or none fell in a backfill's
// range), 4 (gave up waiting) when the schedule had not acted on them within --wait.
import type { ScheduleActionReport } from '../../control/scheduleActions';
import { startedSomething } from '../../control/scheduleActions';
import { CliInputError, EXIT } from '../exitCodes';

/** Nothing started: every tick was skipped (a tick was still running), or the range held none. */
export const EXIT_NOTHING_STARTED = EXIT.nothingStarted;

export const SCHEDULE_ACTION_EXIT_HELP = `exit status: 0 a tick started (or waits in the buffer for the running one); ${EXIT_NOTHING_STARTED} nothing started (every tick skipped by the overlap policy, or none in the range); 4 the schedule had not acted within --wait`;

export function waitSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 300)
    throw new CliInputError(`--wait must be a number of seconds from 0 to 300 (got "${value}")`);
  return n;
}

export function reportLines(r: ScheduleActionReport): string[] {
  return [
    `${r.scheduleId} ${r.action}: ${r.message}`,
    ...r.startedTicks.map((t) => `  started ${t.tickId}${t.runId ? `  (run ${t.runId})` : ''}`),
  ];
}

export function exitCodeForReport(r: ScheduleActionReport): number {
  if (startedSomething(r)) return EXIT.ok;
  return r.settled ? EXIT_NOTHING_STARTED : EXIT.timeout;
}
