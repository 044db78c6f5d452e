// A worker process (node dist/worker.js) SIGKILLed while it waits on a receiver's answer: the attempt's heartbeat
// stops, Temporal retries it on the next worker, and the receiver gets the same event again with the same
// webhook-id (at-least-once, de-duplicable), signed with the same secret; the delivery then completes.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { ENV } from '../../src/config/env';
import type { WebhookNotificationInput, WebhookNotificationReport } from '../../src/webhooks/events';
import { WebhookSecrets } from '../../src/webhooks/secrets';
import { verifyWebhook } from '../../src/webhooks/verify';
import { temporalAddress } from '../helpers/localStack';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

describe('a worker killed during a delivery', () => {
  let receiver: WebhookReceiver;
  let connection: Connection;
  let temporal: Client;
  const workers: WorkerProcess[] = [];
  const taskQueue = `hooks-kill-${randomUUID()}`;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    connection = await Connection.connect({ address: temporalAddress() });
    temporal = new Client({ connection, namespace: 'default' });
  });

  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await connection?.close();
    await receiver?.close();
  });

  test('the receiver gets the event again, with the same webhook-id, and the delivery completes', async () => {
    const start = () => startWorkerProcess({ [ENV.taskQueue]: taskQueue });
    let worker = await start();
    workers.push(worker);
    // The first attempt is held open (no answer); every later one is answered 200.
    receiver.answer = (_r, before) => (before === 0 ? 'hold' : 200);
    const runId = `ft-kill-${randomUUID().slice(0, 8)}`;
    const input: WebhookNotificationInput = {
      runId,
      executionId: randomUUID(),
      messageId: `msg_kill_${randomUUID().replace(/-/g, '')}`,
      type: 'run.succeeded',
      body: JSON.stringify({ type: 'run.succeeded', timestamp: new Date().toISOString(), data: { runId } }),
      runWebhooks: [{ url: receiver.url('/kill') }],
    };
    const handle = await temporal.workflow.start('webhookNotification', {
      taskQueue,
      workflowId: `ftwh-${runId}-test`,
      args: [input],
    });
    const first = await receiver.waitFor('the first attempt', (r) => r.path === '/kill', 60_000);
    const killedAt = Date.now();
    await worker.kill('SIGKILL');
    worker = await start();
    workers.push(worker);
    const second = await receiver.waitFor(
      'the attempt after the kill',
      (r) => r.path === '/kill' && r !== first,
      60_000,
    );
    process.stdout.write(`webhooks: redelivered ${second.at - killedAt} ms after the worker was killed\n`);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body).toBe(first.body);
    const secrets = WebhookSecrets.fromEnv(process.env)!;
    const secret = secrets.secretOf(secrets.runRef(runId, 0));
    for (const r of [first, second]) expect(verifyWebhook(secret, r.headers, r.body).id).toBe(input.messageId);

    const report = (await handle.result()) as WebhookNotificationReport;
    expect(report.targets).toEqual([
      { label: 'run:0', host: new URL(receiver.url('/')).host, outcome: 'delivered', attempts: 1 },
    ]);
  }, 180_000);
});
