// The CLI's exit statuses: one per thing a script would branch on. Documented in docs/usage.md (the
// exit-code table) and in `ftflow --help`.
import { CommanderError } from 'commander';
import { ControlError, isUnavailable } from '../control/errors';
import type { RunState } from '../control/records';
import { isBadInput, type Refusal } from '../control/refusal';

export const EXIT = {
  /** Done: the command did what was asked; a watched run succeeded. */
  ok: 0,
  /**
   * The run failed (including a failed quality gate, training or cost budget, or a timed-out run); or its plan
   * (start's check, start --dry-run) refused it for a reason outside the spec (credentials, quota).
   */
  runFailed: 1,
  /**
   * Bad input: an invalid run spec (each field is named), a bad flag, an unreadable spec file; or a spec the
   * run's checks refuse (start's plan, start --dry-run): an unknown model, a misspelt training input, bad data.
   */
  badInput: 2,
  /** The run was cancelled (or terminated). */
  cancelled: 3,
  /** Gave up waiting: --timeout of watch/run, or cancel's --wait ran out while cleanup still runs. */
  timeout: 4,
  /** No such run or schedule. */
  notFound: 5,
  /** Conflict: an idempotency key reused with another spec, a run that cannot be resumed, a schedule that exists. */
  conflict: 6,
  /** Temporal could not be reached. */
  unavailable: 7,
  /** Anything else (a bug or an unexpected server answer); the message says what. */
  internal: 8,
  /** A schedule trigger or backfill started nothing: every tick was skipped by the overlap policy, or none fell in the range. */
  nothingStarted: 9,
} as const;

export const EXIT_CODE_HELP = `exit codes:
  0  ok (a watched run succeeded)      4  gave up waiting (--timeout, cancel --wait)
  1  the run failed (or its plan was refused: credentials, quota)   5  no such run or schedule
  2  bad input (spec, flags, file; or the plan refused the spec)    6  conflict (key reused with another spec, not resumable, exists)
  3  the run was cancelled/terminated  7  Temporal unreachable      8  unexpected error
  9  schedule trigger/backfill started nothing (every tick skipped, or none in the range)`;

/** Input the CLI itself rejects (unreadable file, bad flag value). */
export class CliInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliInputError';
  }
}

export function exitCodeForRun(status: RunState): number {
  switch (status) {
    case 'succeeded':
      return EXIT.ok;
    case 'cancelled':
    case 'terminated':
      return EXIT.cancelled;
    case 'running':
      return EXIT.timeout;
    default:
      return EXIT.runFailed;
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliInputError) return EXIT.badInput;
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  if (err instanceof ControlError)
    return err.code === 'invalid' ? EXIT.badInput : err.code === 'not-found' ? EXIT.notFound : EXIT.conflict;
  if (isUnavailable(err)) return EXIT.unavailable;
  return EXIT.internal;
}

/** A plan's refusal: bad input when it names something in the spec or its data, else a failed run. */
export function exitCodeForRefusal(refusal: Refusal): number {
  return isBadInput(refusal) ? EXIT.badInput : EXIT.runFailed;
}
