// Set-up's jemalloc (scripts/setup.sh, step 7), which the tests of the worker's allocator need.
import * as fs from 'node:fs';
import { JEMALLOC_LIBRARY } from '../../devstack/stack/paths';

/** The library's path; fails, naming the fix, when set-up did not install it. */
export function setUpJemalloc(): string {
  if (!fs.existsSync(JEMALLOC_LIBRARY))
    throw new Error(`${JEMALLOC_LIBRARY} is missing: run make setup (step 7 installs Debian's libjemalloc2)`);
  return JEMALLOC_LIBRARY;
}
