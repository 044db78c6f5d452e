// The run's cost, beside fineTune.ts as progress.ts and keepAlive.ts are: the estimate made before the job is
// submitted (a run over budget.maxCost stops there), the time the job and the endpoint may take under that
// budget, and the cost measured once the run ends, whatever ends it. All of it on the run's record (the
// progress query) and in its result. Deterministic: the estimate and the measurement come from activities,
// the elapsed times from the workflow's clock.
import { log } from '@temporalio/workflow';
import { servingLimitAt, trainingOverBudgetMessage, trainingTimeLimitMs } from '../cost/budget';
import { formatUsd } from '../cost/format';
import type { ActualCost, CostEstimate, RunCost } from '../cost/types';
import type { DeleteEndpointResult, MeasureCostInput } from '../activities/types';
import { jobNameForAttempt, MAX_JOB_ATTEMPTS } from '../runSpec/names';
import { messageOf } from './progress';
import { costBudgetFailure } from './checks';
import type { RunProgress } from './definitions';

export class RunCostBook {
  private estimate: CostEstimate | undefined;
  private jobNames: string[] = [];
  private submittedAt: number | undefined;
  private trainingEndedAt: number | undefined;
  private endpoint: DeleteEndpointResult | undefined;

  /**
   * `enabled`: the run estimates and measures its cost (runs from before patch run-cost do not);
   * `maxCost`: budget.maxCost, when the spec sets it.
   */
  constructor(
    private readonly record: RunProgress,
    readonly enabled: boolean,
    private readonly maxCost: number | undefined,
  ) {}

  /** Before the job: the estimate goes on the record; one over budget.maxCost (or unpriceable under it) ends the run. */
  async estimated(estimate: () => Promise<CostEstimate>): Promise<void> {
    if (!this.enabled) return;
    const e = await estimate();
    this.estimate = e;
    this.record.cost = {
      currency: 'USD',
      estimatedUsd: e.totalUsd,
      actualUsd: null,
      ...(this.maxCost !== undefined ? { maxCostUsd: this.maxCost } : {}),
      estimate: e,
    };
    this.record.warnings.push(...e.warnings);
    const refused = costBudgetFailure(e, this.maxCost);
    if (refused) {
      if (refused.type === 'CostBudgetExceeded') this.record.outcome = 'cost-budget-exceeded';
      throw refused;
    }
  }

  /** The job is about to be submitted under `jobName` (it may exist from here on, whatever the step returns). */
  submitting(jobName: string): void {
    this.submittedAt ??= Date.now();
    this.rememberJob(jobName);
  }

  /** The job the run follows (the derived name, or a later attempt's: <name>-r2, ...). */
  submitted(jobName: string): void {
    this.rememberJob(jobName);
  }

  private rememberJob(jobName: string): void {
    const base = this.jobNames[0] ?? jobName;
    const names: string[] = [];
    for (let attempt = 1; attempt <= MAX_JOB_ATTEMPTS; attempt++) {
      const name = jobNameForAttempt(base, attempt);
      names.push(name);
      if (name === jobName) break;
    }
    if (names.length > this.jobNames.length) this.jobNames = names;
  }

  /** How long the job may run under budget.maxCost (ms from its submission), or undefined: no cost limit. */
  trainingLimitMs(): number | undefined {
    if (!this.estimate || this.maxCost === undefined) return undefined;
    return trainingTimeLimitMs(this.estimate, this.maxCost);
  }

  /** The failure for a job cancelled at its cost limit. */
  trainingOverBudget(jobName: string, elapsedMs: number): string {
    this.record.outcome = 'cost-budget-exceeded';
    return trainingOverBudgetMessage(jobName, this.estimate as CostEstimate, this.maxCost ?? 0, elapsedMs);
  }

  /** The job ended (or was cancelled): its accrued time counts against the endpoint's share of the budget. */
  trainingEnded(): void {
    this.trainingEndedAt ??= Date.now();
  }

  /**
   * Until when the endpoint may serve under budget.maxCost, with the reason an extension past it is refused;
   * undefined without a budget.
   */
  servingLimit(endpointSince: number): { until: number; why: string } | undefined {
    if (!this.estimate || this.maxCost === undefined) return undefined;
    const trainingMs = (this.trainingEndedAt ?? Date.now()) - (this.submittedAt ?? Date.now());
    const until = servingLimitAt({
      estimate: this.estimate,
      maxCost: this.maxCost,
      trainingMs,
      endpointSince,
      now: Date.now(),
    });
    if (until === undefined) return undefined;
    return {
      until,
      why: `budget.maxCost ${formatUsd(this.maxCost)} allows the endpoint to serve until ${new Date(until).toISOString()}`,
    };
  }

  /** The endpoint was deleted: what it ran on and when it went are in the result. */
  endpointDeleted(deletion: DeleteEndpointResult): void {
    this.endpoint = deletion;
  }

  /**
   * Once the run has ended (succeeded, failed or cancelled, after its cleanup): the cost measured from the
   * job's timeline and the endpoint's lifetime, in the estimate's region, the cluster's size for a job Azure
   * does not say it of. Never changes how the run ends: a measurement that fails is a warning on the record.
   */
  async measured(measureCost: (input: MeasureCostInput) => Promise<ActualCost>): Promise<void> {
    const e = this.estimate;
    if (!this.enabled || !e || (this.jobNames.length === 0 && !this.endpoint?.existed)) return;
    try {
      const actual = await measureCost({
        jobNames: this.jobNames,
        vmSize: e.training.vmSize,
        location: e.prices.region,
        ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      });
      this.record.cost = {
        currency: 'USD',
        estimatedUsd: e.totalUsd,
        ...(this.maxCost !== undefined ? { maxCostUsd: this.maxCost } : {}),
        estimate: e,
        actualUsd: actual.totalUsd,
        actual,
      };
    } catch (err) {
      log.warn('the run cost could not be measured', { error: messageOf(err) });
      this.record.warnings.push(`what the run cost could not be measured: ${messageOf(err)}`);
    }
  }

  /** The cost for the run's result. */
  result(): RunCost | undefined {
    return this.record.cost;
  }
}
