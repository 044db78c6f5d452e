// Shared between the jest global set-up and teardown: where the test stack lives and how it is found.
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';
import type { RunningStack } from '../../devstack/stack';

export const TEST_DATA_ROOT = path.join(PROJECT_ROOT, '.data', 'test');

/** The emulator's compressed clock for tests (flags implemented by devstack/emulator/main.ts). */
export const TEST_EMULATOR_ARGS = [
  '--job-phase-ms',
  '300',
  '--provision-ms',
  '300',
  '--delete-ms',
  '200',
  '--cancel-ms',
  '200',
];

/** globalSetup and globalTeardown run in the same jest process; the stack is handed over here. */
interface Holder {
  __FTFLOW_TEST_STACK__?: RunningStack;
  __FTFLOW_TEST_STACK_FILE__?: string;
  __FTFLOW_TEST_DATA_DIR__?: string;
}
export const holder = globalThis as Holder;
