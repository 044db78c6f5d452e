// The service's own metrics on the worker side, recorded through the Temporal runtime's meter so they are
// served by the same Prometheus endpoint as the SDK's (FTFLOW_METRICS_ADDRESS). Until the worker installs
// the runtime's meter (and in tests that build activities directly) they go to a no-op meter.
import { noopMetricMeter, type MetricCounter, type MetricHistogram, type MetricMeter } from '@temporalio/common';
import { METRIC } from './metricNames';

export interface ServiceMetrics {
  stepDuration: MetricHistogram;
  azureCalls: MetricCounter;
  azureThrottled: MetricCounter;
}

function createServiceMetrics(meter: MetricMeter): ServiceMetrics {
  return {
    stepDuration: meter.createHistogram(
      METRIC.stepDuration,
      'float',
      's',
      'Duration of one attempt of a step (activity), by step and outcome',
    ),
    azureCalls: meter.createCounter(
      METRIC.azureCalls,
      'calls',
      'HTTP attempts to Azure by client, method and status code',
    ),
    azureThrottled: meter.createCounter(
      METRIC.azureThrottled,
      'calls',
      'Azure attempts answered 429 Too Many Requests',
    ),
  };
}

let current: ServiceMetrics = createServiceMetrics(noopMetricMeter);

/** Records from now on through `meter` (the worker passes Runtime.instance().metricMeter). */
export function installServiceMetrics(meter: MetricMeter): ServiceMetrics {
  current = createServiceMetrics(meter);
  return current;
}

export function serviceMetrics(): ServiceMetrics {
  return current;
}
