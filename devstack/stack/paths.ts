// Where things live: the project root (works from devstack/stack under ts-jest and from devstack/dist/stack),
// the local data folder and the tools folder written by scripts/setup.sh.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { workerProcessEnv } from 'finetune-flow/config';

export const TEMPORAL_CLI_VERSION = '1.9.1';

/**
 * The project root: the nearest folder above this file whose package.json is finetune-flow's
 * (devstack/stack under ts-jest, devstack/dist/stack when built); FTFLOW_PROJECT_ROOT overrides.
 */
function findProjectRoot(): string {
  const override = process.env.FTFLOW_PROJECT_ROOT;
  if (override) return path.resolve(override);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'finetune-flow') return dir;
    } catch {
      // keep looking
    }
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..');
  }
}

export const PROJECT_ROOT = findProjectRoot();

export const DEFAULT_DATA_DIR = path.join(PROJECT_ROOT, '.data');
export const DEFAULT_CERTS_DIR = path.join(PROJECT_ROOT, '.data', 'certs');
export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');
export const TEMPORAL_PATH_FILE = path.join(TOOLS_DIR, 'temporal-path');

export const EMULATOR_ENTRY = path.join(PROJECT_ROOT, 'devstack', 'dist', 'emulator', 'main.js');
export const WORKER_ENTRY = path.join(PROJECT_ROOT, 'dist', 'worker.js');

/** jemalloc, unpacked by scripts/setup.sh (step 7) from Debian's libjemalloc2. */
export const JEMALLOC_LIBRARY = path.join(TOOLS_DIR, 'lib', 'libjemalloc.so.2');

/**
 * The process environment of a worker this project starts (the stacks, the cluster, the benches): the
 * product's WORKER_PROCESS_ENV, with set-up's jemalloc preloaded as the image preloads its own. Without it
 * (FTFLOW_SKIP_JEMALLOC=1 at set-up) the worker runs on glibc's malloc.
 */
export function localWorkerProcessEnv(): Record<string, string> {
  return workerProcessEnv(fs.existsSync(JEMALLOC_LIBRARY) ? JEMALLOC_LIBRARY : undefined);
}

/** Azurite's Blob service entry point (the `azurite-blob` bin), run with this Node. */
export function azuriteBlobEntry(): string {
  const pkgFile = require.resolve('azurite/package.json', { paths: [PROJECT_ROOT] });
  const pkg: unknown = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  let rel = 'dist/src/blob/main.js';
  if (typeof pkg === 'object' && pkg !== null && 'bin' in pkg) {
    const bin = (pkg as { bin: unknown }).bin;
    if (typeof bin === 'object' && bin !== null && 'azurite-blob' in bin) {
      const v = (bin as Record<string, unknown>)['azurite-blob'];
      if (typeof v === 'string') rel = v;
    }
  }
  return path.resolve(path.dirname(pkgFile), rel);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The Temporal CLI to run: an explicit path, else $TEMPORAL_CLI, else the path recorded by
 * scripts/setup.sh in .tools/temporal-path, else the pinned install location.
 */
export function resolveTemporalCli(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TEMPORAL_CLI;
  if (explicit !== undefined || (fromEnv !== undefined && fromEnv !== '')) {
    const wanted = path.resolve(PROJECT_ROOT, explicit ?? fromEnv ?? '');
    if (!isExecutable(wanted)) {
      const source = explicit !== undefined ? 'the temporalCli option' : 'TEMPORAL_CLI';
      throw new Error(
        `Temporal CLI not found: ${source} names ${wanted}, which is not an executable file. ` +
          'Point it at a Temporal CLI binary, or unset TEMPORAL_CLI and run `make setup`.',
      );
    }
    return wanted;
  }
  const candidates: string[] = [];
  try {
    const recorded = fs.readFileSync(TEMPORAL_PATH_FILE, 'utf8').trim();
    if (recorded) candidates.push(recorded);
  } catch {
    // not recorded yet
  }
  candidates.push(path.join(TOOLS_DIR, 'temporal', TEMPORAL_CLI_VERSION, 'temporal'));
  for (const c of candidates) if (isExecutable(c)) return c;
  throw new Error(
    'Temporal CLI not found (looked at ' +
      candidates.join(', ') +
      '). ' +
      'Run `make setup` (installs the pinned CLI into .tools/), or set TEMPORAL_CLI=/path/to/temporal.',
  );
}
