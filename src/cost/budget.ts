// budget.maxCost, enforced as budget.maxTrainingMinutes is (src/workflows/fineTune.ts): before the job is
// submitted the estimate must fit; while it trains, the job is cancelled when its accrued cost plus what the
// endpoint is expected to need would pass the budget; the endpoint's keep-alive ends before the budget runs
// out. Pure arithmetic over the estimate's rates (the workflow's clock gives the elapsed time).
import { formatHours, formatUsd } from './format';
import type { CostEstimate, EstimatedLine } from './types';

export interface BudgetRefusal {
  code: 'CostBudgetExceeded' | 'CostUnknown';
  message: string;
}

const HOW_TO_LOWER =
  'raise budget.maxCost, or lower the cost: dataset.percent, training.num_train_epochs, a cheaper compute.vmSize or deployment.instanceType, deployment.keepAliveMinutes';

function line(what: string, l: EstimatedLine): string {
  return `${what} ${formatUsd(l.usd)}: ${l.count} × ${l.vmSize} for ${formatHours(l.hours)} at ${formatUsd(l.usdPerHour)}/h`;
}

/** Why a run with this estimate may not start its job under `maxCost`, or undefined when it may. */
export function budgetRefusal(estimate: CostEstimate, maxCost: number): BudgetRefusal | undefined {
  const unpriced = [estimate.training, estimate.endpoint].filter((l) => l.usdPerHour === null);
  if (unpriced.length > 0) {
    return {
      code: 'CostUnknown',
      message:
        `budget.maxCost ${formatUsd(maxCost)} cannot be enforced: the price table (${estimate.prices.snapshot}) has no list price for ` +
        `${unpriced.map((l) => `${l.vmSize} in ${estimate.prices.region}`).join(' or ')}. ` +
        'Add it with FTFLOW_PRICES_FILE (docs/configuration.md, Prices), or remove budget.maxCost',
    };
  }
  const total = estimate.totalUsd ?? 0;
  if (total <= maxCost) return undefined;
  return {
    code: 'CostBudgetExceeded',
    message:
      `estimated cost ${formatUsd(total)} (${line('training', estimate.training)}; ${line('endpoint', estimate.endpoint)}) ` +
      `is over budget.maxCost ${formatUsd(maxCost)}: ${HOW_TO_LOWER}. Nothing was submitted`,
  };
}

/** USD per second of a billed line (all its nodes or instances). */
export function usdPerSecond(l: EstimatedLine): number {
  return ((l.usdPerHour ?? 0) * l.count) / 3600;
}

/**
 * How long the training job may run (ms from its submission) before what it has cost, plus the endpoint's
 * estimated cost, passes `maxCost`; undefined when training is not priced (budgetRefusal refuses such runs).
 * Counting from submission counts queued time too, so the job is cancelled early rather than late.
 */
export function trainingTimeLimitMs(estimate: CostEstimate, maxCost: number): number | undefined {
  const rate = usdPerSecond(estimate.training);
  if (rate <= 0) return undefined;
  const left = maxCost - (estimate.endpoint.usd ?? 0);
  return Math.max(0, Math.floor((left / rate) * 1000));
}

/** The failure's message when the training job was cancelled for the cost budget. */
export function trainingOverBudgetMessage(
  jobName: string,
  estimate: CostEstimate,
  maxCost: number,
  elapsedMs: number,
): string {
  const accrued = usdPerSecond(estimate.training) * (elapsedMs / 1000);
  return (
    `training job ${jobName} was cancelled after ${formatHours(elapsedMs / 3_600_000)}: on ${estimate.training.count} × ${estimate.training.vmSize} ` +
    `at ${formatUsd(estimate.training.usdPerHour)}/h it had cost about ${formatUsd(accrued)}, and with the endpoint's estimated ` +
    `${formatUsd(estimate.endpoint.usd)} the run would pass budget.maxCost ${formatUsd(maxCost)}: ${HOW_TO_LOWER}`
  );
}

/**
 * Until when (ms, the workflow's clock) the endpoint may serve: the budget left after the training's
 * accrued cost and the endpoint's cost so far, minus its deletion's minutes, at its instances' rate.
 * Undefined when the endpoint is not priced.
 */
export function servingLimitAt(opts: {
  estimate: CostEstimate;
  maxCost: number;
  trainingMs: number;
  endpointSince: number;
  now: number;
}): number | undefined {
  const { estimate, maxCost } = opts;
  const rate = usdPerSecond(estimate.endpoint);
  if (rate <= 0) return undefined;
  const spent = usdPerSecond(estimate.training) * (opts.trainingMs / 1000);
  const deleting = rate * estimate.endpoint.deleteMinutes * 60;
  const endpointSeconds = Math.max(0, (maxCost - spent - deleting) / rate);
  return Math.max(opts.now, opts.endpointSince + Math.floor(endpointSeconds * 1000));
}
