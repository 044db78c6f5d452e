// Jest global teardown: stops the stack the global set-up started (and nothing else).
import * as fs from 'node:fs';
import { stopRecordedStack } from '../../devstack/stack';
import { TEST_DATA_ROOT, holder } from './testStack';

export default async function globalTeardown(): Promise<void> {
  const stack = holder.__FTFLOW_TEST_STACK__;
  if (stack) {
    await stack.stop();
    holder.__FTFLOW_TEST_STACK__ = undefined;
  } else if (holder.__FTFLOW_TEST_STACK_FILE__) {
    // Not handed over (another module registry): fall back to the record the set-up wrote.
    await stopRecordedStack(holder.__FTFLOW_TEST_STACK_FILE__, { graceMs: 5000 });
  }
  // A run that had to use a folder of its own (another run held .data/test) removes it; .data/test
  // itself stays for inspection (logs) until the next run.
  const dir = holder.__FTFLOW_TEST_DATA_DIR__;
  if (dir && dir !== TEST_DATA_ROOT) fs.rmSync(dir, { recursive: true, force: true });
}
