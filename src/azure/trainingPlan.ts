// What the worker's live training poller (trainingWatcher.ts) reads in one cycle, and how many reads it
// may spend. Pure: the watcher does the I/O.
//
// Azure ML's MLflow filters take `=` on tags and, for run ids, `attributes.run_id IN (...)` (the only list
// MLflow accepts). So a job's training run is found once by its tag (`tags.mlflow.rootRunId = '<job>'`,
// one runs/search per job), and from then on the training runs of all followed jobs are read together,
// up to `batchSize` ids per runs/search, their latest metric values taken from the search's answer.
import type { MlflowRun } from './liveTraining';

/** A job whose training the worker follows. */
export interface FollowedTraining {
  jobName: string;
  experimentName: string;
  /** The MLflow run that trains, once a search by the job's tag found it. */
  trainingRunId?: string;
  /** When its figures were last read, or when it started being followed (ms). */
  lastReadAt: number;
}

/** One runs/search: find one job's runs by its tag, or read many known training runs by id. */
export type ReadUnit =
  | { kind: 'discover'; experimentName: string; jobName: string; staleSince: number }
  | { kind: 'batch'; experimentName: string; runIds: string[]; staleSince: number };

/** Run ids per runs/search: the filter stays a few kilobytes, the answer one page. */
export const DEFAULT_BATCH_SIZE = 100;

/**
 * Every read a full cycle would make, stalest first: the jobs whose training run is known, grouped by
 * experiment and chunked by `batchSize` (stalest jobs in the first chunk), and one search per job still
 * to be found. A cycle that cannot afford them all reads the first ones; the rest are then stalest next time.
 */
export function planReads(followed: readonly FollowedTraining[], batchSize = DEFAULT_BATCH_SIZE): ReadUnit[] {
  const units: ReadUnit[] = [];
  const known = new Map<string, FollowedTraining[]>();
  for (const f of followed) {
    if (f.trainingRunId === undefined) {
      units.push({ kind: 'discover', experimentName: f.experimentName, jobName: f.jobName, staleSince: f.lastReadAt });
      continue;
    }
    const list = known.get(f.experimentName) ?? [];
    list.push(f);
    known.set(f.experimentName, list);
  }
  for (const [experimentName, list] of known) {
    const sorted = [...list].sort((a, b) => a.lastReadAt - b.lastReadAt);
    for (let i = 0; i < sorted.length; i += batchSize) {
      const chunk = sorted.slice(i, i + batchSize);
      units.push({
        kind: 'batch',
        experimentName,
        runIds: chunk.map((f) => f.trainingRunId as string),
        staleSince: chunk[0]?.lastReadAt ?? 0,
      });
    }
  }
  return units.sort((a, b) => a.staleSince - b.staleSince);
}

/** `attributes.run_id IN ('a', 'b')`; quotes cannot occur in run ids and are dropped. */
export function runIdFilter(runIds: readonly string[]): string {
  return `attributes.run_id IN (${runIds.map((id) => `'${id.replace(/'/g, '')}'`).join(', ')})`;
}

/** `tags.mlflow.rootRunId = '<job>'`: every run of a pipeline job. */
export function jobRunsFilter(jobName: string): string {
  return `tags.mlflow.rootRunId = '${jobName.replace(/'/g, '')}'`;
}

/**
 * The run that trains, when a search by the job's tag shows it: the run logging `epoch` or a loss, else
 * a step run (not the job's own) given `num_train_epochs`. Undefined while neither is there yet (before
 * the fine-tune step starts): the job is searched for again next cycle.
 */
export function trainingRunId(runs: readonly MlflowRun[], jobName: string): string | undefined {
  const logs = (r: MlflowRun) => r.data?.metrics?.some((m) => ['epoch', 'loss', 'train_loss'].includes(m.key)) ?? false;
  const given = (r: MlflowRun) =>
    r.info.run_id !== jobName && (r.data?.params?.some((p) => p.key === 'num_train_epochs') ?? false);
  return (runs.find(logs) ?? runs.find(given))?.info.run_id;
}

/**
 * The poller's allowance: it earns `share` of every read the rest of the worker makes and spends one per
 * read of its own, so its reads stay at most that share of the others' (10% by default: issue 17).
 * Credit expires with the reads that earned it: unspent credit is capped at `share` of the others' reads in
 * the last `windowMs`, so a worker does not hoard the reads of idle hours to spend them at the fastest
 * cadence on a few runs later, yet the runs that just started can spend what their own first steps earned.
 */
export class ReadCredit {
  private credit = 0;
  private seen = 0;
  private earnedTotal = 0;
  private spentTotal = 0;
  /** Running totals of the others' reads, oldest first: the first one is the window's baseline. */
  private readonly samples: { at: number; total: number }[] = [];

  constructor(
    readonly share: number,
    readonly windowMs: number,
  ) {}

  /** Credits `share` of the other reads made since the last call (`otherReadsTotal` is a running total). */
  earn(otherReadsTotal: number, now: number): number {
    const delta = Math.max(0, otherReadsTotal - this.seen);
    this.seen = Math.max(this.seen, otherReadsTotal);
    this.earnedTotal += delta * this.share;
    this.samples.push({ at: now, total: this.seen });
    while (this.samples.length > 1 && (this.samples[1]?.at ?? now) <= now - this.windowMs) this.samples.shift();
    const baseline = (this.samples[0]?.at ?? now) <= now - this.windowMs ? (this.samples[0]?.total ?? 0) : 0;
    this.credit = Math.min(this.credit + delta * this.share, (this.seen - baseline) * this.share);
    return this.credit;
  }

  /** Whole reads that may be made now. */
  get available(): number {
    return Math.floor(this.credit + 1e-9);
  }

  spend(reads: number): void {
    this.credit -= reads;
    this.spentTotal += reads;
  }

  stats(): { earned: number; spent: number; credit: number } {
    return { earned: round2(this.earnedTotal), spent: this.spentTotal, credit: round2(this.credit) };
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
