// The run: the seed notebook's cells as durable steps, in docs/design.md's order as built. Pure
// orchestration: every side effect is an activity, every Azure name is derived from the workflow id, and
// cleanup runs in non-cancellable scopes: a submitted job is cancelled unless it finished, and the
// endpoint is ALWAYS deleted. Beside it: activityOptions.ts (one activity proxy per timeout class),
// progress.ts (the run's progress record, query and search attributes), keepAlive.ts (serving after the
// smoke test, the endpointLifetime update), runCost.ts (the estimate, budget.maxCost, the measured cost),
// checks.ts (the refusals a dry run makes too) and compat.ts (what runs already in flight still need).
import { ApplicationFailure, CancellationScope, isCancellation, log, workflowInfo } from '@temporalio/workflow';
import { deriveRunNames, fineTunedModelName } from '../runSpec/names';
import { evaluateQualityGate, type GateEvaluation } from '../runSpec/qualityGate';
import { activityGroups, type ActivityGroups } from './activityOptions';
import { sizedSpec } from '../runSpec/sizePicking';
import { allowListFailure } from './checks';
import { computeAndData, resolveModelRequest, runsCost, withLaterDefaults } from './compat';
import type { FineTuneInput, FineTuneResult } from './definitions';
import { KeepAlive } from './keepAlive';
import { RunNotifier } from './notifier';
import { Progress, type StepResult } from './progress';
import { RunCostBook } from './runCost';

export async function fineTune(input: FineTuneInput): Promise<FineTuneResult> {
  const spec = withLaterDefaults(input.spec);
  const runId = workflowInfo().workflowId;
  const names = deriveRunNames(runId);
  const { quick, submit, long, wait, cleanup, bookkeeping } = activityGroups(input.options);
  const experimentName = spec.experimentName ?? `chat_completion_${spec.model.name}`;
  const run = new Progress(names);
  const keepAlive = new KeepAlive(run);
  let cost: RunCostBook | undefined;
  run.started(spec);
  // Webhooks (notifier.ts): a notification per event someone listens to, started and left; never awaited.
  const notifier = new RunNotifier(input, run.record);
  run.onStepCompleted = (step, detail) => notifier.notify('run.step.completed', { step, detail });
  await notifier.notify('run.started');

  try {
    // 1-2. A working credential and the workspace; the registry model, its component, the training values.
    const { location } = await run.step('authenticate', () => quick.authenticate());
    // resolveModel also chooses the sizes the spec leaves unset (compat.ts: not in runs from before).
    const { check, choosesSizes } = resolveModelRequest(spec);
    const model = await run.step('resolveModel', () => quick.resolveModel(spec.model, check));
    run.warn(model.sizes?.warnings ?? []);
    const sized = sizedSpec(spec, model.sizes);

    // 3-4. The allow lists (pure), the data staged, then the cluster found or created (compat.ts: older runs' order).
    const { compute, data } = await computeAndData({
      checkAllowLists: () => refuseOutsideAllowLists(run, sized, model, choosesSizes ? Date.now() : undefined),
      stageDataset: () => run.step('stageDataset', () => long.stageDataset({ dataset: spec.dataset })),
      validateCompute: () =>
        run.step('validateCompute', () =>
          long.validateCompute({ compute: sized.compute, deployment: sized.deployment, model }),
        ),
    });
    run.warn(compute.warnings);

    // What it will cost (compat.ts: not in runs from before): over budget.maxCost, nothing is submitted.
    cost = new RunCostBook(run.record, runsCost(), spec.budget.maxCost);
    const book = cost;
    await book.estimated(() => quick.estimateCost({ spec: sized, model, compute, data, location }));

    // 5-6. Submit the job and follow it. From here on a GPU job may exist: unless it finished, cancel it.
    let jobFinished = false;
    let job;
    let jobStatus;
    try {
      book.submitting(names.jobName);
      job = await run.step('submitPipeline', () =>
        submit.submitPipeline({ names, spec: sized, experimentName, model, compute, data }),
      );
      run.jobSubmitted(job);
      book.submitted(job.jobName);
      const jobName = job.jobName;
      jobStatus = await run.step('awaitPipeline', () =>
        followJob(wait, jobName, { maxMinutes: spec.budget.maxTrainingMinutes, cost: book }, run),
      );
      jobFinished = true;
    } finally {
      book.trainingEnded();
      if (!jobFinished) {
        await CancellationScope.nonCancellable(async () => {
          const outcome = await cleanup.cancelPipeline(names.jobName);
          log.info('pipeline job cleanup', { jobName: names.jobName, status: outcome.status });
        });
      }
    }

    // 7. The job's metrics, then the quality gate: a failed gate registers nothing and deploys nothing.
    const metrics = await run.step('collectMetrics', () =>
      quick.collectMetrics({ jobName: job.jobName, experimentName }),
    );
    const gate = passedQualityGate(run, spec.qualityGate, metrics.metrics);

    // 8. The trained model, registered under the model's next integer version (adopted on a retry).
    const registeredModel = await run.step('registerModel', () =>
      quick.registerModel({
        jobName: job.jobName,
        modelName: fineTunedModelName(model.name, spec.dataset.source),
        description: `${model.name} fine tuned model for ${spec.dataset.source} chat-completion (finetune-flow run ${runId})`,
        runId,
      }),
    );

    // 9-11. Deploy, smoke-test, keep serving if asked; whatever ends the run, the endpoint is ALWAYS deleted.
    let deployed;
    let score;
    let deletion;
    const servingSince = Date.now();
    try {
      deployed = await run.step('deployEndpoint', () =>
        long.deployEndpoint({
          runId,
          endpointName: names.endpointName,
          deployment: sized.deployment,
          modelId: registeredModel.id,
          modelName: registeredModel.name,
          inferenceComputeAllowList: model.inferenceComputeAllowList,
        }),
      );
      const endpoint = deployed;
      score = await run.step('smokeScore', () =>
        long.smokeScore({
          endpointName: endpoint.endpointName,
          deploymentName: endpoint.deploymentName,
          sampleBlobPath: data.scoring.blobPath,
          parameters: spec.scoring.parameters,
        }),
      );
      await notifier.endpointReady(endpoint, spec.deployment.keepAliveMinutes);
      await keepAlive.serve(spec.deployment.keepAliveMinutes, book.servingLimit(servingSince));
    } finally {
      deletion = await CancellationScope.nonCancellable(() =>
        run.step('deleteEndpoint', () => cleanup.deleteEndpoint(names.endpointName)),
      );
      book.endpointDeleted(deletion);
      run.servingUntil(undefined);
      await notifier.endpointDeleted(deletion);
    }

    // What it cost: the job's timeline and the endpoint's lifetime, as Azure reports them.
    await CancellationScope.nonCancellable(() => book.measured(bookkeeping.measureCost));
    run.succeeded();
    await notifier.runEnded({ registeredModel: { name: registeredModel.name, version: registeredModel.version } });
    return {
      runId,
      status: 'succeeded',
      model: { registry: model.registry, name: model.name, version: model.version, assetId: model.assetId },
      compute,
      data: { revision: data.revision, train: data.train, test: data.test, scoring: data.scoring },
      job: { ...job, status: jobStatus.status, ...(jobStatus.studioUrl ? { studioUrl: jobStatus.studioUrl } : {}) },
      metrics: metrics.metrics,
      qualityGate: gate,
      registeredModel,
      endpoint: {
        ...deletion,
        instanceType: sized.deployment.instanceType,
        scoringUri: deployed.scoringUri,
        servedSeconds: Math.round((Date.now() - servingSince) / 1000),
      },
      smokeScore: score,
      ...(book.result() ? { cost: book.result() } : {}),
      warnings: run.record.warnings,
      notes: run.record.notes ?? [],
      steps: run.record.steps,
    };
  } catch (err) {
    // Whatever ended the run, after its cleanup: what it cost so far (a job that ran, an endpoint that served).
    const book = cost;
    if (book) await CancellationScope.nonCancellable(() => book.measured(bookkeeping.measureCost));
    run.ended(err);
    await notifier.runEnded();
    throw err;
  }
}

/**
 * Step 4's pure half (checks.ts): a VM size or inference instance type the model does not allow fails the run
 * here, reported as the validateCompute step, before any data is read or any cluster exists.
 */
async function refuseOutsideAllowLists(
  run: Progress,
  spec: ReturnType<typeof sizedSpec<FineTuneInput['spec']>>,
  model: StepResult<'resolveModel'>,
  at: number | undefined,
): Promise<void> {
  const refusal = allowListFailure(spec, model, at);
  if (refusal) await run.step('validateCompute', () => Promise.reject(refusal));
}

/**
 * Step 6: follows the job; with a training budget (budget.maxTrainingMinutes, or the time budget.maxCost leaves
 * it: runCost.ts), gives up when the first of them runs out, and so cancels the job.
 */
async function followJob(
  wait: ActivityGroups['wait'],
  jobName: string,
  budget: { maxMinutes: number | undefined; cost: RunCostBook },
  run: Progress,
): Promise<StepResult<'awaitPipeline'>> {
  const minutesMs = budget.maxMinutes !== undefined ? budget.maxMinutes * 60_000 : undefined;
  const costMs = budget.cost.trainingLimitMs();
  const budgetMs = minutesMs === undefined ? costMs : costMs === undefined ? minutesMs : Math.min(minutesMs, costMs);
  if (budgetMs === undefined) return wait.awaitPipeline(jobName);
  const started = Date.now();
  try {
    return await CancellationScope.withTimeout(budgetMs, () => wait.awaitPipeline(jobName));
  } catch (err) {
    if (isCancellation(err) && Date.now() - started >= budgetMs) {
      if (budgetMs === minutesMs) {
        run.record.outcome = 'training-budget-exceeded';
        throw ApplicationFailure.nonRetryable(
          `training job ${jobName} ran longer than budget.maxTrainingMinutes (${budget.maxMinutes} min); it was cancelled`,
          'TrainingBudgetExceeded',
        );
      }
      throw ApplicationFailure.nonRetryable(
        budget.cost.trainingOverBudget(jobName, Date.now() - started),
        'CostBudgetExceeded',
      );
    }
    throw err;
  }
}

/** The metrics and the quality gate's verdict go on the run's record; a failed gate ends the run here. */
function passedQualityGate(
  run: Progress,
  qualityGate: FineTuneInput['spec']['qualityGate'],
  metrics: Record<string, number>,
): GateEvaluation {
  run.record.metrics = metrics;
  const gate = evaluateQualityGate(qualityGate, metrics);
  run.record.qualityGate = gate;
  if (gate.passed) return gate;
  run.record.outcome = 'quality-gate-failed';
  throw ApplicationFailure.nonRetryable(
    `quality gate failed: ${gate.checks
      .filter((c) => !c.passed)
      .map((c) => c.reason)
      .join('; ')}. No model was registered and no endpoint created`,
    'QualityGateFailed',
    gate,
  );
}
