// The fixture of the suites that SIGKILL worker processes in the middle of runs (workerCrash,
// cancelThenKill): a prebuilt workflow bundle, a Temporal client, emulator jobs that train for a few
// seconds, emulator holds and worker processes, all removed in afterAll even when a test failed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflows } from '../../src/scripts/bundleWorkflows';
import type { FaultRule } from './privateStack';
import { temporalAddress, type EmulatorClock } from './localStack';
import { emulatorAdmin } from './privateStack';
import { startWorkerProcess, type WorkerProcess } from './workerProcess';

export interface KillSuite {
  readonly admin: ReturnType<typeof emulatorAdmin>;
  /** The Temporal client (after beforeAll). */
  temporal(): Client;
  /** A worker process for `taskQueue` running the prebuilt bundle; killed in afterAll if still alive. */
  startWorker(taskQueue: string): Promise<WorkerProcess>;
  /** Puts emulator hold rules up; afterAll removes any still up (they would slow the next test file). */
  addHolds(rules: FaultRule[]): Promise<string[]>;
  removeHolds(ids: string[]): Promise<void>;
}

/** Registers beforeAll/afterAll in the calling describe block. `jobPhaseMs`: how long each job phase lasts. */
export function useKillSuite(opts: { jobPhaseMs: number; afterAll?: () => void }): KillSuite {
  const admin = emulatorAdmin();
  const workers: WorkerProcess[] = [];
  const holdsUp = new Set<string>();
  let connection: Connection | undefined;
  let temporal: Client | undefined;
  let bundle: string | undefined;
  let clockBefore: Partial<EmulatorClock> | undefined;

  beforeAll(async () => {
    // Workers start in about 2 s with a prebuilt bundle of the workflow code under test (src/workflows).
    bundle = (
      await bundleWorkflows(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bundle-')), 'workflow-bundle.js'))
    ).path;
    connection = await Connection.connect({ address: temporalAddress() });
    temporal = new Client({ connection });
    clockBefore = { jobPhaseMs: (await admin.clock()).jobPhaseMs };
    await admin.setClock({ jobPhaseMs: opts.jobPhaseMs });
  }, 60_000);

  afterAll(async () => {
    for (const id of holdsUp) await admin.removeFault(id).catch(() => undefined);
    for (const w of workers) await w.kill('SIGKILL');
    if (clockBefore) await admin.setClock(clockBefore);
    await connection?.close();
    if (bundle) fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
    opts.afterAll?.();
  });

  return {
    admin,
    temporal: () => {
      if (!temporal) throw new Error('the kill suite is not set up yet (use it inside a test)');
      return temporal;
    },
    startWorker: async (taskQueue) => {
      if (!bundle) throw new Error('the kill suite is not set up yet (use it inside a test)');
      const w = await startWorkerProcess({
        FTFLOW_TASK_QUEUE: taskQueue,
        FTFLOW_WORKFLOW_BUNDLE: bundle,
        FTFLOW_LOG_LEVEL: 'INFO',
      });
      workers.push(w);
      return w;
    },
    addHolds: async (rules) => {
      const ids = await Promise.all(rules.map((rule) => admin.addFault(rule)));
      for (const id of ids) holdsUp.add(id);
      return ids;
    },
    removeHolds: async (ids) => {
      for (const id of ids) {
        await admin.removeFault(id);
        holdsUp.delete(id);
      }
    },
  };
}
