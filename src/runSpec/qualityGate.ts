// The quality gate: thresholds over the job's final metrics. Pure, so the workflow evaluates it.

export interface MetricBound {
  max?: number;
  min?: number;
}

export interface GateCheck {
  metric: string;
  value: number | null;
  bound: MetricBound;
  passed: boolean;
  reason?: string;
}

export interface GateEvaluation {
  passed: boolean;
  checks: GateCheck[];
}

export function evaluateQualityGate(
  gate: Readonly<Record<string, MetricBound>>,
  metrics: Readonly<Record<string, number>>,
): GateEvaluation {
  const checks: GateCheck[] = Object.entries(gate).map(([metric, bound]) => {
    const value = metrics[metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return { metric, value: null, bound, passed: false, reason: `${metric} was not logged by the job` };
    }
    if (bound.max !== undefined && value > bound.max)
      return { metric, value, bound, passed: false, reason: `${metric} ${value} > max ${bound.max}` };
    if (bound.min !== undefined && value < bound.min)
      return { metric, value, bound, passed: false, reason: `${metric} ${value} < min ${bound.min}` };
    return { metric, value, bound, passed: true };
  });
  return { passed: checks.every((c) => c.passed), checks };
}
