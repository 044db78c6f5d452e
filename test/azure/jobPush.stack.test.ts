// Push end to end: the emulator's Event Grid delivers RunStatusChanged to the API's receiver
// (/v1/azure/events), which relays it through Temporal (the job event relay workflow, run by a worker);
// the worker's feed wakes its job watcher, which reads the job at once (a final status settles the follower
// without a read). With polling slowed to a minute,
// a finished job is still noticed within about 2 s; when the event is lost, the fallback polling cycle
// notices it; duplicated events change nothing.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { sendError } from '../../src/api/errors';
import { registerAzureEventRoutes } from '../../src/api/routes/azureEvents';
import { JobEventFeed } from '../../src/activities/jobEventFeed';
import { JobWatcher } from '../../src/azure/jobWatcher';
import { RUN_TAG } from '../../src/azure/tags';
import { LOCAL_AZURE } from '../../src/config/local';
import { JobEventPublisher } from '../../src/control/jobEventRelay';
import type { RunningEmulator } from '../../devstack/emulator/server';
import { temporalAddress } from '../helpers/localStack';
import {
  admin,
  armClient,
  armToken,
  createCluster,
  jobEnded,
  submitTaggedJob,
  startTestEmulator,
} from '../devstack/emulator/helpers';

const SECRET = randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
const TERMINAL = new Set(['Completed', 'Failed', 'Canceled']);

let emulator: RunningEmulator;
let arm: AzureMachineLearningWorkspaces;
let token: string;
let api: FastifyInstance;
let connection: Connection;
let temporal: Client;
let worker: Worker;
let running: Promise<void>;
let nativeConnection: NativeConnection;
let publisher: JobEventPublisher;
const taskQueue = `test-push-${randomUUID()}`;

beforeAll(async () => {
  // Jobs finish 5 s after they are created (five phases of 1 s).
  emulator = await startTestEmulator({
    clock: { jobPhaseMs: 1000, provisionMs: 50, deleteMs: 50, cancelMs: 50 },
    events: { duplicateRate: 0, reorderRate: 0, loseRate: 0, seed: 7 },
  });
  arm = armClient(emulator);
  token = await armToken(emulator);
  await createCluster(emulator, token, 'gpu');
  await new Promise((r) => setTimeout(r, 300));

  connection = await Connection.connect({ address: temporalAddress() });
  temporal = new Client({ connection, namespace: 'default' });
  // A worker for the relay workflow (it runs no activity).
  nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
  worker = await Worker.create({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowsPath: require.resolve('../../src/workflows'),
  });
  running = worker.run();

  // The API's receiver, with the relay's publisher.
  publisher = new JobEventPublisher(temporal, taskQueue);
  await publisher.ready();
  api = Fastify();
  api.setErrorHandler((err, _req, reply) => sendError(reply, err));
  registerAzureEventRoutes(api, { secrets: [SECRET], publish: (events) => publisher.publish(events) });
  const base = await api.listen({ host: '127.0.0.1', port: 0 });
  await admin(emulator, 'event-subscriptions/ftflow', {
    method: 'PUT',
    body: {
      properties: {
        destination: {
          endpointType: 'WebHook',
          properties: { endpointUrl: `${base}/v1/azure/events?secret=${SECRET}` },
        },
        eventDeliverySchema: 'EventGridSchema',
        filter: { includedEventTypes: ['Microsoft.MachineLearningServices.RunStatusChanged'] },
      },
    },
  });
}, 180_000);

afterAll(async () => {
  await api?.close();
  worker?.shutdown();
  await running;
  await nativeConnection?.close();
  await connection?.close();
  await emulator?.close();
});

const submit = (name: string): Promise<void> => submitTaggedJob(emulator, token, name);

/** Follows the job as awaitPipeline does (its own first read, then the watcher); when the end was noticed. */
async function follow(watcher: JobWatcher, name: string): Promise<number> {
  let status = (await arm.jobs.get(LOCAL_AZURE.resourceGroup, LOCAL_AZURE.workspace, name)).properties.status;
  while (!TERMINAL.has(status ?? '')) status = (await watcher.next(name, undefined, status)).properties.status;
  return Date.now();
}

/** Stops the feed once its waiting update returns (an event wakes it): none may outlive the test's connection. */
async function stopFeed(feed: JobEventFeed): Promise<void> {
  const stopped = feed.stop();
  await publisher.publish([{ jobName: 'stop' }]);
  await stopped;
}

function watcherWith(pushPollMs: number): { watcher: JobWatcher; feed: JobEventFeed } {
  const watcher = new JobWatcher(arm, {
    resourceGroup: LOCAL_AZURE.resourceGroup,
    workspace: LOCAL_AZURE.workspace,
    tag: RUN_TAG,
    minIntervalMs: 1000,
    pushMinIntervalMs: pushPollMs,
    readsPerSecond: 5,
  });
  const feed = new JobEventFeed(async () => temporal, watcher, taskQueue);
  feed.start();
  return { watcher, feed };
}

async function untilPushing(feed: JobEventFeed, watcher: JobWatcher): Promise<void> {
  // The feed's first update ("from now on") answers at once once the relay runs.
  const deadline = Date.now() + 30_000;
  while (!watcher.stats().pushing && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect({ pushing: watcher.stats().pushing, failures: feed.stats().failures }).toMatchObject({ pushing: true });
}

test('with polling slowed to 60 s, a pushed event wakes the follower within about 2 s of the job ending', async () => {
  await admin(emulator, 'event-settings', { method: 'PUT', body: { duplicateRate: 1, loseRate: 0 } });
  const { watcher, feed } = watcherWith(60_000);
  try {
    const name = `push-${randomUUID().slice(0, 8)}`;
    // Push is on before the job starts, so the watcher's floor is the minute from the start.
    await untilPushing(feed, watcher);
    await submit(name);
    const noticed = await follow(watcher, name);
    const ended = Date.parse((await jobEnded(emulator, name)).endedAt as string);
    const delay = noticed - ended;
    expect(delay).toBeLessThan(2500);
    // The follower's reads came from events, not from the slow polling cycle (one at the start).
    expect(watcher.stats().pollCycles).toBeLessThanOrEqual(1);
    expect(watcher.stats().wakeCycles).toBeGreaterThanOrEqual(1);
    // Running was read at once; Completed, a final status, settled the follower without a read.
    expect(watcher.stats().settledByEvents).toBe(1);
    // Every event was delivered twice: the second copy found nothing new to read.
    const [sub] = (
      await admin<{ value: { counts: { duplicated: number; delivered: number } }[] }>(emulator, 'event-subscriptions')
    ).value;
    expect(sub?.counts.duplicated).toBeGreaterThan(0);
    expect(feed.stats().events).toBeGreaterThan(feed.stats().woke);
  } finally {
    await stopFeed(feed);
  }
}, 60_000);

test('a lost event is caught by the fallback polling cycle', async () => {
  await admin(emulator, 'event-settings', { method: 'PUT', body: { duplicateRate: 0, loseRate: 1 } });
  // A fallback floor of 4 s (the default is a minute): the job is still noticed, by polling alone.
  const { watcher, feed } = watcherWith(4000);
  try {
    await untilPushing(feed, watcher);
    const name = `lost-${randomUUID().slice(0, 8)}`;
    await submit(name);
    const noticed = await follow(watcher, name);
    const ended = Date.parse((await jobEnded(emulator, name)).endedAt as string);
    expect(noticed - ended).toBeLessThan(4000 + 1500);
    expect(feed.stats().woke).toBe(0);
    expect(watcher.stats().wakeCycles).toBe(0);
    expect(watcher.stats().pollCycles).toBeGreaterThanOrEqual(1);
    const subs = (await admin<{ value: { counts: { lost: number } }[] }>(emulator, 'event-subscriptions')).value;
    expect(subs[0]?.counts.lost).toBeGreaterThan(0);
  } finally {
    await stopFeed(feed);
    await admin(emulator, 'event-settings', { method: 'PUT', body: { loseRate: 0 } });
  }
}, 60_000);
