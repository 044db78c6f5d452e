// What the run is expected to cost, before its job is submitted (and a dry run's estimate): the job's epochs
// and nodes from the merged training inputs, the slices' rows and bytes, the endpoint's window, at the price
// table's list prices (src/cost/estimate.ts states every assumption). Reads only (the pipeline component);
// idempotent. The budget check on it is the workflow's (src/cost/budget.ts).
import type { ActivityDeps } from './deps';
import type { EstimateCostInput } from './types';
import type { CostEstimate } from '../cost/types';
import { classified } from '../azure/errors';
import { estimateRunCost } from '../cost/estimate';
import { describeJob } from './trainingInputs';

export function makeEstimateCost(deps: ActivityDeps) {
  return async function estimateCost(input: EstimateCostInput): Promise<CostEstimate> {
    return classified('estimateCost', async () => {
      const { spec, model, compute, data } = input;
      const job = await describeJob(deps, spec, model, compute.gpusPerNode);
      const t = job.training;
      return estimateRunCost(
        {
          region: input.location,
          model: { name: model.name },
          training: {
            vmSize: compute.vmSize,
            nodes: t.nodes,
            gpusPerNode: compute.gpusPerNode,
            epochs: t.epochs,
            ...(t.maxSteps > 0 ? { maxSteps: { steps: t.maxSteps, rowsPerStepPerGpu: t.rowsPerStepPerGpu } } : {}),
            train: { rows: data.train.rows, bytes: data.train.bytes },
            test: { rows: data.test.rows, bytes: data.test.bytes },
          },
          endpoint: {
            instanceType: spec.deployment.instanceType,
            instances: spec.deployment.instanceCount,
            livenessInitialDelaySeconds: spec.deployment.livenessInitialDelaySeconds,
            keepAliveMinutes: spec.deployment.keepAliveMinutes,
          },
        },
        deps.prices,
      );
    });
  };
}
