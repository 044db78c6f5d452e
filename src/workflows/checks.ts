// The refusals the workflow itself makes, shared by a run (fineTune) and its dry run (planFineTune) so both
// fail with the same failure, type and message: a size the model's allow lists refuse, and an estimate over
// budget.maxCost (or one budget.maxCost cannot be held to). Pure: no I/O, no clock of its own.
import { ApplicationFailure } from '@temporalio/workflow';
import { budgetRefusal } from '../cost/budget';
import type { CostEstimate } from '../cost/types';
import { finetuneSizeRefusal, inferenceTypeCheck } from '../runSpec/computeAllowLists';
import type { ResolvedModel } from '../activities/types';

/**
 * Step 4's pure half: a VM size or inference instance type the model does not allow. With `at` (runs since
 * patch sizes-from-model, and every dry run), a retired size the model's allow list does not name is refused too.
 */
export function allowListFailure(
  spec: {
    compute: { vmSize: string };
    deployment: { instanceType: string; allowInstanceTypeOutsideAllowList: boolean };
  },
  model: Pick<ResolvedModel, 'finetuneComputeAllowList' | 'inferenceComputeAllowList'>,
  at: number | undefined,
): ApplicationFailure | undefined {
  const refusal =
    finetuneSizeRefusal(spec.compute.vmSize, model.finetuneComputeAllowList, 'compute.vmSize', at) ??
    inferenceTypeCheck(
      spec.deployment.instanceType,
      model.inferenceComputeAllowList,
      spec.deployment.allowInstanceTypeOutsideAllowList,
      at,
    ).refusal;
  return refusal ? ApplicationFailure.nonRetryable(refusal.message, refusal.code) : undefined;
}

/** An estimate over budget.maxCost, or one it cannot be held to (a size without a price): refused before the job. */
export function costBudgetFailure(estimate: CostEstimate, maxCost: number | undefined): ApplicationFailure | undefined {
  if (maxCost === undefined) return undefined;
  const refusal = budgetRefusal(estimate, maxCost);
  return refusal ? ApplicationFailure.nonRetryable(refusal.message, refusal.code) : undefined;
}
