// The chaos plan: for each run, the Azure faults the emulator will inject (each rule scoped to the
// run's own job and endpoint paths, so concurrent runs never take each other's faults), and the
// worker kills. Drawn from the seed alone: the same seed gives the same plan (its digest says so).
import { createHash } from 'node:crypto';
import { deriveRunNames, type RunNames } from 'finetune-flow/spec';
import type { StepName } from 'finetune-flow';
import { SeededRandom } from './random';

/** What a fault does, in the words of the report. */
export const FAULT_KINDS = [
  'throttled-429',
  'server-5xx',
  'connection-reset',
  'slow-response',
  'deployment-provisioning-failed',
  'job-failed',
  'quota-exceeded',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults the service must ride out: the run still succeeds. */
export const RETRYABLE_FAULTS: readonly FaultKind[] = [
  'throttled-429',
  'server-5xx',
  'connection-reset',
  'slow-response',
];

/** Why a run that took a non-retryable fault must fail, and at which step. */
export type FailureCause = 'job-failed' | 'provisioning-failed' | 'quota';

/**
 * The failures each non-retryable fault may cause. A deployment that failed (provisioning or quota) is
 * reported with Azure's code by the attempt that watched it fail. An attempt that retries after a worker
 * kill finds it Failed and asks the operation the dead attempt heartbeated, so it reports the code too;
 * only a kill before that heartbeat reached Temporal leaves a deployment failure without the code, so
 * either cause stays consistent.
 */
export const EXPECTED_FAILURE: Readonly<
  Record<
    Exclude<FaultKind, 'throttled-429' | 'server-5xx' | 'connection-reset' | 'slow-response'>,
    { causes: readonly FailureCause[]; step: StepName }
  >
> = {
  'job-failed': { causes: ['job-failed'], step: 'awaitPipeline' },
  'deployment-provisioning-failed': { causes: ['provisioning-failed'], step: 'deployEndpoint' },
  'quota-exceeded': { causes: ['quota', 'provisioning-failed'], step: 'deployEndpoint' },
};

/** A rule as POST /_emulator/faults takes it (devstack/emulator/faults.ts; chaos speaks to it over HTTP only). */
export interface FaultRule {
  method: string;
  path: string;
  action:
    | { type: 'status'; status: number; retryAfter?: number }
    | { type: 'reset' }
    | { type: 'delay'; ms: number }
    | { type: 'failProvisioning'; code: string; message: string }
    | { type: 'failJob'; phase: 'Queued' | 'Preparing' | 'Running' | 'Finalizing'; fraction: number }
    | { type: 'quota' };
  count: number;
}

export interface PlannedFault {
  kind: FaultKind;
  /** Which of the run's requests it hits, e.g. "GET job". */
  target: string;
  rule: FaultRule;
}

export interface PlannedRun {
  index: number;
  runId: string;
  names: RunNames;
  faults: PlannedFault[];
}

/** SIGKILL the worker that runs this run's step (or a later heartbeating one), then start a new worker. */
export interface PlannedKill {
  run: number;
  atStep: StepName;
  restartDelayMs: number;
}

export interface ChaosPlan {
  seed: number;
  runs: PlannedRun[];
  kills: PlannedKill[];
  /** sha256 of the plan without the run ids (which carry a per-invocation tag): equal seeds, equal digests. */
  digest: string;
}

export interface PlanOptions {
  runs: number;
  seed: number;
  /** Worker kills; default one per eight runs, at least one. */
  kills?: number;
  /** Chance that a run gets one fault it cannot ride out (job failure, failed provisioning, quota); default 0.25. */
  failureRate?: number;
  /** Most retryable faults per run; default 3. */
  maxRetryableFaults?: number;
  /** Distinguishes this invocation's run ids from an earlier one's on the same Temporal server. */
  tag: string;
  /** The run spec's deployment name (its path is part of the deployment faults). */
  deploymentName?: string;
}

/** Steps whose activities heartbeat, so a killed worker's attempt is retried after the heartbeat timeout. */
export const KILLABLE_STEPS: readonly StepName[] = [
  'stageDataset',
  'awaitPipeline',
  'deployEndpoint',
  'smokeScore',
  'deleteEndpoint',
];

type Target = { name: string; method: string; path: string };

/**
 * The run's own requests a fault may hit: every path names the run's job or endpoint, so concurrent runs
 * never take each other's faults. (Model versions are the model's next integers, shared by every run
 * registering that model, so no model path is the run's own: chaos puts no fault there.)
 */
function targetsOf(names: RunNames, deploymentName: string): Record<string, Target> {
  const ep = `*/onlineEndpoints/${names.endpointName}`;
  const t = (name: string, method: string, path: string): Target => ({ name, method, path });
  return {
    jobGet: t('GET job', 'GET', `*/jobs/${names.jobName}`),
    jobPut: t('PUT job', 'PUT', `*/jobs/${names.jobName}`),
    endpointGet: t('GET endpoint', 'GET', ep),
    endpointPut: t('PUT endpoint', 'PUT', ep),
    endpointDelete: t('DELETE endpoint', 'DELETE', ep),
    deploymentGet: t('GET deployment', 'GET', `${ep}/deployments/${deploymentName}`),
    deploymentPut: t('PUT deployment', 'PUT', `${ep}/deployments/${deploymentName}`),
    listKeys: t('POST listKeys', 'POST', `${ep}/listKeys`),
    score: t('POST score', 'POST', `*/inference/${names.endpointName}/score`),
  };
}

function retryableFault(r: SeededRandom, targets: Record<string, Target>): PlannedFault {
  const kind = r.weighted<FaultKind>([
    ['throttled-429', 3],
    ['server-5xx', 3],
    ['connection-reset', 2],
    ['slow-response', 2],
  ]);
  const on = (keys: readonly string[]): Target => targets[r.pick(keys)] as Target;
  switch (kind) {
    case 'throttled-429': {
      const target = on(['jobGet', 'jobPut', 'endpointGet', 'endpointPut', 'deploymentPut']);
      return {
        kind,
        target: target.name,
        rule: {
          method: target.method,
          path: target.path,
          action: { type: 'status', status: 429, retryAfter: r.int(1, 2) },
          count: r.int(2, 5),
        },
      };
    }
    case 'server-5xx': {
      const target = on([
        'jobGet',
        'jobPut',
        'endpointPut',
        'endpointDelete',
        'deploymentGet',
        'deploymentPut',
        'listKeys',
      ]);
      return {
        kind,
        target: target.name,
        rule: {
          method: target.method,
          path: target.path,
          action: { type: 'status', status: r.pick([500, 502, 503, 504]) },
          count: r.int(1, 3),
        },
      };
    }
    case 'connection-reset': {
      const target = on(['jobGet', 'jobPut', 'endpointGet', 'endpointDelete', 'deploymentGet', 'score']);
      return {
        kind,
        target: target.name,
        rule: { method: target.method, path: target.path, action: { type: 'reset' }, count: r.int(1, 2) },
      };
    }
    default: {
      const target = on([
        'jobGet',
        'jobPut',
        'endpointGet',
        'endpointPut',
        'endpointDelete',
        'deploymentPut',
        'listKeys',
        'score',
      ]);
      return {
        kind: 'slow-response',
        target: target.name,
        rule: {
          method: target.method,
          path: target.path,
          action: { type: 'delay', ms: r.int(5, 30) * 100 },
          count: r.int(1, 3),
        },
      };
    }
  }
}

function failingFault(r: SeededRandom, targets: Record<string, Target>): PlannedFault {
  const kind = r.weighted<FaultKind>([
    ['job-failed', 2],
    ['deployment-provisioning-failed', 1],
    ['quota-exceeded', 1],
  ]);
  const deploymentPut = targets['deploymentPut'] as Target;
  if (kind === 'job-failed') {
    const jobPut = targets['jobPut'] as Target;
    const phase = r.pick(['Queued', 'Preparing', 'Running', 'Finalizing'] as const);
    return {
      kind,
      target: `job at ${phase}`,
      rule: {
        method: 'PUT',
        path: jobPut.path,
        action: { type: 'failJob', phase, fraction: r.int(1, 9) / 10 },
        count: 1,
      },
    };
  }
  if (kind === 'quota-exceeded') {
    return {
      kind,
      target: deploymentPut.name,
      rule: { method: 'PUT', path: deploymentPut.path, action: { type: 'quota' }, count: 1 },
    };
  }
  return {
    kind,
    target: deploymentPut.name,
    rule: {
      method: 'PUT',
      path: deploymentPut.path,
      action: {
        type: 'failProvisioning',
        code: 'ResourceNotReady',
        message: 'Deployment container failed to start (chaos)',
      },
      count: 1,
    },
  };
}

export function makePlan(opts: PlanOptions): ChaosPlan {
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('runs must be an integer >= 1');
  if (!Number.isInteger(opts.seed)) throw new Error('seed must be an integer');
  const r = new SeededRandom(opts.seed);
  const failureRate = opts.failureRate ?? 0.25;
  const maxRetryable = opts.maxRetryableFaults ?? 3;
  const deploymentName = opts.deploymentName ?? 'demo';
  const runs: PlannedRun[] = [];
  for (let index = 0; index < opts.runs; index++) {
    const runId = `ft-chaos-${opts.seed}-${opts.tag}-${index}`;
    const names = deriveRunNames(runId);
    const targets = targetsOf(names, deploymentName);
    const faults: PlannedFault[] = [];
    const retryable = r.int(0, maxRetryable);
    for (let i = 0; i < retryable; i++) faults.push(retryableFault(r, targets));
    if (r.chance(failureRate)) faults.push(failingFault(r, targets));
    runs.push({ index, runId, names, faults });
  }
  const killCount = Math.min(opts.runs, opts.kills ?? Math.max(1, Math.round(opts.runs / 8)));
  const killRuns = new Set<number>();
  while (killRuns.size < killCount) killRuns.add(r.int(0, opts.runs - 1));
  const kills = [...killRuns]
    .sort((a, b) => a - b)
    .map((run) => ({
      run,
      atStep: r.weighted<StepName>([
        ['awaitPipeline', 5],
        ['deployEndpoint', 3],
        ['stageDataset', 1],
        ['deleteEndpoint', 1],
      ]),
      restartDelayMs: r.int(5, 30) * 100,
    }));
  const digest = createHash('sha256')
    .update(
      JSON.stringify({
        seed: opts.seed,
        runs: runs.map((run) =>
          run.faults.map((f) => ({ kind: f.kind, target: f.target, action: f.rule.action, count: f.rule.count })),
        ),
        kills,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  return { seed: opts.seed, runs, kills, digest };
}

/** Faults planned, by kind (every kind listed, zeros included). */
export function countByKind(faults: readonly { kind: FaultKind; n: number }[]): Record<FaultKind, number> {
  const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  for (const f of faults) out[f.kind] += f.n;
  return out;
}
