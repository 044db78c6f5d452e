// What the Temporal UI reads about runs, checked through the same server calls it makes, with mocked
// activities on a throw-away dev server: describe's static summary and details, the current details (the
// built-in metadata query) while a run runs, each activity call's summary in the history, and the default
// list (a query that does not name TemporalNamespaceDivision): one row per scheduled run, no janitor sweeps.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { DIVISIONS } from '../../src/config/searchAttributes';
import { STEPS } from '../../src/workflows/definitions';
import { waitFor } from '../helpers/localStack';
import { MockedActivities } from '../helpers/mockedActivities';
import { awaitHistory, historyOf } from '../helpers/runRecords';
import { startWorkflowEnv, type WorkflowTestEnv } from '../helpers/workflowEnv';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** An event's kind, read the same way from the SDK's events and from a recorded JSON history. */
function kindOf(event: object): string {
  const entries = Object.entries(event) as [string, unknown][];
  return entries.find(([k, v]) => k.endsWith('EventAttributes') && v !== null && v !== undefined)?.[0] ?? '';
}
const closed = (events: HistoryEvent[]) =>
  events.some((e) => kindOf(e) === 'workflowExecutionCompletedEventAttributes');

const OPTIONS = { heartbeatTimeoutSeconds: 2, quickStepTimeoutSeconds: 30 };
const mocks = new MockedActivities();
let t: WorkflowTestEnv;

beforeAll(async () => {
  t = await startWorkflowEnv('temporal-ui');
  await t.startWorker(mocks.activities);
}, 120_000);
afterAll(async () => {
  await t?.teardown();
});

/** What the UI's workflow page reads: the run's static summary and details (describe). */
async function staticMetadata(workflowId: string): Promise<{ summary?: string; details?: string }> {
  const d = await t.env.client.workflow.getHandle(workflowId).describe();
  return { summary: await d.staticSummary(), details: await d.staticDetails() };
}

/** The current details, as the UI asks for them: the built-in metadata query. */
async function currentDetailsOf(workflowId: string): Promise<string> {
  const meta = await t.env.client.workflow
    .getHandle(workflowId)
    .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}

/** The workflow ids of the UI's default list (no query: the namespace's default division only). */
async function defaultList(temporalClient: Client): Promise<string[]> {
  const ids: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await temporalClient.workflowService.listWorkflowExecutions({
      namespace: temporalClient.options.namespace,
      query: '',
      pageSize: 1000,
      nextPageToken,
    });
    ids.push(...(page.executions ?? []).map((e) => e.execution?.workflowId ?? ''));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return ids;
}

async function listed(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of t.env.client.workflow.list({ query })) ids.push(w.workflowId);
  return ids;
}

/** Each activity call's summary, in the order the run scheduled them: [activity type, summary]. */
function activitySummaries(events: HistoryEvent[]): [string, string][] {
  const converter = t.env.client.options.loadedDataConverter.payloadConverter;
  return events
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .map((e) => {
      const payload = e.userMetadata?.summary;
      return [
        e.activityTaskScheduledEventAttributes?.activityType?.name ?? '',
        payload ? converter.fromPayload<string>(payload) : '',
      ];
    });
}

describe('a run in the Temporal UI', () => {
  test('describe returns the static summary and details the client set: model, dataset slice, compute, who started it', async () => {
    const run = await t.client.start(
      { model: { name: 'Phi-4' }, compute: { name: 'gpu-cluster' }, dataset: { percent: 5 } },
      { idempotencyKey: 'ui-static', options: OPTIONS, source: 'api', actor: 'ci-bot' },
    );
    await t.client.result(run.runId);
    const { summary, details } = await staticMetadata(run.runId);
    expect(summary).toBe('Phi-4 on HuggingFaceH4/ultrachat_200k 5% · cluster gpu-cluster · API key ci-bot');
    expect(details).toContain('**Model** `azureml/Phi-4`');
    expect(details).toContain('the first 5% of each split');
    expect(details).toContain('**Started by** API key ci-bot · idempotency key `ui-static`');
    // The memo records the actor too (resume reads it).
    expect((await t.env.client.workflow.getHandle(run.runId).describe()).memo?.ftflow).toMatchObject({
      source: 'api',
      actor: 'ci-bot',
    });
  });

  test('the current details follow the step while the run runs, and asking for them adds no history event', async () => {
    const runId = 'ft-ui-current';
    const blocker = mocks.run(runId).blockAt('awaitPipeline');
    await t.client.start({}, { idempotencyKey: 'ui-current', options: OPTIONS });
    await blocker.entered.promise;
    const details = await waitFor('the current details to name awaitPipeline', async () => {
      const text = await currentDetailsOf(runId);
      return text.includes('awaitPipeline**') ? text : undefined;
    });
    expect(details).toMatch(/^\*\*Step 6 of 11: awaitPipeline\*\* \(since \d\d:\d\d:\d\d UTC\)/);
    expect(details).toContain(`**Job** \`${(await t.client.progress(runId)).jobName}\``);
    expect(details).toContain("awaitPipeline's heartbeat");

    // Ten more reads of the details and a few seconds of heartbeats: the history does not grow.
    const before = (await historyOf(t.env.client, runId)).length;
    for (let i = 0; i < 10; i++) await currentDetailsOf(runId);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await historyOf(t.env.client, runId)).length).toBe(before);

    blocker.proceed();
    await t.client.result(runId);
    expect(await currentDetailsOf(runId)).toMatch(/^\*\*Succeeded\*\*/);
  });

  test('every activity call carries its summary, and the history keeps the shape recorded before summaries existed', async () => {
    // As the recorded run (fixture-success-run-cost.json): the seed's defaults held to budget.maxCost 50.
    const run = await t.client.start(
      { budget: { maxCost: 50 } },
      { idempotencyKey: 'ui-activities', options: OPTIONS },
    );
    await t.client.result(run.runId);
    const events = await historyOf(t.env.client, run.runId);
    const summaries = activitySummaries(events);
    // The steps, with the cost's bookkeeping: the estimate before the job, the measurement after the run.
    const withCost = [...STEPS].flatMap((step) => (step === 'submitPipeline' ? ['estimateCost', step] : [step]));
    expect(summaries.map(([type]) => type)).toEqual([...withCost, 'measureCost']);
    expect(Object.fromEntries(summaries)).toMatchObject({
      authenticate: 'authenticate to Azure and read the workspace',
      resolveModel: expect.stringMatching(/^resolve azureml\/Phi-3-mini-4k-instruct latest/),
      stageDataset: 'stage 5% of HuggingFaceH4/ultrachat_200k',
      validateCompute: 'find or create cluster ftflow-a100 (Standard_NC24ads_A100_v4) for Phi-3-mini-4k-instruct',
      submitPipeline: 'submit chat_completion_pipeline for Phi-3-mini-4k-instruct v1 on gpu',
      awaitPipeline: `follow job ${run.names.jobName} until it ends`,
      deployEndpoint: `deploy endpoint ${run.names.endpointName} (Standard_NC6s_v3 × 1)`,
      deleteEndpoint: `delete endpoint ${run.names.endpointName}`,
      estimateCost: 'estimate what the run costs on Standard_NC24ads_A100_v4 in eastus2 (list prices)',
      measureCost: expect.stringMatching(/^measure what job .* and the endpoint cost, from their timelines$/),
    });
    // The events the run's commands made, in order, are those of the success run recorded on the stack before
    // summaries and details existed (test/fixtures/histories): metadata, not commands.
    const commandEvents = (list: HistoryEvent[]) =>
      list
        .map((e) => ({ kind: kindOf(e), activity: e.activityTaskScheduledEventAttributes?.activityType?.name }))
        .filter(({ kind }) =>
          [
            'activityTaskScheduledEventAttributes',
            'upsertWorkflowSearchAttributesEventAttributes',
            'markerRecordedEventAttributes',
            'timerStartedEventAttributes',
          ].includes(kind),
        )
        .map(({ kind, activity }) => `${kind.replace('EventAttributes', '')}${activity ? `:${activity}` : ''}`);
    const recorded = JSON.parse(
      readFileSync(path.join(__dirname, '..', 'fixtures', 'histories', 'fixture-success-run-cost.json'), 'utf8'),
    ) as { events: HistoryEvent[] };
    expect(commandEvents(events)).toEqual(commandEvents(recorded.events));
  });

  test('a resumed run says who resumed it', async () => {
    const runId = 'ft-ui-resume';
    let failed = false; // the first execution fails at stageDataset, the resumed one goes through
    mocks.run(runId).override('stageDataset', async (call) => {
      if (failed) return call.canned();
      failed = true;
      throw ApplicationFailure.nonRetryable('stageDataset failed (mocked)', 'MockedStepFailure');
    });
    await t.client.start({}, { idempotencyKey: 'ui-resume', options: OPTIONS, source: 'cli', actor: 'alice' });
    await expect(t.client.result(runId)).rejects.toThrow();
    expect(await currentDetailsOf(runId)).toMatch(/^\*\*Failed\*\* at stageDataset/);
    await t.client.resume(runId, { source: 'api', actor: 'ops-key' });
    await t.client.result(runId);
    const { summary, details } = await staticMetadata(runId);
    expect(summary).toMatch(/· CLI user alice · resumed by API key ops-key$/);
    expect(details).toContain('**Resumed by** API key ops-key');
  });
});

describe('the default workflow list', () => {
  test('shows a scheduled run once: the tick that started it is in its own division', async () => {
    const scheduleId = `ui-sched-${Date.now()}`;
    await t.client.schedules.create({ scheduleId, spec: { dataset: { percent: 3 } }, every: '1 hour', paused: true });
    try {
      const report = await t.client.schedules.trigger(scheduleId);
      expect(report.started).toBe(1);
      const [tick] = report.startedTicks;
      const runId = tick.runId ?? '';
      await awaitHistory(t.env.client, tick.tickId, 'the tick to end', closed);

      const rows = await defaultList(t.env.client);
      expect(rows.filter((id) => id === runId || id === tick.tickId)).toEqual([runId]);
      expect(await listed(`TemporalNamespaceDivision = '${DIVISIONS.scheduleTicks}'`)).toContain(tick.tickId);
      // The run's own summary names the schedule; the tick's says what it is.
      expect((await staticMetadata(runId)).summary).toBe(
        `Phi-3-mini-4k-instruct on HuggingFaceH4/ultrachat_200k 3% · cluster ftflow-a100 · schedule ${scheduleId}`,
      );
      expect((await staticMetadata(tick.tickId)).summary).toMatch(`retraining tick of schedule ${scheduleId}`);
      expect(await currentDetailsOf(tick.tickId)).toContain(`**Running** ${runId}`);
      // The run is still this service's run: get, list and the content key work as before.
      expect((await t.client.get(runId)).status).toBe('succeeded');
      expect((await t.client.list({ status: 'succeeded', limit: 100 })).data.map((r) => r.id)).toContain(runId);
    } finally {
      await t.client.schedules.delete(scheduleId).catch(() => undefined);
    }
  });

  test('shows no janitor sweep, scheduled or on demand; its division lists them, and its report is as before', async () => {
    const scheduleId = `ui-janitor-${Date.now()}`;
    const created = await t.client.janitor.ensureSchedule({ scheduleId, every: '1 hour' });
    try {
      expect(created).toMatchObject({ scheduleId, every: ['1h'], paused: false });
      await t.client.janitor.trigger(scheduleId);
      const report = await waitFor(
        'the sweep to report',
        async () => (await t.client.janitor.describeSchedule(scheduleId)).lastReport,
      );
      expect(report).toMatchObject({ dryRun: false, examined: 0, deleted: [], kept: [], failed: [] });
      const onDemand = await t.client.janitor.runNow({ dryRun: true });
      expect(onDemand).toMatchObject({ dryRun: true, examined: 0 });

      const sweeps = [report.tickId, 'ftflow-janitor-now'];
      expect((await defaultList(t.env.client)).filter((id) => sweeps.includes(id))).toEqual([]);
      expect(await listed(`TemporalNamespaceDivision = '${DIVISIONS.janitor}'`)).toEqual(
        expect.arrayContaining(sweeps),
      );
      expect((await staticMetadata(report.tickId)).summary).toBe(
        'janitor sweep every 1 hour: delete the endpoints whose run has ended',
      );
      expect(await currentDetailsOf(report.tickId)).toBe('**Swept** 0 endpoint(s): 0 deleted, 0 kept, 0 failed');
    } finally {
      await t.env.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    }
  });
});
