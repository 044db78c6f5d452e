// Counts every HTTP attempt to Azure by status (a pipeline policy placed after the retry policy, so
// each retry is seen) and the ones Azure throttled with 429.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { serviceMetrics } from './metrics';

export type AzureClientName = 'arm' | 'rest';

export function azureCallMetricsPolicy(client: AzureClientName): PipelinePolicy {
  return {
    name: `finetuneFlowAzureCallMetrics-${client}`,
    async sendRequest(request, next) {
      const metrics = serviceMetrics();
      const method = request.method;
      try {
        const response = await next(request);
        metrics.azureCalls.add(1, { client, method, status: String(response.status) });
        if (response.status === 429) metrics.azureThrottled.add(1, { client });
        return response;
      } catch (err) {
        const status = (err as { statusCode?: unknown }).statusCode;
        metrics.azureCalls.add(1, {
          client,
          method,
          status: typeof status === 'number' ? String(status) : 'network-error',
        });
        if (status === 429) metrics.azureThrottled.add(1, { client });
        throw err;
      }
    },
  };
}
