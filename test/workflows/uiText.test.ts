// What the Temporal UI shows about a run (src/workflows/uiText.ts): the static summary and details, the current
// details from the progress record, and every activity call's summary. Pure functions, no server.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { payloadCodecFromEnv } from '../../src/codec/config';
import { parseRunSpec } from '../../src/runSpec/schema';
import { STEPS, type RunProgress } from '../../src/workflows/definitions';
import {
  ACTIVITY_SUMMARIES,
  MAX_DETAILS_BYTES,
  MAX_SUMMARY_BYTES,
  capBytes,
  currentDetails,
  escapeMarkdown,
  janitorStaticMetadata,
  runStaticMetadata,
  startedByText,
  summaryText,
  tickStaticMetadata,
} from '../../src/workflows/uiText';

const spec = parseRunSpec({
  model: { name: 'Phi-4' },
  compute: { name: 'gpu-cluster', vmSize: 'Standard_NC24ads_A100_v4' },
  dataset: { percent: 5 },
  training: { num_train_epochs: 1 },
  deployment: { keepAliveMinutes: 30 },
  qualityGate: { eval_loss: { max: 1.2 } },
});

function progress(overrides: Partial<RunProgress> = {}): RunProgress {
  return {
    runId: 'ft-x',
    status: 'running',
    steps: STEPS.map((name) => ({ name, status: 'pending' })),
    jobName: 'ftflow-ft-x-1234abcd',
    endpointName: 'ftflow-1234abcd5678ef90',
    warnings: [],
    ...overrides,
  };
}

/** A record whose steps before `step` completed and `step` runs. */
function runningAt(step: (typeof STEPS)[number], overrides: Partial<RunProgress> = {}): RunProgress {
  const at = STEPS.indexOf(step);
  return progress({
    currentStep: step,
    steps: STEPS.map((name, i) => ({
      name,
      status: i < at ? 'completed' : i === at ? 'running' : 'pending',
      ...(i === at ? { startedAt: '2026-12-06T04:05:06.789Z' } : {}),
      ...(name === 'awaitPipeline' && i < at ? { detail: 'Completed' } : {}),
    })),
    ...overrides,
  });
}

describe('static summary and details', () => {
  test('say the model, the dataset slice, the compute and who started the run', () => {
    const { staticSummary, staticDetails } = runStaticMetadata(spec, {
      startedBy: { source: 'api', actor: 'ci-bot' },
      idempotencyKey: 'weekly',
    });
    expect(staticSummary).toBe('Phi-4 on HuggingFaceH4/ultrachat_200k 5% · cluster gpu-cluster · API key ci-bot');
    expect(staticSummary).not.toMatch(/\n/);
    expect(staticDetails).toContain('**Model** `azureml/Phi-4`, version latest');
    expect(staticDetails).toContain('`HuggingFaceH4/ultrachat_200k` at `main`: train `train_sft`, test `test_sft`');
    expect(staticDetails).toContain('the first 5% of each split');
    expect(staticDetails).toContain('**Training** `num_train_epochs` 1');
    expect(staticDetails).toContain('cluster `gpu-cluster`, `Standard_NC24ads_A100_v4`, up to 1 node(s)');
    expect(staticDetails).toContain('kept 30 min after the smoke test');
    expect(staticDetails).toContain('**Quality gate** `eval_loss` at most 1.2');
    expect(staticDetails).toContain('**Started by** API key ci-bot · idempotency key `weekly`');
  });

  test('name the starter of every front end, and the resumer of a resumed run', () => {
    expect(startedByText({ source: 'cli', actor: 'alice' })).toBe('CLI user alice');
    expect(startedByText({ source: 'schedule', scheduleId: 'weekly-phi3' })).toBe('schedule weekly-phi3');
    expect(startedByText({ source: 'client' })).toBe('the TypeScript client');
    expect(startedByText({ source: 'api' })).toBe('the HTTP API');
    expect(startedByText({ source: 'client', actor: '<b>*me*</b>' })).toBe('client \\<b\\>\\*me\\*\\</b\\>');
    const resumed = runStaticMetadata(spec, {
      startedBy: { source: 'schedule', scheduleId: 'weekly-phi3' },
      resumedBy: { source: 'cli', actor: 'alice' },
    });
    expect(resumed.staticSummary).toMatch(/· schedule weekly-phi3 · resumed by CLI user alice$/);
    expect(resumed.staticDetails).toContain('**Resumed by** CLI user alice');
  });

  test("leave the sizes to the run when the spec does, and leave a URL's query string out", () => {
    const files = parseRunSpec({
      dataset: {
        files: { train: 'https://data.example.com/t.jsonl?rev=r1&x=QUERY', test: 'https://data.example.com/e.jsonl' },
      },
    });
    const { staticSummary, staticDetails } = runStaticMetadata(files, { startedBy: { source: 'client' } });
    expect(staticSummary).toContain('own files 100%');
    expect(staticDetails).toContain('train `https://data.example.com/t.jsonl`');
    expect(staticDetails).not.toContain('QUERY');
    expect(staticDetails).toContain('size chosen by the run from the allow list');
  });

  test('a spec an older version recorded without a part still gets a summary, not an error', () => {
    const old = { ...spec, budget: undefined, qualityGate: undefined } as unknown as typeof spec;
    expect(runStaticMetadata(old, { startedBy: { source: 'cli', actor: 'bob' } }).staticSummary).toBe(
      'fine-tune · CLI user bob',
    );
  });

  test('free text is escaped for markdown', () => {
    expect(escapeMarkdown('a*b_c [d](e)` _f_')).toBe('a\\*b_c \\[d\\](e)\\` \\_f\\_');
    const withMarkup = parseRunSpec({ training: { lr_scheduler_type: '**[x](http://evil)**' } });
    expect(runStaticMetadata(withMarkup, { startedBy: { source: 'client' } }).staticDetails).toContain(
      '\\*\\*\\[x\\](http://evil)\\*\\*',
    );
  });

  test('a janitor sweep and a schedule tick say what they are and how to list them', () => {
    expect(janitorStaticMetadata({}, '5 minutes').staticSummary).toBe(
      'janitor sweep every 5 minutes: delete the endpoints whose run has ended',
    );
    expect(janitorStaticMetadata({ dryRun: true }).staticSummary).toBe(
      'janitor sweep on demand: delete the endpoints whose run has ended (dry run)',
    );
    expect(janitorStaticMetadata({}).staticDetails).toContain("TemporalNamespaceDivision = 'ftflow-janitor'");
    const tick = tickStaticMetadata('weekly-phi3', spec);
    expect(tick.staticSummary).toMatch(/^retraining tick of schedule weekly-phi3/);
    expect(tick.staticDetails).toContain("TemporalNamespaceDivision = 'ftflow-schedule-ticks'");
    expect(tick.staticDetails).toContain('**The run** Phi-4 on HuggingFaceH4/ultrachat_200k 5%');
  });
});

describe('current details', () => {
  test('while the job trains: the step of eleven, what it does, the job, and where the live figures are', () => {
    const text = currentDetails(runningAt('awaitPipeline'));
    expect(text).toContain('**Step 6 of 11: awaitPipeline** (since 04:05:06 UTC): following the training job in Azure');
    expect(text).toContain('✓ submitPipeline · ▶ awaitPipeline · · collectMetrics');
    expect(text).toContain('**Job** `ftflow-ft-x-1234abcd`');
    expect(text).toContain("awaitPipeline's heartbeat");
    expect(
      currentDetails(
        runningAt('submitPipeline', {
          steps: runningAt('submitPipeline').steps.map((s) =>
            s.name === 'validateCompute' ? { ...s, detail: 'gpu Standard_NC24ads_A100_v4, 1 GPU(s)/node, created' } : s,
          ),
        }),
      ),
    ).toContain('**Compute** gpu Standard_NC24ads_A100_v4, 1 GPU(s)/node, created');
    expect(text).not.toContain('**Endpoint**');
  });

  test("after training: the job's status and studio link; while serving: the endpoint's expiry", () => {
    const serving = progress({
      currentStep: 'smokeScore',
      steps: STEPS.map((name, i) => ({
        name,
        status: i <= STEPS.indexOf('smokeScore') ? 'completed' : 'pending',
        ...(name === 'awaitPipeline' ? { detail: 'Completed' } : {}),
      })),
      endpointExpiresAt: '2026-12-06T05:00:00.000Z',
      metrics: { eval_loss: 1.2845, train_loss: 1.32 },
    });
    const text = currentDetails(serving, { studioUrl: 'https://ml.azure.com/runs/job?wsid=x' });
    expect(text).toContain('**Serving** the endpoint until 2026-12-06T05:00:00.000Z');
    expect(text).toContain(
      '**Job** `ftflow-ft-x-1234abcd`: Completed ([Azure ML studio](https://ml.azure.com/runs/job?wsid=x))',
    );
    expect(text).toContain('**Endpoint** `ftflow-1234abcd5678ef90`: serving until 2026-12-06T05:00:00.000Z');
    expect(text).toContain('**Metrics** `eval_loss` 1.2845 · `train_loss` 1.3200');
    expect(text).not.toContain("awaitPipeline's heartbeat");
  });

  test('when the run ends: the outcome, the step it ended at, and the error', () => {
    const failed = runningAt('deployEndpoint', {
      status: 'failed',
      outcome: 'failed',
      error: 'OutOfQuota: not enough *cores*',
    });
    failed.steps[STEPS.indexOf('deployEndpoint')].status = 'failed';
    failed.steps[STEPS.indexOf('deleteEndpoint')] = { name: 'deleteEndpoint', status: 'completed', detail: 'deleted' };
    const text = currentDetails(failed);
    expect(text).toMatch(/^\*\*Failed\*\* at deployEndpoint/);
    expect(text).toContain('**Endpoint** `ftflow-1234abcd5678ef90`: deleted');
    expect(text).toContain('**Error** OutOfQuota: not enough \\*cores\\*');
    expect(currentDetails(progress({ status: 'succeeded', outcome: 'succeeded' }))).toMatch(/^\*\*Succeeded\*\*/);
  });
});

describe("Temporal's size limits", () => {
  /** A payload's protobuf size, as the server measures it (map entries counted with their full overhead). */
  function payloadSize(p: Payload): number {
    const entries = Object.entries(p.metadata ?? {});
    return (p.data?.length ?? 0) + 4 + entries.reduce((n, [k, v]) => n + k.length + v.length + 8, 0);
  }

  test('the longest summaries stay under the 400-byte limit, encrypted too; details under 20,000', async () => {
    const codec = payloadCodecFromEnv({ FTFLOW_PAYLOAD_KEY: randomBytes(32).toString('base64') });
    const longest = parseRunSpec({
      model: { name: `M${'x'.repeat(254)}`, version: 'v'.repeat(64) },
      compute: { name: `c${'x'.repeat(30)}a` },
      training: Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`k${i}`, '字'.repeat(1000)])),
    });
    const { staticSummary, staticDetails } = runStaticMetadata(longest, {
      startedBy: { source: 'api', actor: 'ключ'.repeat(16) },
      resumedBy: { source: 'cli', actor: 'u'.repeat(64) },
      idempotencyKey: 'i'.repeat(125),
    });
    const summaries = [
      staticSummary,
      tickStaticMetadata('s'.repeat(64), longest).staticSummary,
      summaryText(ACTIVITY_SUMMARIES.resolveModel(longest.model, { pipelineComponent: {}, training: {} } as never)),
      summaryText(ACTIVITY_SUMMARIES.stageDataset({ dataset: longest.dataset })),
    ];
    for (const summary of summaries) {
      expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
      const [encrypted] = (await codec?.encode([defaultPayloadConverter.toPayload(summary)])) ?? [];
      expect(payloadSize(encrypted)).toBeLessThan(400);
    }
    expect(staticSummary).toMatch(/…$/);
    expect(Buffer.byteLength(staticDetails)).toBeLessThanOrEqual(MAX_DETAILS_BYTES);
    const [details] = (await codec?.encode([defaultPayloadConverter.toPayload(staticDetails)])) ?? [];
    expect(payloadSize(details)).toBeLessThan(20_000);
  });

  test('a cut never splits a character', () => {
    expect(capBytes('aé字😀', 100)).toBe('aé字😀');
    expect(capBytes('aé字😀b', 9)).toBe('aé字…');
    expect(capBytes('aé字😀b', 8)).toBe('aé…');
    expect(Buffer.byteLength(capBytes('😀'.repeat(100), 150))).toBeLessThanOrEqual(150);
  });
});

describe('activity summaries', () => {
  test('say what each call does to which Azure object', () => {
    expect(
      ACTIVITY_SUMMARIES.submitPipeline({
        names: { runId: 'ft-x', jobName: 'j', endpointName: 'e' },
        spec,
        experimentName: 'chat_completion_Phi-4',
        model: { name: 'Phi-4', version: '8' } as Parameters<typeof ACTIVITY_SUMMARIES.submitPipeline>[0]['model'],
        compute: { name: 'gpu-cluster' } as Parameters<typeof ACTIVITY_SUMMARIES.submitPipeline>[0]['compute'],
        data: {} as Parameters<typeof ACTIVITY_SUMMARIES.submitPipeline>[0]['data'],
      }),
    ).toBe('submit chat_completion_pipeline for Phi-4 v8 on gpu-cluster');
    expect(ACTIVITY_SUMMARIES.deleteEndpoint('ftflow-abc')).toBe('delete endpoint ftflow-abc');
    expect(ACTIVITY_SUMMARIES.awaitPipeline('job-1')).toBe('follow job job-1 until it ends');
    expect(ACTIVITY_SUMMARIES.stageDataset({ dataset: spec.dataset })).toBe('stage 5% of HuggingFaceH4/ultrachat_200k');
  });
});
