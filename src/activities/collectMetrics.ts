// Step 7. Reads the job's training and evaluation metrics from the workspace's MLflow tracking service
// (the run logging `epoch` is the training run). Read-only, so idempotent; perplexity = exp(eval_loss).
import type { ActivityDeps } from './deps';
import type { CollectMetricsInput, CollectedMetrics } from './types';
import { classified } from '../azure/errors';

export function makeCollectMetrics(deps: ActivityDeps) {
  return async function collectMetrics(input: CollectMetricsInput): Promise<CollectedMetrics> {
    return classified('collectMetrics', async () => {
      const mlflow = await deps.mlflow();
      const { final, runsSeen } = await mlflow.jobMetrics(input.experimentName, input.jobName);
      const metrics = { ...final };
      if (typeof metrics.eval_loss === 'number' && !('perplexity' in metrics))
        metrics.perplexity = Math.exp(metrics.eval_loss);
      return { metrics, runsSeen };
    });
  };
}
