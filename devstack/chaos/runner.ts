// Chaos mode: N fine-tune runs against the local stack with seeded Azure faults (injected by the
// emulator, scoped to each run's own resources) and SIGKILLed worker processes, then a verdict taken
// from the emulator's own records: endpoints left live, runs with more than one Azure job, runs that
// never ended or ended in a state the faults do not explain, and endpoint billing after a run closed.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FineTuneClient, STEPS, type StepName } from 'finetune-flow';
import { bundleWorkflows } from 'finetune-flow/bundle';
import { PROJECT_ROOT } from '../stack/paths';
import { stackEnv, startStack, TEST_COMPONENTS, type RunningStack, type StackConnectionInfo } from '../stack';
import { EmulatorAdmin, type EmulatorClockSettings } from './emulatorAdmin';
import { KILLABLE_STEPS, makePlan, type ChaosPlan, type PlannedKill, type PlannedRun } from './plan';
import { judge, type ChaosReport, type KillRecord, type RunRecord } from './report';
import { SeededRandom } from './random';
import { WorkerPool } from './workers';

export interface ChaosOptions {
  runs: number;
  seed: number;
  /** Runs in flight at once; default 4. */
  concurrency?: number;
  /** Worker processes on the task queue; default 2 (a kill leaves one serving while the other restarts). */
  workers?: number;
  /** Worker kills; default one per eight runs, at least one. */
  kills?: number;
  /** Chance of a fault a run cannot ride out; default 0.25. */
  failureRate?: number;
  /** Heartbeat timeout of the runs' long steps: how soon a killed worker's step moves on; default 5 s. */
  heartbeatTimeoutSeconds?: number;
  /** A run not ended after this long is lost; default 600 s. */
  runTimeoutSeconds?: number;
  /** Emulator durations for resources the runs create; default: a job in ~3 s, provisioning 0.5 s. */
  clock?: Partial<EmulatorClockSettings>;
  /** An already running stack (tests); default: start an embedded one on free ports and stop it after. */
  stack?: StackConnectionInfo;
  /** Folder for logs, the workflow bundle and the embedded stack's state; default .data/chaos/<tag>. */
  dataDir?: string;
  /** Distinguishes this invocation's run ids; default random. */
  tag?: string;
  /** Progress lines; default stderr. */
  log?: (line: string) => void;
}

export const DEFAULT_CHAOS_CLOCK: Partial<EmulatorClockSettings> = {
  jobPhaseMs: 600,
  jobPhases: {},
  provisionMs: 500,
  deleteMs: 300,
  cancelMs: 300,
};

/** Worker polling tuned to the compressed clock (the demo's settings, a little faster). */
const WORKER_TUNING = { FTFLOW_JOB_POLL_SECONDS: '0.5', FTFLOW_LRO_POLL_MS: '200' };

/** PendingActivityState.STARTED in Temporal's API (temporal.api.enums.v1): an attempt runs on a worker now. */
const PENDING_ACTIVITY_STARTED = 2;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PendingStep {
  step: string;
  identity: string | undefined;
  started: boolean;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const t0 = Date.now();
  const log = opts.log ?? ((line: string) => process.stderr.write(`[chaos] ${line}\n`));
  const tag = opts.tag ?? randomBytes(3).toString('hex');
  const plan = makePlan({
    runs: opts.runs,
    seed: opts.seed,
    tag,
    ...(opts.kills !== undefined ? { kills: opts.kills } : {}),
    ...(opts.failureRate !== undefined ? { failureRate: opts.failureRate } : {}),
  });
  const concurrency = opts.concurrency ?? 4;
  const dataDir = path.resolve(opts.dataDir ?? path.join(PROJECT_ROOT, '.data', 'chaos', tag));
  fs.mkdirSync(dataDir, { recursive: true });
  log(
    `seed ${plan.seed}, plan ${plan.digest}: ${plan.runs.length} runs, ${plan.runs.reduce((n, r) => n + r.faults.length, 0)} fault rules, ${plan.kills.length} kills; logs in ${dataDir}`,
  );

  let ownStack: RunningStack | undefined;
  let pool: WorkerPool | undefined;
  let client: FineTuneClient | undefined;
  let admin: EmulatorAdmin | undefined;
  let clockBefore: EmulatorClockSettings | undefined;
  try {
    const stack: StackConnectionInfo =
      opts.stack ??
      (ownStack = await startStack({
        dataDir,
        components: TEST_COMPONENTS,
        ports: { temporal: 0, temporalUi: 0, azurite: 0, emulator: 0 },
        temporal: { headless: true, inMemory: true },
        azurite: { inMemory: true },
        stackFile: false,
        log: (line) => log(`stack: ${line}`),
      }));
    const { temporalAddress, emulator } = stack.urls;
    if (!temporalAddress || !emulator) throw new Error('the stack has no Temporal address or emulator URL');
    admin = new EmulatorAdmin(emulator);
    clockBefore = await admin.clock();
    await admin.setClock({ ...DEFAULT_CHAOS_CLOCK, ...opts.clock });

    const bundle = await bundleWorkflows(path.join(dataDir, 'workflow-bundle.js'));
    const taskQueue = `chaos-${plan.seed}-${tag}`;
    pool = new WorkerPool({
      size: opts.workers ?? 2,
      logDir: path.join(dataDir, 'workers'),
      env: {
        ...process.env,
        ...stackEnv(stack),
        ...WORKER_TUNING,
        FTFLOW_TASK_QUEUE: taskQueue,
        FTFLOW_WORKFLOW_BUNDLE: bundle.path,
      },
    });
    await pool.start();
    client = await FineTuneClient.connect({ address: temporalAddress, namespace: stack.namespace, taskQueue });
    log(`${pool.workers.length} workers ready on task queue ${taskQueue} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

    const session = new ChaosSession(plan, client, admin, pool, {
      concurrency,
      log,
      heartbeatTimeoutSeconds: opts.heartbeatTimeoutSeconds ?? 5,
      runTimeoutMs: (opts.runTimeoutSeconds ?? 600) * 1000,
    });
    const { records, kills } = await session.run();
    const [resources, billing, throttled] = await Promise.all([admin.resources(), admin.billing(), admin.throttled()]);
    return judge({
      plan,
      records,
      kills,
      resources,
      billing,
      throttled,
      concurrency,
      workers: opts.workers ?? 2,
      durationMs: Date.now() - t0,
    });
  } finally {
    await client?.close().catch(() => undefined);
    await pool?.stop().catch(() => undefined);
    if (admin && clockBefore && !ownStack) await admin.setClock(clockBefore).catch(() => undefined);
    await ownStack?.stop();
  }
}

interface SessionSettings {
  concurrency: number;
  log: (line: string) => void;
  heartbeatTimeoutSeconds: number;
  runTimeoutMs: number;
}

/** One chaos invocation: the runs (at most `concurrency` at once) and, beside them, the kills. */
class ChaosSession {
  private readonly records: RunRecord[] = [];
  private readonly kills: KillRecord[] = [];
  private readonly inFlight = new Set<string>();
  private readonly started = new Map<number, () => void>();
  private readonly startedPromises: Promise<void>[];
  private readonly victims: SeededRandom;
  private done = false;

  constructor(
    private readonly plan: ChaosPlan,
    private readonly client: FineTuneClient,
    private readonly admin: EmulatorAdmin,
    private readonly pool: WorkerPool,
    private readonly s: SessionSettings,
  ) {
    this.startedPromises = plan.runs.map((run) => new Promise<void>((resolve) => this.started.set(run.index, resolve)));
    this.victims = new SeededRandom(plan.seed ^ 0x5eed);
  }

  async run(): Promise<{ records: RunRecord[]; kills: KillRecord[] }> {
    const queue = [...this.plan.runs];
    const lanes = Array.from({ length: Math.min(this.s.concurrency, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) this.records.push(await this.runOne(next));
    });
    const killer = this.killAll();
    await Promise.all(lanes);
    this.done = true;
    for (const resolve of this.started.values()) resolve();
    await killer;
    this.records.sort((a, b) => a.index - b.index);
    return { records: this.records, kills: this.kills };
  }

  private async runOne(run: PlannedRun): Promise<RunRecord> {
    const t0 = Date.now();
    const ruleIds = await this.admin.addFaults(run.faults.map((f) => f.rule));
    const record: RunRecord = {
      index: run.index,
      runId: run.runId,
      names: run.names,
      status: 'running',
      faults: run.faults.map((f) => ({ kind: f.kind, target: f.target, hits: 0 })),
      durationMs: 0,
    };
    try {
      await this.client.start(
        {},
        {
          idempotencyKey: run.runId.replace(/^ft-/, ''),
          options: { heartbeatTimeoutSeconds: this.s.heartbeatTimeoutSeconds },
        },
      );
      this.inFlight.add(run.runId);
      this.started.get(run.index)?.();
      const handle = this.client.handle(run.runId);
      const ended = await Promise.race([
        handle.result().then(
          () => true,
          () => true,
        ),
        sleep(this.s.runTimeoutMs).then(() => false),
      ]);
      if (ended) {
        const d = await handle.describe();
        record.status = d.status.name === 'COMPLETED' ? 'succeeded' : d.status.name.toLowerCase();
        if (d.closeTime) record.closedAt = d.closeTime.getTime();
        if (record.status === 'failed') Object.assign(record, await this.failureOf(run.runId));
      }
    } catch (err) {
      record.error = `chaos could not start or follow the run: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.inFlight.delete(run.runId);
      this.started.get(run.index)?.();
      const states = await this.admin.faults();
      for (const [i, id] of ruleIds.entries()) {
        const fault = record.faults[i];
        if (fault) fault.hits = states.find((r) => r.id === id)?.hits ?? 0;
        await this.admin.removeFault(id).catch(() => undefined);
      }
      record.durationMs = Date.now() - t0;
    }
    const hits = record.faults.filter((f) => f.hits > 0).map((f) => `${f.kind}×${f.hits}`);
    this.s.log(
      `run ${run.index} ${record.status}${record.failedStep ? ` at ${record.failedStep}` : ''} in ${(record.durationMs / 1000).toFixed(1)} s${hits.length ? ` (faults: ${hits.join(', ')})` : ''}`,
    );
    return record;
  }

  /** The failed step and its message, from the run's own progress record (a query: a worker replays it). */
  private async failureOf(runId: string): Promise<Pick<RunRecord, 'failedStep' | 'error'>> {
    for (let attempt = 1; ; attempt++) {
      try {
        const p = await this.client.progress(runId);
        const failed = p.steps.find((s) => s.status === 'failed');
        return {
          ...(failed ? { failedStep: failed.name } : {}),
          error: [failed?.detail, p.error].filter(Boolean).join(' / '),
        };
      } catch (err) {
        if (attempt >= 5)
          return { error: `progress query failed: ${err instanceof Error ? err.message : String(err)}` };
        await sleep(1000);
      }
    }
  }

  private async killAll(): Promise<void> {
    for (const kill of this.plan.kills) {
      await this.startedPromises[kill.run];
      if (this.done) break;
      await this.killDuring(kill);
    }
  }

  /** The activities of a run that are pending now, with the worker running each. */
  private async pending(runId: string): Promise<PendingStep[]> {
    const d = await this.client.handle(runId).describe();
    if (d.status.name !== 'RUNNING') return [];
    return (d.raw.pendingActivities ?? []).map((a) => ({
      step: a.activityType?.name ?? '',
      identity: a.lastWorkerIdentity ?? undefined,
      started: Number(a.state) === PENDING_ACTIVITY_STARTED,
    }));
  }

  /**
   * A worker may be killed when it runs no step without a heartbeat (authenticate, resolveModel,
   * submitPipeline, collectMetrics, registerModel): those have only a 5-minute start-to-close timeout,
   * so killing one would stall its run for minutes (slow, not lost); heartbeating steps move on after
   * the run's heartbeat timeout.
   */
  private async safeToKill(identity: string): Promise<boolean> {
    const heartbeating = new Set<string>([...KILLABLE_STEPS, 'validateCompute', 'cancelPipeline']);
    for (const runId of [...this.inFlight]) {
      const pending = await this.pending(runId).catch(() => []);
      if (pending.some((p) => p.started && p.identity === identity && !heartbeating.has(p.step))) return false;
    }
    return true;
  }

  private async killDuring(kill: PlannedKill): Promise<void> {
    const run = this.plan.runs[kill.run];
    if (!run) return;
    const from = STEPS.indexOf(kill.atStep);
    const deadline = Date.now() + 120_000;
    let fallback = false;
    while (!this.done && Date.now() < deadline) {
      let victimIdentity: string | undefined;
      let step: string | undefined;
      if (this.inFlight.has(run.runId)) {
        const pending = await this.pending(run.runId).catch(() => []);
        const target = pending.find(
          (p) =>
            p.started &&
            KILLABLE_STEPS.includes(p.step as StepName) &&
            STEPS.indexOf(p.step as StepName) >= from &&
            this.pool.byIdentity(p.identity),
        );
        if (target) ({ identity: victimIdentity, step } = target);
      } else {
        // The run ended before it reached the step: kill a worker anyway, now.
        fallback = true;
        const workers = this.pool.workers;
        if (workers.length > 0) victimIdentity = this.pool.identityOf(this.victims.pick(workers));
      }
      const victim = this.pool.byIdentity(victimIdentity);
      if (victim && victimIdentity && (await this.safeToKill(victimIdentity))) {
        const at = Date.now();
        await this.pool.kill(victim);
        this.s.log(
          `killed worker pid ${victim.pid} (SIGKILL) ${step ? `during run ${run.index}'s ${step}` : `after run ${run.index} ended`}; restarting in ${kill.restartDelayMs} ms`,
        );
        await sleep(kill.restartDelayMs);
        const replacement = await this.pool.spawnOne();
        this.kills.push({
          run: run.index,
          step: step ?? null,
          pid: victim.pid,
          at,
          restartedPid: replacement.pid,
          restartMs: Date.now() - at,
        });
        return;
      }
      await sleep(fallback ? 500 : 150);
    }
    this.s.log(`kill planned during run ${run.index} not done (no safe moment)`);
  }
}
