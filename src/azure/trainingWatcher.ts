// One live training poller per worker, for every job its runs follow while it trains: what jobWatcher.ts
// is for the jobs' states, this is for their MLflow figures. Each cycle (at most one per
// FTFLOW_METRICS_POLL_SECONDS) reads the training runs of all followed jobs together, up to 100 per
// runs/search (`attributes.run_id IN (...)`), with their latest metric values from the search's answer; a
// job whose training run is not known yet is searched for once by its tag. The cycle spends only the reads
// it has earned: FTFLOW_METRICS_READ_SHARE (10%) of the other reads this worker makes, so following the
// training never costs more than that share on top of a run's reads, however many runs or however long.
// The followers (awaitPipeline) never wait on it: they publish the latest snapshot in their heartbeat.
import type { MlflowClient } from './mlflow';
import type { MlflowRun } from './liveTraining';
import { planReads, ReadCredit, trainingRunId, type FollowedTraining, type ReadUnit } from './trainingPlan';

export interface TrainingWatcherOptions {
  /** Shortest time between the starts of two cycles (FTFLOW_METRICS_POLL_SECONDS). */
  minIntervalMs: number;
  /** The poller's reads at most this share of the worker's other reads (FTFLOW_METRICS_READ_SHARE). */
  share: number;
  /** Every read this worker process has made so far (its ARM budget's count of reads, MLflow searches
   *  included), the poller's own among them. */
  workerReads: () => number;
  /** Run ids per runs/search (default 100). */
  batchSize?: number;
  /**
   * Most reads in one cycle, whatever credit there is: the share of the worker's read budget over one
   * interval, so a burst (hundreds of jobs starting to train at once) never crowds the other reads out of
   * the budget's queue. Default: no limit.
   */
  maxReadsPerCycle?: number;
  /** Reads in flight at once within a cycle (default 4). */
  concurrency?: number;
}

/** A job's training as the last cycle read it. */
export interface TrainingSnapshot {
  runs: MlflowRun[];
  /** When it was read (ms). */
  readAt: number;
}

export interface TrainingCycleRecord {
  followed: number;
  /** runs/search pages and experiment lookups made. */
  reads: number;
  /** Searches by a job's tag, and searches by run ids. */
  discoveries: number;
  batches: number;
  /** Reads the full cycle wanted but had not earned yet (made in a later cycle). */
  deferred: number;
}

interface Entry extends FollowedTraining {
  holders: number;
  snapshot?: TrainingSnapshot;
}

type MlflowReader = Pick<MlflowClient, 'cachedExperimentId' | 'knowsExperiment' | 'runsById' | 'runsOfJob'>;

export class TrainingWatcher {
  private readonly followed = new Map<string, Entry>();
  private readonly credit: ReadCredit;
  private running = false;
  private nextCycleAt = 0;
  /** Reads this poller made (searches and experiment lookups): they are in the worker's count and are taken out. */
  private ownReads = 0;
  /** The last cycles, newest last (for tests and benchmarks). */
  readonly cycles: TrainingCycleRecord[] = [];

  constructor(
    private readonly mlflow: () => Promise<MlflowReader>,
    private readonly options: TrainingWatcherOptions,
  ) {
    // Credit expires after 10 minutes (or five cycles, if longer): see ReadCredit.
    this.credit = new ReadCredit(options.share, Math.max(600_000, 5 * options.minIntervalMs));
  }

  /** Starts (or goes on) following a job's training; each follow needs its unfollow. */
  follow(jobName: string, experimentName: string): void {
    const entry = this.followed.get(jobName);
    if (entry) {
      entry.holders += 1;
      return;
    }
    this.followed.set(jobName, { jobName, experimentName, holders: 1, lastReadAt: Date.now() });
    this.start();
  }

  unfollow(jobName: string): void {
    const entry = this.followed.get(jobName);
    if (!entry) return;
    entry.holders -= 1;
    if (entry.holders <= 0) this.followed.delete(jobName);
  }

  /** The latest figures read for a followed job, if a cycle has read them yet. */
  latest(jobName: string): TrainingSnapshot | undefined {
    return this.followed.get(jobName)?.snapshot;
  }

  stats(): { followed: number; reads: number; earned: number; spent: number } {
    const c = this.credit.stats();
    return { followed: this.followed.size, reads: this.ownReads, earned: c.earned, spent: c.spent };
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.followed.size > 0) {
        await sleep(Math.max(0, this.nextCycleAt - Date.now()));
        if (this.followed.size === 0) break;
        const startedAt = Date.now();
        const made = await this.cycle();
        // Nothing affordable yet: look again soon (credit comes with the worker's other reads).
        const soon = made === 0 ? Math.min(this.options.minIntervalMs, 5000) : this.options.minIntervalMs;
        this.nextCycleAt = startedAt + soon;
      }
    } finally {
      this.running = false;
      if (this.followed.size > 0) this.start();
    }
  }

  /** One cycle: the reads it can afford, stalest first. Returns how many it made ('unavailable': none could be). */
  private async cycle(): Promise<number | 'unavailable'> {
    const mlflow = await this.mlflow().catch(() => undefined);
    if (!mlflow) return 'unavailable';
    const entries = [...this.followed.values()];
    const units = planReads(entries, this.options.batchSize);
    const lookups = new Set(units.map((u) => u.experimentName).filter((name) => !mlflow.knowsExperiment(name)));
    const cost = (u: ReadUnit, looked: Set<string>): number =>
      1 + (mlflow.knowsExperiment(u.experimentName) || looked.has(u.experimentName) ? 0 : 1);
    const full = units.length + lookups.size;
    this.credit.earn(this.options.workerReads() - this.ownReads, Date.now());
    const chosen: ReadUnit[] = [];
    const looked = new Set<string>();
    let budget = Math.min(this.credit.available, this.options.maxReadsPerCycle ?? Number.POSITIVE_INFINITY);
    for (const u of units) {
      const c = cost(u, looked);
      if (c > budget) break;
      budget -= c;
      looked.add(u.experimentName);
      chosen.push(u);
    }
    const before = this.ownReads;
    const experimentIds = new Map<string, string | undefined>();
    for (const name of looked) experimentIds.set(name, await this.experimentId(mlflow, name));
    await mapLimit(chosen, this.options.concurrency ?? 4, (u) =>
      this.read(mlflow, u, experimentIds.get(u.experimentName)),
    );
    const made = this.ownReads - before;
    this.credit.spend(made);
    this.cycles.push({
      followed: entries.length,
      reads: made,
      discoveries: chosen.filter((u) => u.kind === 'discover').length,
      batches: chosen.filter((u) => u.kind === 'batch').length,
      deferred: Math.max(0, full - made),
    });
    if (this.cycles.length > 100) this.cycles.shift();
    return made;
  }

  /** The experiment's id (looked up once per worker; none while it does not exist yet). */
  private async experimentId(mlflow: MlflowReader, name: string): Promise<string | undefined> {
    if (!mlflow.knowsExperiment(name)) this.ownReads += 1;
    return mlflow.cachedExperimentId(name).catch(() => undefined);
  }

  /** One unit's search; a failed read only costs those jobs this cycle's figures. */
  private async read(mlflow: MlflowReader, unit: ReadUnit, experimentId: string | undefined): Promise<void> {
    if (experimentId === undefined) return;
    const onPage = () => {
      this.ownReads += 1;
    };
    try {
      const readAt = Date.now();
      if (unit.kind === 'discover') {
        const runs = await mlflow.runsOfJob(experimentId, unit.jobName, { onPage });
        const entry = this.followed.get(unit.jobName);
        if (!entry) return;
        entry.lastReadAt = readAt;
        const id = trainingRunId(runs, unit.jobName);
        if (id === undefined) return;
        entry.trainingRunId = id;
        entry.snapshot = { runs, readAt };
        return;
      }
      const runs = await mlflow.runsById(experimentId, unit.runIds, { onPage });
      const byId = new Map(runs.map((r) => [r.info.run_id, r]));
      for (const entry of this.followed.values()) {
        if (entry.trainingRunId === undefined || !unit.runIds.includes(entry.trainingRunId)) continue;
        entry.lastReadAt = readAt;
        const run = byId.get(entry.trainingRunId);
        if (run) entry.snapshot = { runs: [run], readAt };
      }
    } catch {
      // The figures are a courtesy: the next cycle tries again.
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}
