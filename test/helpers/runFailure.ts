import { RunFailure } from '../../src/azure/errors';

/** The RunFailure `fn` throws (the test fails if it throws something else, or nothing). */
export function runFailureOf(fn: () => unknown): RunFailure {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RunFailure);
    return err as RunFailure;
  }
  throw new Error('expected a RunFailure');
}
