// Names of the service's own metrics, shared by the workflow interceptors (sandboxed, so this file
// imports nothing), the worker-side recorders, docs/operations.md (Metrics) and the tests. Counters
// end in _total and durations are in seconds, as Prometheus expects.
export const METRIC = {
  /** Counter: runs that ended, by outcome (succeeded, failed, cancelled, quality-gate-failed, training-budget-exceeded, cost-budget-exceeded). */
  runs: 'ftflow_runs_total',
  /** Histogram: a run's wall time from start to end, seconds, by outcome. */
  runDuration: 'ftflow_run_duration_seconds',
  /** Histogram: one attempt of one step (activity), seconds, by step and outcome. */
  stepDuration: 'ftflow_step_duration_seconds',
  /** Counter: HTTP attempts to Azure (ARM SDK and REST client), by client, method and status code. */
  azureCalls: 'ftflow_azure_calls_total',
  /** Counter: attempts Azure answered with 429 Too Many Requests, by client. */
  azureThrottled: 'ftflow_azure_throttled_total',
  /** Counter: seconds an online endpoint of a run existed (deploy start to confirmed delete), by instance type. */
  endpointSeconds: 'ftflow_endpoint_seconds_total',
  /** Histogram: what a run cost, US dollars at list prices (measured after it), by model, VM size and instance type. */
  runCost: 'ftflow_run_cost_usd',
} as const;

/** Bucket boundaries in US dollars: from a local emulator's fractions of a cent to a large fine-tune. */
export const COST_BUCKETS_USD = [0.01, 0.1, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000];

/** Bucket boundaries in seconds: from sub-second calls to day-long training jobs. */
export const DURATION_BUCKETS_SECONDS = [
  0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400,
];
