// Azure ML's job events as Event Grid delivers them (both schemas), mapped to the jobs to wake: only
// RunStatusChanged and RunCompleted of runs finetune-flow tagged, with a status a follower acts on.
import {
  jobEventOf,
  readCloudEventsDelivery,
  readEventGridDelivery,
  runIdFromSubject,
} from '../../src/azure/jobEvents';
import { RUN_TAG } from '../../src/azure/tags';

const TOPIC = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

function statusChanged(runId: string, runStatus: string, opts: { tags?: Record<string, string>; id?: string } = {}) {
  return {
    id: opts.id ?? `${runId}-${runStatus}`,
    topic: TOPIC,
    subject: `experiments/0fa9dfaa-3b3c-4bc7-a9e7-bd2a8e2f4a01/runs/${runId}`,
    eventType: 'Microsoft.MachineLearningServices.RunStatusChanged',
    eventTime: '2026-12-06T08:00:00Z',
    data: {
      experimentId: '0fa9dfaa-3b3c-4bc7-a9e7-bd2a8e2f4a01',
      experimentName: 'finetune-flow',
      runId,
      runType: 'azureml.PipelineRun',
      runTags: opts.tags ?? { [RUN_TAG]: 'ft-1' },
      runProperties: {},
      runStatus,
    },
    dataVersion: '2',
    metadataVersion: '1',
  };
}

const asCloudEvent = (e: ReturnType<typeof statusChanged>) => ({
  specversion: '1.0',
  id: e.id,
  source: e.topic,
  type: e.eventType,
  subject: e.subject,
  time: e.eventTime,
  data: e.data,
});

describe('Event Grid schema', () => {
  test('RunStatusChanged to Completed wakes the job named by its runId', async () => {
    await expect(readEventGridDelivery([statusChanged('ftflow-ft-1-abc', 'Completed')])).resolves.toEqual({
      kind: 'events',
      events: [{ jobName: 'ftflow-ft-1-abc', status: 'Completed' }],
      ignored: 0,
    });
  });

  test('the subscription validation event is answered with its code', async () => {
    const validation = {
      id: 'v1',
      topic: TOPIC,
      subject: '',
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      eventTime: '2026-12-06T08:00:00Z',
      data: { validationCode: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6', validationUrl: 'https://example.invalid/v' },
      dataVersion: '1',
      metadataVersion: '1',
    };
    await expect(readEventGridDelivery([validation])).resolves.toEqual({
      kind: 'validation',
      validationCode: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6',
    });
  });

  test("statuses nobody acts on, other runs' events and other event types are ignored", async () => {
    const delivery = await readEventGridDelivery([
      statusChanged('ftflow-ft-1-abc', 'Queued'),
      statusChanged('step-run-1', 'Running', { tags: { 'azureml.pipeline': 'x' } }),
      {
        ...statusChanged('ftflow-ft-1-abc', 'Running'),
        eventType: 'Microsoft.MachineLearningServices.ModelRegistered',
      },
      statusChanged('ftflow-ft-2-def', 'Running'),
    ]);
    expect(delivery).toEqual({
      kind: 'events',
      events: [{ jobName: 'ftflow-ft-2-def', status: 'Running' }],
      ignored: 3,
    });
  });

  test('a job named twice in one delivery is woken once, with the last status given', async () => {
    const delivery = await readEventGridDelivery([
      statusChanged('ftflow-ft-1-abc', 'Running'),
      statusChanged('ftflow-ft-1-abc', 'Completed'),
      statusChanged('ftflow-ft-1-abc', 'Completed', { id: 'duplicate' }),
    ]);
    expect(delivery).toEqual({
      kind: 'events',
      events: [{ jobName: 'ftflow-ft-1-abc', status: 'Completed' }],
      ignored: 2,
    });
  });

  test('RunCompleted means Completed; a run id missing from data is taken from the subject', () => {
    expect(
      jobEventOf({
        type: 'Microsoft.MachineLearningServices.RunCompleted',
        subject: 'experiments/e/runs/ftflow-ft-3-xyz',
        data: { runTags: { [RUN_TAG]: 'ft-3' } },
      }),
    ).toEqual({ jobName: 'ftflow-ft-3-xyz', status: 'Completed' });
    expect(runIdFromSubject('experiments/e/runs/r1')).toBe('r1');
    expect(runIdFromSubject('models/m/versions/1')).toBeUndefined();
  });

  test('a body that is not an Event Grid delivery is refused by the deserializer', async () => {
    await expect(readEventGridDelivery([{ hello: 'world' }])).rejects.toThrow();
    await expect(readEventGridDelivery('nope')).rejects.toThrow('not a JSON object or array');
  });
});

describe('CloudEvents 1.0 schema', () => {
  test('one event, or a batch', async () => {
    await expect(readCloudEventsDelivery(asCloudEvent(statusChanged('ftflow-ft-1-abc', 'Failed')))).resolves.toEqual({
      kind: 'events',
      events: [{ jobName: 'ftflow-ft-1-abc', status: 'Failed' }],
      ignored: 0,
    });
    await expect(
      readCloudEventsDelivery([
        asCloudEvent(statusChanged('ftflow-ft-1-abc', 'Running')),
        asCloudEvent(statusChanged('ftflow-ft-2-def', 'Canceled')),
      ]),
    ).resolves.toMatchObject({ events: [{ jobName: 'ftflow-ft-1-abc' }, { jobName: 'ftflow-ft-2-def' }] });
  });

  test('an event without specversion is refused', async () => {
    const { specversion: _dropped, ...rest } = asCloudEvent(statusChanged('a', 'Completed'));
    await expect(readCloudEventsDelivery(rest)).rejects.toThrow();
  });
});
