// Small helpers shared by the dataset readers.

/** The message of anything thrown (also for errors from another realm, where instanceof fails). */
export function errorMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') {
    const cause = 'cause' in err ? err.cause : undefined;
    // fetch reports network failures as "fetch failed" with the real reason in `cause`
    if (err.message === 'fetch failed' && typeof cause === 'object' && cause !== null && 'message' in cause && typeof cause.message === 'string') {
      return cause.message;
    }
    return err.message;
  }
  return String(err);
}
