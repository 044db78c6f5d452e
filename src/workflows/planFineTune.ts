// A dry run: the checks of a run's first steps, on the workers (where the Azure credentials are), without
// creating, uploading or submitting anything, and what the run would do and cost. The same activities as a
// run's, read-only (stageDataset and validateCompute in their readOnly mode), in the run's order, and the
// same refusals (checks.ts): a spec a run would refuse fails here with the same failure, type and message.
// Started by FineTuneClient.plan() under a plan-<uuid> id; it records nothing on any run.
import { deriveRunNames, fineTunedModelName } from '../runSpec/names';
import { sizedSpec } from '../runSpec/sizePicking';
import { activityGroups } from './activityOptions';
import { allowListFailure, costBudgetFailure } from './checks';
import { trainingCheck } from './compat';
import type { FineTunePlan, PlanFineTuneInput } from './definitions';

export async function planFineTune(input: PlanFineTuneInput): Promise<FineTunePlan> {
  const { spec } = input;
  const names = deriveRunNames(input.runId);
  const { quick, long } = activityGroups(input.options);
  const warnings: string[] = [];

  // 1-2. The credential and the workspace; the model, its component and the training values; the sizes.
  const workspace = await quick.authenticate();
  const model = await quick.resolveModel(spec.model, trainingCheck(spec, true));
  warnings.push(...(model.sizes?.warnings ?? []));
  const sized = sizedSpec(spec, model.sizes);

  // 3-4. The allow lists, the data's first rows (nothing staged), the cluster and the quota (nothing created).
  const refused = allowListFailure(sized, model, Date.now());
  if (refused) throw refused;
  const data = await long.stageDataset({ dataset: spec.dataset, readOnly: true });
  warnings.push(...(data.warnings ?? []));
  const compute = await long.validateCompute({
    compute: sized.compute,
    deployment: sized.deployment,
    model,
    readOnly: true,
  });
  warnings.push(...compute.warnings);

  // 5. The job it would submit, and what the run would cost (held to budget.maxCost as a run is).
  const job = await quick.describeJob({ spec: sized, model, compute });
  warnings.push(...job.warnings);
  const cost = await quick.estimateCost({ spec: sized, model, compute, data, location: workspace.location });
  warnings.push(...cost.warnings);
  const overBudget = costBudgetFailure(cost, spec.budget.maxCost);
  if (overBudget) throw overBudget;

  return {
    object: 'fine_tune_plan',
    runId: input.runId,
    namesFixed: input.namesFixed,
    names: {
      jobName: names.jobName,
      endpointName: names.endpointName,
      deploymentName: spec.deployment.name,
      registeredModel: fineTunedModelName(model.name, spec.dataset.source),
      modelVersion: 'next',
      experimentName: spec.experimentName ?? `chat_completion_${spec.model.name}`,
      computeName: compute.name,
      blobs: { train: data.train.blobPath, test: data.test.blobPath, scoring: data.scoring.blobPath },
    },
    workspace,
    model: { registry: model.registry, name: model.name, version: model.version, assetId: model.assetId },
    compute,
    deployment: {
      instanceType: sized.deployment.instanceType,
      instanceCount: sized.deployment.instanceCount,
      keepAliveMinutes: sized.deployment.keepAliveMinutes,
    },
    job,
    data: {
      revision: data.revision,
      contentKey: data.contentKey,
      train: data.train,
      test: data.test,
      scoring: data.scoring,
    },
    cost,
    ...(spec.budget.maxCost !== undefined ? { maxCostUsd: spec.budget.maxCost } : {}),
    warnings,
  };
}
