// A deployment that runs out of quota while its worker is dead: the retry on a new worker finds it
// Failed, follows the operation the dead worker started (its state travels in the heartbeat) and fails
// the run as a quota failure, the cause and fix named, instead of a generic "failed to provision". The
// endpoint is deleted all the same. The moments are pinned by what the emulator and Temporal report,
// and by a hold on the operation's status reads from the kill until the deployment has failed.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { FineTuneClient } from '../../src/client';
import { deriveRunNames } from '../../src/runSpec/names';
import { temporalAddress, waitFor } from '../helpers/localStack';
import { emulatorAdmin } from '../helpers/privateStack';
import { azureRecordOf, historyOf, pendingActivity, runningOn, stepAttempts } from '../helpers/runRecords';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

const OPTIONS = { heartbeatTimeoutSeconds: 3, quickStepTimeoutSeconds: 10 };
/** Endpoints and deployments created meanwhile provision this long (ms), so the kill surely comes mid-way. */
const PROVISION_MS = 8_000;

describe('a deployment over quota, found Failed by a retry after its worker died', () => {
  const admin = emulatorAdmin();
  const workers: WorkerProcess[] = [];
  const rules = new Set<string>();
  let connection: Connection;
  let temporal: Client;
  let provisionBefore: number | undefined;

  beforeAll(async () => {
    connection = await Connection.connect({ address: temporalAddress() });
    temporal = new Client({ connection });
    provisionBefore = (await admin.clock()).provisionMs;
  });

  afterAll(async () => {
    for (const id of rules) await admin.removeFault(id).catch(() => undefined);
    for (const w of workers) await w.kill('SIGKILL');
    if (provisionBefore !== undefined) await admin.setClock({ provisionMs: provisionBefore });
    await connection?.close();
  });

  async function rule(r: Parameters<typeof admin.addFault>[0]): Promise<{ id: string; hits: () => Promise<number> }> {
    const id = await admin.addFault(r);
    rules.add(id);
    return { id, hits: async () => (await admin.faults()).find((f) => f.id === id)?.hits ?? 0 };
  }
  async function remove(id: string): Promise<void> {
    await admin.removeFault(id);
    rules.delete(id);
  }

  test('the run fails as a quota failure on the new worker, and its endpoint is deleted', async () => {
    const taskQueue = `deploy-kill-${randomUUID()}`;
    const start = async () => {
      const w = await startWorkerProcess({ FTFLOW_TASK_QUEUE: taskQueue });
      workers.push(w);
      return w;
    };
    const first = await start();
    const client = await FineTuneClient.connect({ client: temporal, taskQueue });
    const idempotencyKey = `deploy-kill-${randomUUID()}`;
    const names = deriveRunNames(`ft-${idempotencyKey}`);
    const deployments = `*/onlineEndpoints/${names.endpointName}/deployments/*`;
    // The deployment's PUT is accepted, then it provisions for a while and ends OutOfQuota.
    await rule({ method: 'PUT', path: deployments, action: { type: 'quota' } });
    await admin.setClock({ provisionMs: PROVISION_MS });
    const run = await client.start({ dataset: { percent: 13 } }, { idempotencyKey, options: OPTIONS });

    // The first worker follows the deployment's operation and has heartbeated it.
    await waitFor(
      'the deployment operation in the heartbeat of the first worker',
      async () => {
        const pending = await pendingActivity(temporal, run.runId, 'deployEndpoint');
        const details = (pending?.heartbeatDetails?.payloads ?? [])
          .map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))
          .join('');
        return runningOn(pending, first.child.pid) && details.includes('deploymentOperation') ? true : undefined;
      },
      120_000,
    );
    // From here the operation's outcome cannot reach the first worker (it is still provisioning).
    const statusReads = await rule({
      method: 'GET',
      path: '*/mfeOperationsStatus/*',
      action: { type: 'delay', ms: 120_000 },
    });
    expect((await admin.resources()).deployments.find((d) => d.endpoint === names.endpointName)?.state).not.toBe(
      'Failed',
    );
    await first.kill('SIGKILL');
    // While no worker runs, the deployment ends Failed (OutOfQuota) on the emulator.
    await waitFor(
      'the deployment to end Failed',
      async () =>
        (await admin.resources()).deployments.find((d) => d.endpoint === names.endpointName && d.state === 'Failed')
          ? true
          : undefined,
      60_000,
    );
    await remove(statusReads.id);
    const second = await start();

    await expect(client.result(run.runId)).rejects.toThrow();
    const progress = await client.progress(run.runId);
    const deploy = progress.steps.find((s) => s.name === 'deployEndpoint');
    expect(deploy?.status).toBe('failed');
    expect(deploy?.detail).toMatch(/OutOfQuota|quota/i);
    expect(deploy?.detail).not.toMatch(/failed to provision \(/);

    // The failure came from the second worker, on a retry of the step.
    const attempts = stepAttempts(await historyOf(temporal, run.runId)).filter((a) => a.step === 'deployEndpoint');
    const last = attempts.at(-1);
    expect(last?.outcome).toBe('failed');
    expect(last?.attempt).toBeGreaterThanOrEqual(2);
    expect(last?.startedBy?.startsWith(`${second.child.pid}@`)).toBe(true);

    const record = azureRecordOf(await admin.resources(), names);
    expect(record).toMatchObject({ jobs: 1, endpointsCreated: 1, liveEndpoints: 0, liveDeployments: 0 });
  }, 240_000);
});
