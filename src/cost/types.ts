// What a run costs, before (the estimate) and after (measured from Azure's own records), in US dollars at
// list prices. Plain data and a module that imports nothing: it travels in activity results, the run's
// record and the client's published types.

/** Where a figure's price came from: the table's snapshot and source (docs/operations.md, What a run costs). */
export interface PriceBasis {
  currency: 'USD';
  /** The region priced (the workspace's). */
  region: string;
  /** e.g. "Linux pay-as-you-go (Consumption) retail list price per hour". */
  priceType: string;
  snapshot: string;
  source: string;
}

/** One billed thing of the estimate: the training cluster's nodes or the endpoint's instances. */
export interface EstimatedLine {
  vmSize: string;
  /** Nodes of the cluster, or instances of the deployment. */
  count: number;
  /** Hours each node or instance is expected to be billed. */
  hours: number;
  /** List price of one node or instance per hour; null when the table has none for this size and region. */
  usdPerHour: number | null;
  /** count × hours × usdPerHour; null without a price. */
  usd: number | null;
}

export interface TrainingEstimate extends EstimatedLine {
  /** Training tokens of the slice (one epoch), estimated from its JSONL bytes. */
  trainTokens: number;
  /** Evaluation tokens of the test slice (one pass). */
  evalTokens: number;
  epochs: number;
  /** GPUs working on the job: GPUs per node × nodes. */
  gpus: number;
  /** The throughput assumed for one GPU of this kind on this model, tokens per second while training. */
  tokensPerSecondPerGpu: number;
  /** Hours of fine-tuning and evaluation proper (hours minus the fixed steps' time). */
  computeHours: number;
  /** Hours assumed for the pipeline's other steps (import, preprocessing, conversion) and node start. */
  overheadHours: number;
}

export interface EndpointEstimate extends EstimatedLine {
  /** Minutes from the deployment's creation to the smoke test's end (provisioning, liveness delay, scoring). */
  deployMinutes: number;
  /** deployment.keepAliveMinutes. */
  keepAliveMinutes: number;
  /** Minutes for the deletion to complete (billed until it does). */
  deleteMinutes: number;
}

export interface CostEstimate {
  /** training.usd + endpoint.usd; null when either has no price. */
  totalUsd: number | null;
  training: TrainingEstimate;
  endpoint: EndpointEstimate;
  prices: PriceBasis;
  /** Every assumption the figures rest on, in words (also in docs/operations.md). */
  assumptions: string[];
  /** What the estimate could not price or had to guess. */
  warnings: string[];
}

/** A training job as Azure reports it (its root run in RunHistory), and what that costs. */
export interface MeasuredJob {
  jobName: string;
  vmSize: string;
  nodes: number;
  /** When the job got its compute and when it ended (RunHistory startTimeUtc, endTimeUtc). */
  startedAt: string;
  endedAt: string;
  nodeSeconds: number;
  usdPerHour: number | null;
  usd: number | null;
}

/** A deployment of the run's endpoint, from its creation to its deletion, and what that costs. */
export interface MeasuredDeployment {
  name: string;
  instanceType: string;
  instances: number;
  createdAt: string;
  deletedAt: string;
  instanceSeconds: number;
  usdPerHour: number | null;
  usd: number | null;
}

export interface ActualCost {
  /** training.usd + endpoint.usd; null when a billed part has no price. */
  totalUsd: number | null;
  training: { jobs: MeasuredJob[]; nodeSeconds: number; usd: number | null };
  endpoint: { deployments: MeasuredDeployment[]; instanceSeconds: number; usd: number | null };
  prices: PriceBasis;
  /** What is not counted, or was read from a fallback (e.g. the deletion time observed, not reported). */
  notes: string[];
}

/**
 * The run's cost as its record and result carry it: the estimate made before the job was submitted, the
 * cost measured after the run (training from the job's timeline, endpoint from creation to deletion), and
 * the budget it was held to.
 */
export interface RunCost {
  currency: 'USD';
  estimatedUsd: number | null;
  actualUsd: number | null;
  /** budget.maxCost, when the spec set one. */
  maxCostUsd?: number;
  estimate?: CostEstimate;
  actual?: ActualCost;
}
