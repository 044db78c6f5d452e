// `make demo`: starts the embedded stack, runs one fine-tune with the seed's defaults, shows each step
// as it happens, prints a summary (checked against the emulator), and stops the stack unless --keep.
// `make demo ARGS=--today`: the same against today's registry (the emulator's `current` catalog, where
// Phi-3 is retired): it fine-tunes Phi-4, on the sizes the run picks from Phi-4's allow lists.
import { parseArgs } from 'node:util';
import { FineTuneClient } from 'finetune-flow';
import { startStack, ALL_COMPONENTS, type RunningStack } from '../stack';
import type { RunProgress, StepState, RunResult } from 'finetune-flow';

const LOCAL_WORKER_TUNING = { FTFLOW_JOB_POLL_SECONDS: '1', FTFLOW_LRO_POLL_MS: '300' };

function elapsed(step: StepState): string {
  if (!step.startedAt || !step.endedAt) return '';
  return `${((Date.parse(step.endedAt) - Date.parse(step.startedAt)) / 1000).toFixed(1)} s`;
}

function printTransitions(previous: Map<string, string>, progress: RunProgress): void {
  for (const step of progress.steps) {
    const before = previous.get(step.name);
    if (before === step.status) continue;
    previous.set(step.name, step.status);
    if (step.status === 'running') console.log(`  ▶ ${step.name}`);
    else if (step.status === 'completed')
      console.log(`  ✓ ${step.name}  ${elapsed(step)}${step.detail ? `  ${step.detail}` : ''}`);
    else if (step.status === 'failed' || step.status === 'cancelled')
      console.log(`  ✗ ${step.name} ${step.status}: ${step.detail ?? ''}`);
  }
}

interface EmulatorEndpointRecord {
  name: string;
  deletedAt?: string | null;
}

/** Asks the emulator (not the run record) whether the run's endpoint is gone. */
async function endpointGone(
  emulatorUrl: string,
  endpointName: string,
): Promise<{ gone: boolean; liveEndpoints: number }> {
  const res = await fetch(`${emulatorUrl}/_emulator/resources`);
  const body = (await res.json()) as { endpoints?: EmulatorEndpointRecord[] };
  const endpoints = body.endpoints ?? [];
  const live = endpoints.filter((e) => !e.deletedAt);
  const mine = endpoints.find((e) => e.name === endpointName);
  return { gone: mine !== undefined && Boolean(mine.deletedAt), liveEndpoints: live.length };
}

function summary(
  result: RunResult,
  check: { gone: boolean; liveEndpoints: number },
  uiUrl: string | undefined,
): string {
  const metric = (k: string) => (typeof result.metrics[k] === 'number' ? result.metrics[k].toFixed(4) : 'n/a');
  return [
    '',
    '── finetune-flow demo: summary ─────────────────────────────',
    `run id            ${result.id}`,
    `base model        ${result.baseModel.name} v${result.baseModel.version} (${result.baseModel.assetId})`,
    `compute           ${result.compute.name} ${result.compute.vmSize} × ${result.compute.gpusPerNode} GPU`,
    `dataset           train ${result.dataset.train.rows} rows, test ${result.dataset.test.rows} rows (revision ${result.dataset.revision.slice(0, 12)})`,
    `pipeline job      ${result.job.name}  ${result.job.status}`,
    `display name      ${result.job.displayName}`,
    `metrics           train_loss ${metric('train_loss')}  eval_loss ${metric('eval_loss')}  perplexity ${metric('perplexity')}`,
    `registered model  ${result.registeredModel.name} version ${result.registeredModel.version}`,
    `smoke score       "${result.smokeScore.reply.slice(0, 100)}" (${result.smokeScore.latencyMs} ms)`,
    `endpoint          ${result.endpoint.name}${result.endpoint.instanceType ? ` on ${result.endpoint.instanceType}` : ''}`,
    `endpoint deleted: ${check.gone ? 'yes' : 'NO'} (emulator reports ${check.liveEndpoints} live endpoint(s))`,
    ...(result.warnings.length ? [`warnings          ${result.warnings.join('\n                  ')}`] : []),
    `Temporal UI       ${uiUrl ? `${uiUrl}/namespaces/default/workflows/${result.id}` : 'n/a'}`,
    '─────────────────────────────────────────────────────────────',
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { keep: { type: 'boolean', default: false }, today: { type: 'boolean', default: false } },
  });
  const today = values.today;
  const started = Date.now();
  console.log(
    `finetune-flow demo: starting the local stack (Temporal dev server, Azurite, Azure ML emulator${today ? " with today's registry" : ''}, worker)…`,
  );
  let stack: RunningStack | undefined;
  try {
    stack = await startStack({
      components: ALL_COMPONENTS,
      worker: { env: LOCAL_WORKER_TUNING },
      ...(today ? { emulator: { catalog: 'current' } } : {}),
    });
    const address = stack.urls.temporalAddress;
    const emulatorUrl = stack.urls.emulator;
    if (!address || !emulatorUrl) throw new Error('the stack did not report its Temporal address and emulator URL');
    console.log(
      `stack ready in ${(stack.startupMs / 1000).toFixed(1)} s; Temporal UI ${stack.urls.temporalUi ?? 'off'}`,
    );

    const client = await FineTuneClient.connect({ address, namespace: stack.namespace });
    try {
      // Today: Phi-4 (Phi-3 is retired); the sizes are left to the run, which picks them from Phi-4's allow lists.
      const run = await client.start(today ? { model: { name: 'Phi-4' } } : {}, {
        idempotencyKey: `demo-${today ? 'today-' : ''}${Date.now()}`,
        options: { heartbeatTimeoutSeconds: 10 },
      });
      console.log(
        today
          ? `run ${run.runId}: Phi-4 from azureml (today's registry), 5% of ultrachat_200k, deployment "demo" on the size the run picks`
          : `run ${run.runId}: Phi-3-mini-4k-instruct from azureml, 5% of ultrachat_200k, deployment "demo" on Standard_NC6s_v3`,
      );
      const seen = new Map<string, string>();
      const resultPromise = client.result(run.runId);
      let done = false;
      resultPromise.then(
        () => (done = true),
        () => (done = true),
      );
      while (!done) {
        printTransitions(seen, await client.progress(run.runId));
        await new Promise((r) => setTimeout(r, 300));
      }
      printTransitions(seen, await client.progress(run.runId));
      let result: RunResult;
      try {
        result = await resultPromise;
      } catch (err) {
        const progress = await client.progress(run.runId);
        const check = await endpointGone(emulatorUrl, run.names.endpointName);
        console.error(`\nrun ${run.runId} ${progress.status}: ${progress.error ?? (err as Error).message}`);
        console.error(`emulator reports ${check.liveEndpoints} live endpoint(s)`);
        return 1;
      }
      const check = await endpointGone(emulatorUrl, result.endpoint.name);
      console.log(summary(result, check, stack.urls.temporalUi));
      console.log(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return check.gone && check.liveEndpoints === 0 ? 0 : 1;
    } finally {
      await client.close();
    }
  } finally {
    if (stack) {
      if (values.keep) {
        stack.detach();
        console.log('stack kept running (--keep); stop it with `node devstack/dist/stack/main.js down`');
      } else {
        await stack.stop();
      }
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
