import * as fs from 'node:fs';
import * as path from 'node:path';
import { groupHasLiveMembers, isRunning } from '../../../devstack/stack/child';
import { PROJECT_ROOT } from '../../../devstack/stack/paths';

/** A scratch data folder inside this run's test data folder (.data/test normally), emptied first. */
export function scratchDir(name: string): string {
  const base = process.env.FTFLOW_TEST_DATA_DIR ?? path.join(PROJECT_ROOT, '.data', 'test');
  const dir = path.join(base, 'scratch', `${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** True when neither the process nor anything in its process group runs any more. */
export function goneForGood(pid: number): boolean {
  return !groupHasLiveMembers(pid) && !isRunning(pid);
}

export const quiet = (): void => undefined;
