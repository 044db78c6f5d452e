// The Temporal Web UI's own HTTP API (what its pages fetch, under /api/v1) over a dev server that serves the
// UI, with a worker running the real activities against the shared local stack's Azure emulator: the default
// workflow list (one row per scheduled run, no janitor sweep), and a run's page (summary and details from
// describe, current details from the metadata query while the endpoint serves and after the run, each
// activity's summary in the history).
import { createActivities, createDeps } from '../../src/activities';
import { loadAzureConfig } from '../../src/azure/config';
import { DIVISIONS } from '../../src/config/searchAttributes';
import { FAST_TUNING, waitFor } from '../helpers/localStack';
import { startWorkflowEnv, type WorkflowTestEnv } from '../helpers/workflowEnv';

interface Payload {
  metadata?: Record<string, string>;
  data?: string;
}

let t: WorkflowTestEnv;
let ui: string;
let csrf = '';

beforeAll(async () => {
  t = await startWorkflowEnv('temporal-ui-api', { ui: true });
  ui = `${t.uiUrl ?? ''}/api/v1/namespaces/${t.env.namespace ?? 'default'}`;
  const env = { ...process.env, ...FAST_TUNING };
  await t.startWorker(createActivities(createDeps(loadAzureConfig(env), env, undefined, { temporal: t.env.client })));
  await waitFor('the UI to answer', async () =>
    (await fetch(`${ui}/workflows?query=`).catch(() => undefined))?.ok ? true : undefined,
  );
}, 180_000);
afterAll(async () => {
  await t?.teardown();
});

/** A JSON payload as the UI receives it (base64 data), decoded. */
function decoded<T>(payload: Payload | undefined): T | undefined {
  return payload?.data !== undefined
    ? (JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as T)
    : undefined;
}

async function uiGet<T>(path: string): Promise<T> {
  const res = await fetch(`${ui}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The workflow ids the UI's list shows for a query ('' is the default list). */
async function uiList(query: string): Promise<string[]> {
  const body = await uiGet<{ executions?: { execution: { workflowId: string } }[] }>(
    `/workflows?query=${encodeURIComponent(query)}`,
  );
  return (body.executions ?? []).map((e) => e.execution.workflowId);
}

/** The UI's workflow page: summary and details from describe. */
async function uiStaticMetadata(workflowId: string): Promise<{ summary?: string; details?: string }> {
  const body = await uiGet<{ executionConfig?: { userMetadata?: { summary?: Payload; details?: Payload } } }>(
    `/workflows/${encodeURIComponent(workflowId)}`,
  );
  const meta = body.executionConfig?.userMetadata;
  return { summary: decoded<string>(meta?.summary), details: decoded<string>(meta?.details) };
}

/** The current details, asked for as the UI does (a POST: with the UI's CSRF cookie and header). */
async function uiCurrentDetails(workflowId: string): Promise<string> {
  const url = `${ui}/workflows/${encodeURIComponent(workflowId)}/query/__temporal_workflow_metadata`;
  const ask = () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `_csrf=${csrf}`, 'x-csrf-token': csrf },
      body: JSON.stringify({ query: { queryType: '__temporal_workflow_metadata' } }),
    });
  let res = await ask();
  if (res.status === 400) {
    csrf = /_csrf=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
    res = await ask();
  }
  if (!res.ok) throw new Error(`query ${workflowId}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { queryResult?: { payloads?: Payload[] } };
  return decoded<{ currentDetails?: string }>(body.queryResult?.payloads?.[0])?.currentDetails ?? '';
}

test("a run's page: summary and details, the current details while its endpoint serves and after, each activity's summary", async () => {
  const run = await t.client.start(
    { dataset: { percent: 4.4 }, deployment: { keepAliveMinutes: 30 } },
    { source: 'cli', actor: 'alice', options: { heartbeatTimeoutSeconds: 3 } },
  );
  await waitFor('the endpoint to be kept alive', async () => (await t.client.progress(run.runId)).endpointExpiresAt);

  const page = await uiStaticMetadata(run.runId);
  expect(page.summary).toBe(
    'Phi-3-mini-4k-instruct on HuggingFaceH4/ultrachat_200k 4.4% · cluster ftflow-a100 · CLI user alice',
  );
  expect(page.details).toContain('**Started by** CLI user alice');
  expect(page.details).toContain('kept 30 min after the smoke test');

  const serving = await uiCurrentDetails(run.runId);
  expect(serving).toMatch(/^\*\*Serving\*\* the endpoint until \d{4}-/);
  expect(serving).toMatch(
    new RegExp(`\\*\\*Job\\*\\* \`${run.names.jobName}\`: Completed \\(\\[Azure ML studio\\]\\(https://`),
  );
  expect(serving).toContain(`**Endpoint** \`${run.names.endpointName}\`: serving until`);

  await t.client.endpointLifetime(run.runId, { endNow: true });
  await t.client.result(run.runId);
  const ended = await uiCurrentDetails(run.runId);
  expect(ended).toMatch(/^\*\*Succeeded\*\*/);
  expect(ended).toContain(`**Endpoint** \`${run.names.endpointName}\`: deleted`);

  // The history the UI's timeline draws: each activity's summary rides on its scheduled event.
  const history = await uiGet<{
    history?: {
      events?: {
        activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
        userMetadata?: { summary?: Payload };
      }[];
    };
  }>(`/workflows/${encodeURIComponent(run.runId)}/history?maximumPageSize=1000`);
  const summaries = Object.fromEntries(
    (history.history?.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => [
        e.activityTaskScheduledEventAttributes?.activityType?.name,
        decoded<string>(e.userMetadata?.summary),
      ]),
  );
  expect(summaries).toMatchObject({
    submitPipeline: expect.stringMatching(
      /^submit chat_completion_pipeline for Phi-3-mini-4k-instruct v\d+ on ftflow-a100$/,
    ),
    deployEndpoint: expect.stringMatching(`^deploy endpoint ${run.names.endpointName} \\(Standard_`),
    deleteEndpoint: `delete endpoint ${run.names.endpointName}`,
  });
});

test('the default list: a scheduled run is one row, a janitor sweep none; their divisions list the tick and the sweep', async () => {
  const scheduleId = `ui-api-${Date.now()}`;
  await t.client.schedules.create({ scheduleId, spec: { dataset: { percent: 4.5 } }, every: '1 hour', paused: true });
  try {
    const report = await t.client.schedules.trigger(scheduleId);
    const [tick] = report.startedTicks;
    const runId = tick.runId ?? '';
    await t.env.client.workflow.getHandle(tick.tickId).result();
    // A dry run: the shared emulator holds other suites' endpoints, whose runs this server does not know.
    await t.client.janitor.runNow({ dryRun: true });

    const rows = await uiList('');
    expect(rows.filter((id) => id.includes(scheduleId))).toEqual([runId]);
    expect(rows).not.toContain('ftflow-janitor-now');
    expect(await uiList(`TemporalNamespaceDivision = '${DIVISIONS.scheduleTicks}'`)).toContain(tick.tickId);
    expect(await uiList(`TemporalNamespaceDivision = '${DIVISIONS.janitor}'`)).toContain('ftflow-janitor-now');
    expect((await uiStaticMetadata(runId)).summary).toMatch(new RegExp(`· schedule ${scheduleId}$`));
    expect(await uiCurrentDetails(runId)).toMatch(/^\*\*Succeeded\*\*/);
  } finally {
    await t.client.schedules.delete(scheduleId).catch(() => undefined);
  }
});
