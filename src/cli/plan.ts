// What `ftflow start --dry-run` prints (a run's plan), what start prints of a plan's refusal, and the cost
// lines of `status`: text for people; --json prints the objects themselves.
import type { CostEstimate, EstimatedLine, RunCost } from '../cost/types';
import { formatHours, formatUsd } from '../cost/format';
import type { Refusal } from '../control/refusal';
import type { FineTunePlan } from '../workflows/definitions';
import type { StagedSplit } from '../dataset/staged';

function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function splitLine(role: string, s: StagedSplit): string {
  const how = s.reused
    ? 'staged already: reused'
    : s.preview?.estimated
      ? `about: ${s.preview.rowsRead} rows read`
      : s.preview
        ? 'all read'
        : '';
  return `${role} ${s.split}: ${s.rows} rows, ${bytes(s.bytes)}${how ? ` (${how})` : ''} → ${s.blobPath}`;
}

/** "$29.98 (training $29.06: 1 × Standard_NC24ads_A100_v4 for 7.9 h at $3.67/h; endpoint $0.92: ...)" */
export function estimateLine(e: CostEstimate): string {
  const part = (what: string, l: EstimatedLine) =>
    `${what} ${formatUsd(l.usd)}: ${l.count} × ${l.vmSize} for ${formatHours(l.hours)} at ${formatUsd(l.usdPerHour)}/h`;
  return `${formatUsd(e.totalUsd)} (${part('training', e.training)}; ${part('endpoint', e.endpoint)}); list prices of ${e.prices.snapshot} in ${e.prices.region}`;
}

export function planLines(plan: FineTunePlan): string[] {
  const label = (name: string) => name.padEnd(17);
  const params = Object.entries(plan.job.parameters)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const e = plan.cost;
  return [
    `plan for ${plan.runId}${plan.namesFixed ? '' : ' (an example id: a start without --idempotency-key gets its own, and names derived from it)'}`,
    `${label('workspace')}${plan.workspace.workspace} (${plan.workspace.location})`,
    `${label('model')}${plan.model.registry}/${plan.model.name} v${plan.model.version}`,
    `${label('compute')}${plan.compute.name} ${plan.compute.vmSize}, ${plan.compute.gpusPerNode} GPU(s)/node${plan.compute.wouldCreate ? ' (would be created, min 0 nodes)' : ' (exists)'}`,
    `${label('job')}${plan.names.jobName} "${plan.job.displayName}" (experiment ${plan.names.experimentName})`,
    `${label('parameters')}${params}`,
    `${label('data')}${splitLine('train', plan.data.train)}`,
    `${label('')}${splitLine('test', plan.data.test)}`,
    `${label('')}${splitLine('scoring', plan.data.scoring)}`,
    `${label('registered model')}${plan.names.registeredModel} (its next integer version when the run registers it)`,
    `${label('endpoint')}${plan.names.endpointName}, deployment ${plan.names.deploymentName} on ${plan.deployment.instanceType} × ${plan.deployment.instanceCount}, keep-alive ${plan.deployment.keepAliveMinutes} min`,
    `${label('cost estimate')}${estimateLine(e)}`,
    `${label('')}training: ${e.training.trainTokens.toLocaleString('en-US')} tokens × ${e.training.epochs} epoch(s) on ${e.training.gpus} GPU(s) at ~${e.training.tokensPerSecondPerGpu} tokens/s/GPU = ${formatHours(e.training.computeHours)}, + ${formatHours(e.training.overheadHours)} of pipeline steps`,
    ...(plan.maxCostUsd !== undefined ? [`${label('budget')}${formatUsd(plan.maxCostUsd)} (budget.maxCost)`] : []),
    ...e.assumptions.map((a, i) => `${label(i === 0 ? 'assumptions' : '')}${a}`),
    ...plan.warnings.map((w, i) => `${label(i === 0 ? 'warnings' : '')}${w}`),
    'nothing was created, uploaded or submitted',
  ];
}

export function refusalLines(r: Refusal): string[] {
  return [`ftflow: the run would be refused${r.step ? ` at ${r.step}` : ''} (${r.code}): ${r.message}`];
}

/** The cost lines of a run's record: the estimate, and what it cost once measured. */
export function costLines(cost: RunCost | undefined): string[] {
  if (!cost) return [];
  const lines: string[] = [];
  if (cost.estimate) lines.push(`cost estimate ${estimateLine(cost.estimate)}`);
  if (cost.maxCostUsd !== undefined) lines.push(`cost budget ${formatUsd(cost.maxCostUsd)} (budget.maxCost)`);
  const a = cost.actual;
  if (a) {
    const jobs = a.training.jobs.map(
      (j) => `${j.nodes} × ${j.vmSize} for ${formatHours(j.nodeSeconds / 3600 / j.nodes)}`,
    );
    const deployments = a.endpoint.deployments.map(
      (d) => `${d.instances} × ${d.instanceType} for ${formatHours(d.instanceSeconds / 3600 / d.instances)}`,
    );
    lines.push(
      `cost actual ${formatUsd(a.totalUsd)} (training ${formatUsd(a.training.usd)}${jobs.length ? `: ${jobs.join(', ')}` : ''}; endpoint ${formatUsd(a.endpoint.usd)}${deployments.length ? `: ${deployments.join(', ')}` : ''})`,
    );
  }
  return lines;
}
