// The run: the seed notebook's cells as durable steps. Pure orchestration; every side effect is an
// activity, every Azure name is derived from the workflow id, and cleanup runs in non-cancellable scopes:
// a submitted job is cancelled unless it finished, and the endpoint is ALWAYS deleted.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  log,
  patched,
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
import { evaluateQualityGate } from '../spec/qualityGate';
import { finetuneSizeRefusal, inferenceTypeCheck } from '../spec/computeAllowLists';
import { MAX_KEEP_ALIVE_MINUTES } from '../spec/defaults';
import {
  STEPS,
  endpointLifetimeUpdate,
  progressQuery,
  type FineTuneInput,
  type FineTuneResult,
  type RunOutcome,
  type RunProgress,
  type StepName,
} from './definitions';

type Activities = ReturnType<typeof createActivities>;

type Spec = FineTuneInput['spec'];

/** The spec as an older client may have sent it: fields added since are missing. */
type OlderSpec = Omit<Spec, 'budget' | 'qualityGate' | 'deployment'> & {
  budget?: Spec['budget'];
  qualityGate?: Spec['qualityGate'];
  deployment: Omit<Spec['deployment'], 'keepAliveMinutes'> & { keepAliveMinutes?: number };
};

/** Runs started before budget, qualityGate and keepAliveMinutes existed get their defaults, so they replay unchanged. */
function withLaterDefaults(spec: OlderSpec): Spec {
  return {
    ...spec,
    budget: spec.budget ?? {},
    qualityGate: spec.qualityGate ?? {},
    deployment: { ...spec.deployment, keepAliveMinutes: spec.deployment.keepAliveMinutes ?? 0 },
  };
}

/** Patch id: runs started since stage the dataset before validateCompute may create a cluster. */
const STAGE_BEFORE_CLUSTER = 'stage-dataset-before-cluster';
/**
 * Patch id: a step that fails after the run's cancellation was requested ends the run cancelled, not failed
 * (issue 13 item 5). Set only in runs that take that path; histories recorded before it replay as they ran.
 */
const CANCEL_STAYS_CANCEL = 'cancel-stays-cancel';

/** What a failure says, for the run's record: the cause's message when there is one (an activity's error). */
function messageOf(err: unknown): string {
  return err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
}

function activityGroups(heartbeatTimeoutSeconds: number, quickStepTimeoutSeconds: number) {
  const heartbeatTimeout = heartbeatTimeoutSeconds * 1000;
  const quickTimeout = quickStepTimeoutSeconds * 1000;
  const retry: RetryPolicy = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' };
  const long: ActivityOptions = {
    heartbeatTimeout,
    // Cleanup must not start while a deployment is still being created.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
  return {
    // Reads and idempotent writes that answer in seconds.
    quick: proxyActivities<Activities>({ startToCloseTimeout: quickTimeout, retry: { ...retry, maximumAttempts: 20 } }),
    // Submitting the GPU job: on cancellation the workflow waits for the attempt to settle, so the
    // job cleanup that follows sees the job it may have created (an abandoned attempt could PUT later).
    submit: proxyActivities<Activities>({
      startToCloseTimeout: quickTimeout,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { ...retry, maximumAttempts: 20 },
    }),
    // Heartbeating steps that wait on Azure (cluster creation, upload, deployment, scoring).
    long: proxyActivities<Activities>({
      ...long,
      startToCloseTimeout: '6 hours',
      retry: { ...retry, maximumAttempts: 20 },
    }),
    // Following a training job: for days if need be; a worker crash resumes after the heartbeat timeout.
    // It only reads, so on cancellation the workflow need not wait for it: cancelling the GPU job at once
    // matters more than the follower noticing (its next heartbeat stops it).
    wait: proxyActivities<Activities>({
      ...long,
      cancellationType: ActivityCancellationType.TRY_CANCEL,
      startToCloseTimeout: '30 days',
      retry,
    }),
    // Cleanup: retried until it succeeds (no attempt limit), run in non-cancellable scopes.
    cleanup: proxyActivities<Activities>({ heartbeatTimeout, startToCloseTimeout: '1 hour', retry }),
  };
}

export async function fineTune(input: FineTuneInput): Promise<FineTuneResult> {
  const spec = withLaterDefaults(input.spec);
  const runId = workflowInfo().workflowId;
  const names = deriveRunNames(runId);
  const { quick, submit, long, wait, cleanup } = activityGroups(
    input.options?.heartbeatTimeoutSeconds ?? 30,
    input.options?.quickStepTimeoutSeconds ?? 300,
  );
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

  // Endpoint keep-alive: set while the endpoint is kept serving after the smoke test.
  let keepAlive: { expiresAt: number; changed: boolean } | undefined;
  setHandler(
    endpointLifetimeUpdate,
    (change) => {
      if (!keepAlive) throw ApplicationFailure.nonRetryable('the endpoint is not being kept alive');
      keepAlive.expiresAt = change.endNow ? Date.now() : keepAlive.expiresAt + (change.extendMinutes ?? 0) * 60_000;
      keepAlive.changed = true;
      progress.endpointExpiresAt =
        keepAlive.expiresAt > Date.now() ? new Date(keepAlive.expiresAt).toISOString() : undefined;
      return { expiresAt: progress.endpointExpiresAt ?? null };
    },
    {
      validator: (change) => {
        if (!keepAlive)
          throw new Error(
            'the endpoint is not being kept alive (deployment.keepAliveMinutes was 0, or it has expired)',
          );
        if (!change.endNow && !(typeof change.extendMinutes === 'number' && change.extendMinutes > 0)) {
          throw new Error('give extendMinutes > 0, or endNow: true');
        }
        if (
          !change.endNow &&
          keepAlive.expiresAt + (change.extendMinutes ?? 0) * 60_000 - Date.now() > MAX_KEEP_ALIVE_MINUTES * 60_000
        ) {
          throw new Error(`an endpoint may be kept at most ${MAX_KEEP_ALIVE_MINUTES} minutes ahead`);
        }
      },
    },
  );
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
    } catch (thrown) {
      const err = endedByCancel(name, thrown);
      state.status = isCancellation(err) ? 'cancelled' : 'failed';
      state.detail = messageOf(err);
      throw err;
    } finally {
      state.endedAt = new Date().toISOString();
    }
  }

  /**
   * The one place the run decides whether a step's failure ends it as a cancellation (docs/design.md,
   * invariant 1). Once the run's cancellation has been requested, the step was asked to stop; whatever it
   * reports after that (a heartbeat timeout because its worker died before it acknowledged the cancel, a
   * start-to-close timeout, an Azure error that landed late: any failure) ends the run as cancelled, so it
   * closes CANCELLED after the same cleanup a cancel gets (the job cancelled, the endpoint deleted). A
   * failure reported before the request stays a failure, and so do the steps of a non-cancellable cleanup
   * scope (their scope is never considered cancelled).
   */
  function endedByCancel(name: StepName, err: unknown): unknown {
    if (isCancellation(err) || !CancellationScope.current().consideredCancelled) return err;
    if (!patched(CANCEL_STAYS_CANCEL)) return err;
    log.warn('step failed after the run was cancelled: the run ends cancelled', { step: name, error: messageOf(err) });
    return new CancelledFailure(`cancelled; ${name} then ended with: ${messageOf(err)}`);
  }

  /** Follows the job; with a training budget, gives up (and so cancels the job) when it runs out. */
  async function followJob(jobName: string) {
    const maxMinutes = spec.budget.maxTrainingMinutes;
    const budgetMs = maxMinutes !== undefined ? maxMinutes * 60_000 : undefined;
    if (budgetMs === undefined) return wait.awaitPipeline(jobName);
    const started = Date.now();
    try {
      return await CancellationScope.withTimeout(budgetMs, () => wait.awaitPipeline(jobName));
    } catch (err) {
      if (isCancellation(err) && Date.now() - started >= budgetMs) {
        progress.outcome = 'training-budget-exceeded';
        throw ApplicationFailure.nonRetryable(
          `training job ${jobName} ran longer than budget.maxTrainingMinutes (${maxMinutes} min); it was cancelled`,
          'TrainingBudgetExceeded',
        );
      }
      throw err;
    }
  }

  try {
    await step(
      'authenticate',
      () => quick.authenticate(),
      (r) => `workspace ${r.workspace} (${r.location})`,
    );
    const model = await step(
      'resolveModel',
      () => quick.resolveModel(spec.model, { pipelineComponent: spec.pipelineComponent, training: spec.training }),
      (m) => `${m.name} v${m.version}`,
    );
    const validateCompute = () =>
      step(
        'validateCompute',
        () => long.validateCompute({ compute: spec.compute, deployment: spec.deployment, model }),
        (c) => `${c.name} ${c.vmSize}, ${c.gpusPerNode} GPU(s)/node${c.created ? ', created' : ''}`,
      );
    const stageDataset = () =>
      step(
        'stageDataset',
        () => long.stageDataset({ dataset: spec.dataset }),
        (d) => `train ${d.train.rows} rows, test ${d.test.rows} rows`,
      );
    let compute;
    let data;
    if (patched(STAGE_BEFORE_CLUSTER)) {
      // Bad data must fail the run before a cluster is created: the allow lists are checked here (pure),
      // then the data is staged, then the cluster is found or created.
      const refusal =
        finetuneSizeRefusal(spec.compute.vmSize, model.finetuneComputeAllowList, 'compute.vmSize') ??
        inferenceTypeCheck(
          spec.deployment.instanceType,
          model.inferenceComputeAllowList,
          spec.deployment.allowInstanceTypeOutsideAllowList,
        ).refusal;
      if (refusal)
        await step('validateCompute', () =>
          Promise.reject(ApplicationFailure.nonRetryable(refusal.message, refusal.code)),
        );
      data = await stageDataset();
      compute = await validateCompute();
    } else {
      compute = await validateCompute();
      data = await stageDataset();
    }
    progress.warnings.push(...compute.warnings);

    // From here on a GPU job may exist: unless it completes, cancel it whatever ends the run.
    let jobFinished = false;
    let job;
    let jobStatus;
    try {
      job = await step(
        'submitPipeline',
        () => submit.submitPipeline({ names, spec, experimentName, model, compute, data }),
        (j) => `${j.jobName}${j.adopted ? ' (adopted)' : ''}`,
      );
      progress.warnings.push(...job.warnings);
      progress.jobName = job.jobName;
      const submitted = job;
      jobStatus = await step(
        'awaitPipeline',
        () => followJob(submitted.jobName),
        (o) => o.status,
      );
      jobFinished = true;
    } finally {
      if (!jobFinished) {
        await CancellationScope.nonCancellable(async () => {
          const outcome = await cleanup.cancelPipeline(names.jobName);
          log.info('pipeline job cleanup', { jobName: names.jobName, status: outcome.status });
        });
      }
    }

    const metrics = await step(
      'collectMetrics',
      () => quick.collectMetrics({ jobName: job.jobName, experimentName }),
      (m) => `${Object.keys(m.metrics).length} metrics`,
    );
    progress.metrics = metrics.metrics;
    const gate = evaluateQualityGate(spec.qualityGate, metrics.metrics);
    progress.qualityGate = gate;
    if (!gate.passed) {
      progress.outcome = 'quality-gate-failed';
      throw ApplicationFailure.nonRetryable(
        `quality gate failed: ${gate.checks
          .filter((c) => !c.passed)
          .map((c) => c.reason)
          .join('; ')}. No model was registered and no endpoint created`,
        'QualityGateFailed',
        gate,
      );
    }
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
    let servingSince: number | undefined;
    try {
      servingSince = Date.now();
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
      await keepServing(spec.deployment.keepAliveMinutes);
    } finally {
      deletion = await CancellationScope.nonCancellable(() =>
        step(
          'deleteEndpoint',
          () => cleanup.deleteEndpoint(names.endpointName),
          (d) => (d.existed ? 'deleted' : 'nothing to delete'),
        ),
      );
      progress.endpointExpiresAt = undefined;
    }

    progress.status = 'succeeded';
    progress.outcome = 'succeeded';
    upsertSearchAttributes([{ key: SA.status, value: 'succeeded' }]);
    return {
      runId,
      status: 'succeeded',
      model: { registry: model.registry, name: model.name, version: model.version, assetId: model.assetId },
      compute,
      data: { revision: data.revision, train: data.train, test: data.test, scoring: data.scoring },
      job: { ...job, status: jobStatus.status },
      metrics: metrics.metrics,
      qualityGate: gate,
      registeredModel,
      endpoint: {
        ...deletion,
        scoringUri: deployed.scoringUri,
        servedSeconds: Math.round((Date.now() - servingSince) / 1000),
      },
      smokeScore: score,
      warnings: progress.warnings,
      steps: progress.steps,
    };
  } catch (err) {
    const cancelled = isCancellation(err);
    progress.status = cancelled ? 'cancelled' : 'failed';
    progress.outcome ??= cancelled ? 'cancelled' : 'failed';
    progress.error = messageOf(err);
    for (const s of progress.steps) if (s.status === 'pending') s.status = 'skipped';
    upsertSearchAttributes([{ key: SA.status, value: progress.outcome as RunOutcome }]);
    throw err;
  }

  /** Keeps the endpoint up for its keep-alive time; the endpointLifetime update extends it or ends it now. */
  async function keepServing(minutes: number): Promise<void> {
    if (minutes <= 0) return;
    const state = { expiresAt: Date.now() + minutes * 60_000, changed: false };
    keepAlive = state;
    progress.endpointExpiresAt = new Date(state.expiresAt).toISOString();
    try {
      while (Date.now() < state.expiresAt) {
        state.changed = false;
        await condition(() => state.changed, state.expiresAt - Date.now());
      }
    } finally {
      keepAlive = undefined;
    }
  }
}
