// Compatibility with runs already in flight (docs/design.md, invariant 5): every `patched()` call of the
// fineTune workflow and the branch it guards, and the defaults of spec fields added since the first runs.
// A run started before a change keeps the behaviour it started with; the recorded histories in
// test/fixtures/histories/ replay both sides of each patch (test/workflows/replay.test.ts).
import { patched } from '@temporalio/workflow';
import type { TrainingCheck } from '../activities/resolveModel';
import type { RunSpec } from '../runSpec/schema';
import type { FineTuneInput } from './definitions';

type Spec = FineTuneInput['spec'];

/** Patch id: runs started since stage the dataset before validateCompute may create a cluster. */
const STAGE_BEFORE_CLUSTER = 'stage-dataset-before-cluster';
/**
 * Patch id: a step that fails after the run's cancellation was requested ends the run cancelled, not failed
 * (issue 13 item 5). Set only in runs that take that path; histories recorded before it replay as they ran.
 */
const CANCEL_STAYS_CANCEL = 'cancel-stays-cancel';

/**
 * Patch id: runs started since pass the spec's compute and deployment to resolveModel, which chooses the
 * sizes the spec leaves unset from the model's allow lists and the quota, and the allow-list check refuses
 * retired VM sizes by name (issue 15 item 5). Runs from before it use the sizes their spec carries (every
 * spec had them then) and refuse only what the allow lists refuse.
 */
const SIZES_FROM_MODEL = 'sizes-from-model';

/**
 * Patch id: runs started since estimate their cost before the job is submitted (estimateCost), hold it to
 * budget.maxCost, and measure what they cost once they end (measureCost) (issue 18 item 3). Runs from
 * before it have no cost on their record.
 */
const RUN_COST = 'run-cost';

/**
 * Patch id: runs started since with webhooks (an owner API key, or notifications in the spec) ask who listens
 * (the webhookAudience activity) and start a notification workflow per event heard (notifier.ts). Asked only by
 * runs that have webhooks, so the histories of runs without them are unchanged.
 */
const WEBHOOKS = 'webhooks';

/** The spec as an older client may have sent it: fields added since are missing. */
type OlderSpec = Omit<Spec, 'budget' | 'qualityGate' | 'deployment'> & {
  budget?: Spec['budget'];
  qualityGate?: Spec['qualityGate'];
  deployment: Omit<Spec['deployment'], 'keepAliveMinutes'> & { keepAliveMinutes?: number };
};

/** Runs started before budget, qualityGate and keepAliveMinutes existed get their defaults, so they replay unchanged. */
export function withLaterDefaults(spec: OlderSpec): Spec {
  return {
    ...spec,
    budget: spec.budget ?? {},
    qualityGate: spec.qualityGate ?? {},
    deployment: { ...spec.deployment, keepAliveMinutes: spec.deployment.keepAliveMinutes ?? 0 },
  };
}

/**
 * Steps 3 and 4 in the run's order (docs/design.md, "Order as built"). Since patch
 * `stage-dataset-before-cluster`, bad data fails the run before a cluster is created: the allow lists are
 * checked (pure), then the data is staged, then the cluster is found or created. Runs started before it
 * look the cluster up first, then stage the data.
 */
export async function computeAndData<C, D>(steps: {
  checkAllowLists: () => Promise<void>;
  stageDataset: () => Promise<D>;
  validateCompute: () => Promise<C>;
}): Promise<{ compute: C; data: D }> {
  if (patched(STAGE_BEFORE_CLUSTER)) {
    await steps.checkAllowLists();
    const data = await steps.stageDataset();
    return { compute: await steps.validateCompute(), data };
  }
  const compute = await steps.validateCompute();
  return { compute, data: await steps.stageDataset() };
}

/**
 * Whether a step's failure after the run's cancellation was requested ends the run as a cancellation
 * (progress.ts, endedByCancel). Asked only on that path, so only runs that take it carry the marker;
 * runs recorded before the patch let the failure stand.
 */
export function cancelStaysCancel(): boolean {
  return patched(CANCEL_STAYS_CANCEL);
}

/**
 * What resolveModel is asked besides the model. Since patch `sizes-from-model` that includes the spec's
 * compute and deployment, whose unset sizes it chooses; `choosesSizes` also tells the pure allow-list check
 * to refuse retired sizes. Runs from before the patch ask only about the training values.
 */
export function resolveModelRequest(spec: RunSpec): { check: TrainingCheck; choosesSizes: boolean } {
  const choosesSizes = patched(SIZES_FROM_MODEL);
  return { check: trainingCheck(spec, choosesSizes), choosesSizes };
}

/** What resolveModel checks besides the model: the training values, and (choosing sizes) the sizes to choose. */
export function trainingCheck(spec: RunSpec, choosesSizes: boolean): TrainingCheck {
  return {
    pipelineComponent: spec.pipelineComponent,
    training: spec.training,
    ...(choosesSizes
      ? {
          compute: { vmSize: spec.compute.vmSize, maxNodes: spec.compute.maxNodes },
          deployment: { instanceType: spec.deployment.instanceType, instanceCount: spec.deployment.instanceCount },
        }
      : {}),
  };
}

/** Whether this run estimates, budgets and measures its cost (patch `run-cost`). Asked once, before the estimate. */
export function runsCost(): boolean {
  return patched(RUN_COST);
}

/** Whether this run sends webhook notifications (patch `webhooks`); ask only when it has an owner or spec webhooks. */
export function notifiesWebhooks(): boolean {
  return patched(WEBHOOKS);
}
