// The verdict on a chaos session, from the emulator's own records: leaked endpoints (not deleted at the
// end), duplicate jobs (more than one Azure job for a run), lost runs (no terminal state, or one the
// injected faults do not explain), and endpoint billing after a run closed.
import * as os from 'node:os';
import type { RunNames } from 'finetune-flow/spec';
import type { EmulatorBilling, EmulatorResources } from './emulatorAdmin';
import {
  EXPECTED_FAILURE,
  FAULT_KINDS,
  RETRYABLE_FAULTS,
  countByKind,
  type ChaosPlan,
  type FailureCause,
  type FaultKind,
} from './plan';

export interface RunRecord {
  index: number;
  runId: string;
  names: RunNames;
  /** 'running' when it did not end within the run timeout; else Temporal's status, lower case. */
  status: string;
  /** Temporal's close time (ms since the epoch). */
  closedAt?: number;
  failedStep?: string;
  error?: string;
  faults: { kind: FaultKind; target: string; hits: number }[];
  durationMs: number;
}

export interface KillRecord {
  run: number;
  /** The step the killed worker was running for that run; null when it was killed after the run ended. */
  step: string | null;
  pid: number;
  at: number;
  restartedPid: number;
  /** From the kill until the replacement worker polled. */
  restartMs: number;
}

export interface LostRun {
  runId: string;
  reason: string;
}

export interface ChaosReport {
  seed: number;
  plan: string;
  runs: number;
  concurrency: number;
  workers: number;
  /** Times an injected fault fired (a rule with count 3 that fired 3 times counts 3), by kind. */
  faultsInjected: Record<FaultKind, number>;
  faultsInjectedTotal: number;
  /** Fault rules planned, by kind (a rule fires only if the run makes the request it matches). */
  faultRulesPlanned: Record<FaultKind, number>;
  /** 429s from the emulator's own ARM throttling, besides the injected ones. */
  emulatorThrottled: number;
  kills: number;
  killsPlanned: number;
  leakedEndpoints: number;
  duplicateJobs: number;
  lostRuns: number;
  outcomes: Record<string, number>;
  /** Endpoint-seconds the emulator billed after the endpoint's run had closed. */
  endpointSecondsAfterClose: number;
  /** Deployment instance-seconds billed after the run closed. */
  deploymentInstanceSecondsAfterClose: number;
  toleranceSeconds: number;
  billedEndpointSeconds: number;
  durationSeconds: number;
  machine: { cores: number; node: string };
  ok: boolean;
  lost: LostRun[];
  leaked: string[];
  duplicates: { runId: string; jobs: string[] }[];
}

/**
 * Per endpoint. Every timestamp compared comes from the same host clock (the emulator in real time mode,
 * the Temporal server's close time), and a run closes only after its deleteEndpoint step read a 404,
 * which the emulator answers only once the deletion completed: so the figure is 0 by construction. The
 * tolerance covers millisecond rounding of the two timestamps (the emulator's are whole milliseconds).
 */
export const AFTER_CLOSE_TOLERANCE_SECONDS_PER_ENDPOINT = 0.002;

function failureCause(record: RunRecord): FailureCause | 'other' {
  const text = record.error ?? '';
  if (record.failedStep === 'awaitPipeline' && /Failed/.test(text)) return 'job-failed';
  // Azure's OutOfQuota (the emulator's wording); "check quota and capacity" is the generic hint of a Failed deployment.
  if (record.failedStep === 'deployEndpoint')
    return /OutOfQuota|not enough quota|quota reached/i.test(text) ? 'quota' : 'provisioning-failed';
  return 'other';
}

/** Why the run's end does not match the faults that fired, or undefined when it does. */
function inconsistency(record: RunRecord): string | undefined {
  if (record.status === 'running') return record.error ?? 'did not reach a terminal state within the run timeout';
  const fatal = record.faults.find((f) => f.hits > 0 && !RETRYABLE_FAULTS.includes(f.kind));
  if (record.status === 'succeeded') return fatal ? `succeeded although ${fatal.kind} was injected` : undefined;
  if (record.status !== 'failed') return `ended ${record.status}${record.error ? `: ${record.error}` : ''}`;
  if (!fatal)
    return `failed at ${record.failedStep ?? '?'} although only retryable faults were injected: ${record.error ?? ''}`;
  const expected = EXPECTED_FAILURE[fatal.kind as keyof typeof EXPECTED_FAILURE];
  const cause = failureCause(record);
  if (!(expected.causes as readonly string[]).includes(cause) || record.failedStep !== expected.step) {
    return `failed at ${record.failedStep ?? '?'} (${cause}) but ${fatal.kind} should fail ${expected.step} (${expected.causes.join(' or ')}): ${record.error ?? ''}`;
  }
  return undefined;
}

const ms = (iso: string | null): number | undefined => (iso ? Date.parse(iso) : undefined);

export interface JudgeInput {
  plan: ChaosPlan;
  records: readonly RunRecord[];
  kills: readonly KillRecord[];
  resources: EmulatorResources;
  billing: EmulatorBilling;
  throttled: number;
  concurrency: number;
  workers: number;
  durationMs: number;
}

export function judge(input: JudgeInput): ChaosReport {
  const { plan, records, resources, billing } = input;
  const now = Date.parse(billing.now);
  const lost: LostRun[] = [];
  const leaked: string[] = [];
  const duplicates: { runId: string; jobs: string[] }[] = [];
  const outcomes: Record<string, number> = {};
  let afterClose = 0;
  let deploymentAfterClose = 0;
  let billed = 0;
  for (const r of records) {
    const problem = inconsistency(r);
    if (problem) lost.push({ runId: r.runId, reason: problem });
    const outcome =
      r.status === 'failed' ? `failed: ${failureCause(r)}` : r.status === 'running' ? 'not terminal' : r.status;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;

    const jobs = resources.jobs
      .filter((j) => j.name === r.names.jobName || j.name.startsWith(`${r.names.jobName}-r`))
      .map((j) => j.name);
    if (jobs.length > 1) duplicates.push({ runId: r.runId, jobs });
    for (const e of resources.endpoints.filter((x) => x.name === r.names.endpointName)) {
      if (e.state !== 'Gone' || e.deletedAt === null) leaked.push(`${e.name} (run ${r.runId}, ${e.state})`);
    }
    for (const e of billing.endpoints.filter((x) => x.name === r.names.endpointName)) {
      billed += e.seconds;
      if (r.closedAt === undefined) continue;
      const end = ms(e.deletedAt) ?? now;
      afterClose += Math.max(0, end - r.closedAt) / 1000;
    }
    for (const d of billing.deployments.filter((x) => x.endpoint === r.names.endpointName)) {
      if (r.closedAt === undefined) continue;
      const closedAt = r.closedAt;
      for (const i of d.instances)
        deploymentAfterClose +=
          (Math.max(0, Date.parse(i.end) - Math.max(Date.parse(i.start), closedAt)) / 1000) * i.count;
    }
  }
  const endpoints = records.length;
  const tolerance = AFTER_CLOSE_TOLERANCE_SECONDS_PER_ENDPOINT * endpoints;
  const faultsInjected = countByKind(records.flatMap((r) => r.faults.map((f) => ({ kind: f.kind, n: f.hits }))));
  const round3 = (x: number): number => Math.round(x * 1000) / 1000;
  const report: ChaosReport = {
    seed: plan.seed,
    plan: plan.digest,
    runs: records.length,
    concurrency: input.concurrency,
    workers: input.workers,
    faultsInjected,
    faultsInjectedTotal: FAULT_KINDS.reduce((n, k) => n + faultsInjected[k], 0),
    faultRulesPlanned: countByKind(plan.runs.flatMap((r) => r.faults.map((f) => ({ kind: f.kind, n: 1 })))),
    emulatorThrottled: input.throttled,
    kills: input.kills.length,
    killsPlanned: plan.kills.length,
    leakedEndpoints: leaked.length,
    duplicateJobs: duplicates.length,
    lostRuns: lost.length,
    outcomes,
    endpointSecondsAfterClose: round3(afterClose),
    deploymentInstanceSecondsAfterClose: round3(deploymentAfterClose),
    toleranceSeconds: round3(tolerance),
    billedEndpointSeconds: round3(billed),
    durationSeconds: Math.round(input.durationMs / 100) / 10,
    machine: { cores: os.cpus().length, node: process.version },
    ok: false,
    lost,
    leaked,
    duplicates,
  };
  report.ok =
    leaked.length === 0 &&
    duplicates.length === 0 &&
    lost.length === 0 &&
    afterClose <= tolerance &&
    deploymentAfterClose <= tolerance;
  return report;
}

/** The human-readable report (the JSON line follows it, see main.ts). */
export function formatReport(r: ChaosReport): string {
  const kinds = (counts: Record<FaultKind, number>): string =>
    FAULT_KINDS.filter((k) => counts[k] > 0)
      .map((k) => `${k} ${counts[k]}`)
      .join(', ') || 'none';
  const outcomes = Object.entries(r.outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    '── finetune-flow chaos ─────────────────────────────────────',
    `seed              ${r.seed} (plan ${r.plan})`,
    `runs              ${r.runs} (${r.concurrency} at a time, ${r.workers} workers)`,
    `outcomes          ${outcomes}`,
    `faults injected   ${r.faultsInjectedTotal}: ${kinds(r.faultsInjected)}`,
    `fault rules       ${FAULT_KINDS.reduce((n, k) => n + r.faultRulesPlanned[k], 0)} planned: ${kinds(r.faultRulesPlanned)}`,
    `emulator 429s     ${r.emulatorThrottled} (its own ARM throttling, not injected)`,
    `worker kills      ${r.kills} of ${r.killsPlanned} planned (SIGKILL, then a new worker)`,
    `leaked endpoints  ${r.leakedEndpoints}`,
    `duplicate jobs    ${r.duplicateJobs}`,
    `lost runs         ${r.lostRuns}`,
    `endpoint-seconds after close  ${r.endpointSecondsAfterClose} (deployment instance-seconds ${r.deploymentInstanceSecondsAfterClose}; tolerance ${r.toleranceSeconds}); billed in all ${r.billedEndpointSeconds}`,
    `duration          ${r.durationSeconds} s on ${r.machine.cores} cores (node ${r.machine.node})`,
    `verdict           ${r.ok ? 'OK' : 'FAILED'}`,
  ];
  for (const l of r.lost) lines.push(`  lost ${l.runId}: ${l.reason}`);
  for (const l of r.leaked) lines.push(`  leaked ${l}`);
  for (const d of r.duplicates) lines.push(`  duplicate jobs of ${d.runId}: ${d.jobs.join(', ')}`);
  lines.push('─────────────────────────────────────────────────────────────');
  return lines.join('\n');
}
