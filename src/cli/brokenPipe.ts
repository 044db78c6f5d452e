// What a command line does when its reader goes away (`ftflow list | head -1`): no EPIPE stack trace.
// Each entry point (dist/cli/main.js, devstack/dist/stack/main.js) installs it once and exits through it.

/**
 * Exit status once stdout's reader has gone. 0, as ripgrep and fd do and Node's EPIPE handlers
 * (epipebomb) do: the reader took what it wanted. coreutils, git and Go CLIs die by SIGPIPE instead
 * (141 in a shell), which makes `set -o pipefail` pipelines such as this repository's Makefile
 * recipes fail or pass depending on timing.
 */
export const BROKEN_PIPE_EXIT = 0;

function isBrokenPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null | undefined)?.code === 'EPIPE';
}

/**
 * stdout's reader gone: exit quietly with BROKEN_PIPE_EXIT (nothing more can be delivered).
 * stderr's reader gone: drop the remaining diagnostics and carry on, so a command that changes
 * things (stopping a stack, cancelling a run) finishes what it started. Other stream errors are
 * thrown as before.
 */
export function exitQuietlyOnBrokenPipe(): void {
  process.stdout.on('error', (err: unknown) => {
    if (!isBrokenPipe(err)) throw err;
    process.exit(BROKEN_PIPE_EXIT);
  });
  process.stderr.on('error', (err: unknown) => {
    if (!isBrokenPipe(err)) throw err;
  });
}

/**
 * Exits with the command's status, or BROKEN_PIPE_EXIT when a write to stdout already failed: the
 * failure is known at once, its 'error' event only comes round after the command has returned.
 */
export function exitWith(code: number): never {
  process.exit(isBrokenPipe(process.stdout.errored) ? BROKEN_PIPE_EXIT : code);
}
