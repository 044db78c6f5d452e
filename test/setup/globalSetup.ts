// Jest global set-up: one local stack for the whole run (Temporal dev server headless and in memory,
// Azurite in memory, the Azure ML emulator on a compressed clock), each on a free port. Tests read
// the connection details from process.env (stackEnv + FTFLOW_TEST_*) or from .data/test/devstack/stack.json.
// FTFLOW_TEST_STACK=off skips it (unit tests only).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  TEST_COMPONENTS,
  readStackRecord,
  stackEnv,
  startStack,
  stopRecordedStack,
  type ComponentName,
} from '../../devstack/stack';
import { commandLineOf, isRunning } from '../../devstack/stack/child';
import { EMULATOR_ENTRY, PROJECT_ROOT } from '../../devstack/stack/paths';
import { TEST_DATA_ROOT, TEST_EMULATOR_ARGS, holder } from './testStack';

function fail(message: string): never {
  throw new Error(`\n\n  jest global set-up: ${message}\n`);
}

/** .data/test, unless another live test run holds it (then a folder of our own). */
async function chooseDataDir(): Promise<string> {
  const file = path.join(TEST_DATA_ROOT, 'stack.json');
  const rec = readStackRecord(file);
  if (rec) {
    const sup = rec.supervisorPid;
    if (sup !== null && sup !== process.pid && isRunning(sup) && (commandLineOf(sup)?.includes('node') ?? true)) {
      const dir = path.join(PROJECT_ROOT, '.data', `test-${process.pid}`);
      process.stderr.write(`[stack] another test run (pid ${sup}) uses ${TEST_DATA_ROOT}; this run uses ${dir}\n`);
      return dir;
    }
    // Left behind by a run that was killed: stop whatever of it still runs.
    await stopRecordedStack(file, { graceMs: 5000 });
  }
  // Nobody uses it: start from an empty folder, and drop the folders of finished concurrent runs.
  fs.rmSync(TEST_DATA_ROOT, { recursive: true, force: true });
  for (const name of fs.existsSync(path.dirname(TEST_DATA_ROOT)) ? fs.readdirSync(path.dirname(TEST_DATA_ROOT)) : []) {
    const m = /^test-(\d+)$/.exec(name);
    if (m && !isRunning(Number(m[1])))
      fs.rmSync(path.join(path.dirname(TEST_DATA_ROOT), name), { recursive: true, force: true });
  }
  return TEST_DATA_ROOT;
}

export default async function globalSetup(): Promise<void> {
  if ((process.env.FTFLOW_TEST_STACK ?? '').toLowerCase() === 'off') {
    process.stderr.write('[stack] FTFLOW_TEST_STACK=off: no local stack for this run\n');
    return;
  }
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (!ca) {
    fail(
      'NODE_EXTRA_CA_CERTS is not set, so nothing in this run would trust the Azure ML emulator.\n' +
        '  Run the tests with `make test` (it runs the set-up, builds, and sets NODE_EXTRA_CA_CERTS=$PWD/.data/certs/ca.pem),\n' +
        '  or: make setup build && NODE_EXTRA_CA_CERTS=$PWD/.data/certs/ca.pem npx jest --runInBand',
    );
  }
  if (!fs.existsSync(ca))
    fail(`NODE_EXTRA_CA_CERTS=${ca} does not exist: run \`make setup\` (it creates .data/certs/ca.pem).`);

  let components: ComponentName[] = [...TEST_COMPONENTS];
  if (!fs.existsSync(EMULATOR_ENTRY)) {
    if (fs.existsSync(path.join(PROJECT_ROOT, 'devstack', 'emulator', 'main.ts'))) {
      fail(
        `${path.relative(PROJECT_ROOT, EMULATOR_ENTRY)} is missing: build first (\`make test\` does; or \`npm run build\`).`,
      );
    }
    process.stderr.write('[stack] devstack/emulator/main.ts does not exist yet: starting Temporal and Azurite only\n');
    components = components.filter((c) => c !== 'emulator');
  }

  const dataDir = await chooseDataDir();

  const stack = await startStack({
    dataDir,
    components,
    ports: { temporal: 0, temporalUi: 0, azurite: 0, emulator: 0 },
    temporal: { headless: true, inMemory: true },
    azurite: { inMemory: true },
    emulator: { extraArgs: TEST_EMULATOR_ARGS },
    stopTimeoutMs: 10_000,
  });
  holder.__FTFLOW_TEST_STACK__ = stack;
  holder.__FTFLOW_TEST_STACK_FILE__ = stack.stackFile;
  holder.__FTFLOW_TEST_DATA_DIR__ = dataDir;

  Object.assign(process.env, stackEnv(stack));
  process.env.FTFLOW_TEST_DATA_DIR = dataDir;
  if (stack.stackFile) process.env.FTFLOW_TEST_STACK_FILE = stack.stackFile;
  if (stack.urls.emulator) process.env.FTFLOW_TEST_EMULATOR_URL = stack.urls.emulator;
  if (stack.urls.azuriteBlob) process.env.FTFLOW_TEST_AZURITE_URL = stack.urls.azuriteBlob;
  process.stderr.write(
    `[stack] test stack up in ${(stack.startupMs / 1000).toFixed(1)} s (${components.join(', ')}; ${stack.stackFile ?? ''})\n`,
  );
}
