// The run: the seed notebook's cells as durable steps. Pure orchestration; every side effect is an
// activity, every Azure name is derived from the workflow id, and cleanup runs in non-cancellable scopes:
// a submitted job is cancelled unless it finished, and the endpoint is ALWAYS deleted.
import {
  ActivityCancellationType,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { FINETUNE_SEARCH_ATTRIBUTES as SA } from '../config/searchAttributes';
import { deriveRunNames, fineTunedModelName } from '../spec/names';
import { STEPS, progressQuery, type FineTuneInput, type FineTuneResult, type RunProgress, type StepName } from './definitions';

type Activities = ReturnType<typeof createActivities>;

function activityGroups(heartbeatTimeoutSeconds: number) {
  const heartbeatTimeout = heartbeatTimeoutSeconds * 1000;
  const retry: RetryPolicy = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' };
  const long: ActivityOptions = {
    heartbeatTimeout,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
  return {
    // Reads and idempotent writes that answer in seconds.
    quick: proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', retry: { ...retry, maximumAttempts: 20 } }),
    // Heartbeating steps that wait on Azure (cluster creation, upload, deployment, scoring).
    long: proxyActivities<Activities>({ ...long, startToCloseTimeout: '6 hours', retry: { ...retry, maximumAttempts: 20 } }),
    // Following a training job: for days if need be; a worker crash resumes after the heartbeat timeout.
    // It only reads, so on cancellation the workflow need not wait for it: cancelling the GPU job at once
    // matters more than the follower noticing (its next heartbeat stops it).
    wait: proxyActivities<Activities>({ ...long, cancellationType: ActivityCancellationType.TRY_CANCEL, startToCloseTimeout: '30 days', retry }),
    // Cleanup: retried until it succeeds (no attempt limit), run in non-cancellable scopes.
    cleanup: proxyActivities<Activities>({ heartbeatTimeout, startToCloseTimeout: '1 hour', retry }),
  };
}

export async function fineTune(input: FineTuneInput): Promise<FineTuneResult> {
  const { spec } = input;
  const runId = workflowInfo().workflowId;
  const names = deriveRunNames(runId);
  const { quick, long, wait, cleanup } = activityGroups(input.options?.heartbeatTimeoutSeconds ?? 30);
  const experimentName = spec.experimentName ?? `chat_completion_${spec.model.name}`;

  const progress: RunProgress = {
    runId,
    status: 'running',
    steps: STEPS.map((name) => ({ name, status: 'pending' })),
    jobName: names.jobName,
    endpointName: names.endpointName,
    warnings: [],
  };
  setHandler(progressQuery, () => progress);
  upsertSearchAttributes([
    { key: SA.status, value: 'running' },
    { key: SA.model, value: `${spec.model.registry}/${spec.model.name}` },
    { key: SA.dataset, value: spec.dataset.source },
  ]);

  /** Runs one step, keeping the progress record and the FineTuneStage search attribute current. */
  async function step<T>(name: StepName, run: () => Promise<T>, detail?: (result: T) => string): Promise<T> {
    const state = progress.steps.find((s) => s.name === name);
    if (!state) throw new Error(`unknown step ${name}`);
    state.status = 'running';
    state.startedAt = new Date().toISOString();
    progress.currentStep = name;
    upsertSearchAttributes([{ key: SA.stage, value: name }]);
    try {
      const result = await run();
      state.status = 'completed';
      state.detail = detail?.(result);
      return result;
    } catch (err) {
      state.status = isCancellation(err) ? 'cancelled' : 'failed';
      state.detail = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      state.endedAt = new Date().toISOString();
    }
  }

  try {
    await step('authenticate', () => quick.authenticate(), (r) => `workspace ${r.workspace} (${r.location})`);
    const model = await step('resolveModel', () => quick.resolveModel(spec.model), (m) => `${m.name} v${m.version}`);
    const compute = await step(
      'validateCompute',
      () => long.validateCompute({ compute: spec.compute, deployment: spec.deployment, model }),
      (c) => `${c.name} ${c.vmSize}, ${c.gpusPerNode} GPU(s)/node${c.created ? ', created' : ''}`,
    );
    progress.warnings.push(...compute.warnings);
    const data = await step('stageDataset', () => long.stageDataset({ dataset: spec.dataset }), (d) => `train ${d.train.rows} rows, test ${d.test.rows} rows`);

    // From here on a GPU job may exist: unless it completes, cancel it whatever ends the run.
    let jobFinished = false;
    let job;
    let jobStatus;
    try {
      job = await step(
        'submitPipeline',
        () => quick.submitPipeline({ names, spec, experimentName, model, compute, data }),
        (j) => `${j.jobName}${j.adopted ? ' (adopted)' : ''}`,
      );
      progress.warnings.push(...job.warnings);
      const submitted = job;
      jobStatus = await step('awaitPipeline', () => wait.awaitPipeline(submitted.jobName), (o) => o.status);
      jobFinished = true;
    } finally {
      if (!jobFinished) {
        await CancellationScope.nonCancellable(async () => {
          const outcome = await cleanup.cancelPipeline(names.jobName);
          log.info('pipeline job cleanup', { jobName: names.jobName, status: outcome.status });
        });
      }
    }

    const metrics = await step('collectMetrics', () => quick.collectMetrics({ jobName: job.jobName, experimentName }));
    progress.metrics = metrics.metrics;
    const registeredModel = await step(
      'registerModel',
      () =>
        quick.registerModel({
          jobName: job.jobName,
          modelName: fineTunedModelName(model.name, spec.dataset.source),
          version: names.modelVersion,
          description: `${model.name} fine tuned model for ${spec.dataset.source} chat-completion (finetune-flow run ${runId})`,
          runId,
        }),
      (m) => `${m.name}:${m.version}`,
    );

    let deployed;
    let score;
    let deletion;
    try {
      deployed = await step('deployEndpoint', () =>
        long.deployEndpoint({
          runId,
          endpointName: names.endpointName,
          deployment: spec.deployment,
          modelId: registeredModel.id,
          modelName: registeredModel.name,
          inferenceComputeAllowList: model.inferenceComputeAllowList,
        }),
      );
      const endpoint = deployed;
      score = await step(
        'smokeScore',
        () =>
          long.smokeScore({
            endpointName: endpoint.endpointName,
            deploymentName: endpoint.deploymentName,
            sampleBlobPath: data.scoring.blobPath,
            parameters: spec.scoring.parameters,
          }),
        (s) => `${s.replyChars} chars in ${s.latencyMs} ms`,
      );
    } finally {
      deletion = await CancellationScope.nonCancellable(() =>
        step('deleteEndpoint', () => cleanup.deleteEndpoint(names.endpointName), (d) => (d.existed ? 'deleted' : 'nothing to delete')),
      );
    }

    progress.status = 'succeeded';
    upsertSearchAttributes([{ key: SA.status, value: 'succeeded' }]);
    return {
      runId,
      status: 'succeeded',
      model: { registry: model.registry, name: model.name, version: model.version, assetId: model.assetId },
      compute,
      data: { revision: data.revision, train: data.train, test: data.test, scoring: data.scoring },
      job: { ...job, status: jobStatus.status },
      metrics: metrics.metrics,
      registeredModel,
      endpoint: { ...deletion, scoringUri: deployed.scoringUri },
      smokeScore: score,
      warnings: progress.warnings,
      steps: progress.steps,
    };
  } catch (err) {
    progress.status = isCancellation(err) ? 'cancelled' : 'failed';
    progress.error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    for (const s of progress.steps) if (s.status === 'pending') s.status = 'skipped';
    upsertSearchAttributes([{ key: SA.status, value: progress.status }]);
    throw err;
  }
}
