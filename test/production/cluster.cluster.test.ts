// The cluster suite (`make test-cluster`): a self-hosted Temporal cluster as production runs it
// (devstack/cluster/: PostgreSQL, the server's frontend, history, matching and worker services as four
// processes, two ftflow workers, the HTTP API with a real key, Azurite and the emulator), 20 runs started
// through the HTTP API, and while they run: SIGKILL and restart of the history service, the matching
// service, the frontend, PostgreSQL (same data) and one ftflow worker; a retraining schedule ticks and a
// janitor sweep runs. Every run must complete with one job, one model version and its endpoint deleted,
// as the emulator's own records say; no run is lost. The figures are printed and written to
// .data/cluster-suite.json (docs/operations.md keeps them).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { parse } from 'yaml';
import {
  DEFAULT_CLUSTER_PORTS,
  TEMPORAL_DEPLOY_DIR,
  TEMPORAL_SERVER_BIN,
  TEMPORAL_SERVER_VERSION,
  ensureServerTools,
  startCluster,
  temporalServerEnv,
  type ClusterExit,
  type ClusterProcessName,
  type RunningCluster,
} from '../../devstack/cluster';
import { KILLABLE_STEPS } from '../../devstack/chaos/plan';
import { groupHasLiveMembers } from '../../devstack/stack/child';
import { PROJECT_ROOT } from '../../devstack/stack/paths';
import { deriveRunNames } from '../../src/runSpec/names';

const RUNS = 20;
const DATA_DIR = path.join(PROJECT_ROOT, '.data', 'cluster-test');
const RESULTS_FILE = path.join(PROJECT_ROOT, '.data', 'cluster-suite.json');
/** The emulator's clock: each of a job's five phases lasts this long, so the runs outlive the five kills. */
const JOB_PHASE_MS = 30_000;
/** Polling tuned to that clock (the product's defaults poll every 40 s). */
const WORKER_TUNING = { FTFLOW_JOB_POLL_SECONDS: '2', FTFLOW_LRO_POLL_MS: '500' };
const SCHEDULE_ID = 'cluster-suite-retrain';
/** Steps that heartbeat (a killed worker's attempt moves on after the heartbeat timeout, not after 5 minutes). */
const HEARTBEATING = new Set<string>([...KILLABLE_STEPS, 'validateCompute', 'cancelPipeline']);
/** PendingActivityState.STARTED. */
const PENDING_ACTIVITY_STARTED = 2;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const execFileAsync = promisify(execFile);

function say(line: string): void {
  process.stderr.write(`[cluster-suite] ${line}\n`);
}

interface StartedRun {
  id: string;
  jobName: string;
  endpointName: string;
  source: 'api' | 'schedule';
}

interface KillFigure {
  target: string;
  pid: number;
  /** SIGKILL to the replacement's readiness. */
  downSeconds: number;
  /** Replacement spawned to the first new history event of any run after it was ready. */
  restartToProgressSeconds: number;
  runsOpenAtKill: number;
}

let cluster: RunningCluster | undefined;
let buildSeconds = 0;
const unexpected: ClusterExit[] = [];
const suiteStart = Date.now();

/** Every Temporal process the cluster ran, to check that none is left after stop(). */
const seenPids = new Set<number>();

beforeAll(async () => {
  const build = await ensureServerTools(say);
  buildSeconds = build.seconds;
  say(
    build.built
      ? `built the Temporal server ${TEMPORAL_SERVER_VERSION} in ${build.seconds.toFixed(0)} s (first build; cached from now on)`
      : `Temporal server ${TEMPORAL_SERVER_VERSION} already built (cached)`,
  );
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  cluster = await startCluster({
    dataDir: DATA_DIR,
    ports: Object.fromEntries(Object.keys(DEFAULT_CLUSTER_PORTS).map((k) => [k, 0])),
    workers: 2,
    ui: false,
    emulator: {
      extraArgs: [
        ...['--job-phase-ms', String(JOB_PHASE_MS), '--provision-ms', '3000', '--delete-ms', '1000'],
        // 21 runs deploying at once need 21 x 12 GPU vCPUs (with the upgrade reserve): more than Azure's default
        // quota the emulator keeps (96 per family), which would fail runs for quota, not for the cluster.
        ...['--default-vcpu-quota', '1000', '--regional-vcpu-quota', '4000'],
      ],
    },
    workerEnv: WORKER_TUNING,
    // A schedule every minute is allowed here (the product's floor is 5 minutes); no rate limit in the way.
    apiEnv: { FTFLOW_SCHEDULE_MIN_INTERVAL: '1 minute', FTFLOW_API_RATE_LIMIT: '100000' },
    handleSignals: false,
    readyTimeoutMs: 180_000,
    log: (line) => say(`cluster: ${line}`),
    onUnexpectedExit: (e) => {
      unexpected.push(e);
      say(`UNEXPECTED EXIT: ${e.message}`);
    },
  });
  say(
    `cluster up in ${(cluster.startupMs / 1000).toFixed(1)} s: ${Object.entries(cluster.timings)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(', ')}`,
  );
}, 900_000);

afterAll(async () => {
  if (!cluster) return;
  const c = cluster;
  for (const name of ['postgres', 'history', 'matching', 'frontend', 'worker', 'api', ...c.workerNames] as const) {
    const pid = c.pid(name);
    if (pid !== undefined) seenPids.add(pid);
  }
  await c.stop();
  const left = [...seenPids].filter((pid) => groupHasLiveMembers(pid));
  say(`cluster stopped; processes left running: ${left.length}`);
  expect(left).toEqual([]);
}, 180_000);

function running(): RunningCluster {
  if (!cluster) throw new Error('the cluster did not start');
  return cluster;
}

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const c = running();
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(c.urls.api + route, {
        method,
        headers: {
          authorization: `Bearer ${c.apiKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      const json: unknown = text === '' ? null : JSON.parse(text);
      // 5xx while a server process is down: the caller's retry, as a client of the API would do.
      if (res.status >= 500 && attempt < 30) {
        await sleep(1000);
        continue;
      }
      return { status: res.status, json };
    } catch (err) {
      if (attempt >= 30) throw err;
      await sleep(1000);
    }
  }
}

interface EmulatorResources {
  counts: { liveEndpoints: number; jobs: number; models: number };
  endpoints: { name: string; state: string; deletedAt: string | null }[];
  jobs: { name: string; state: string }[];
  models: { name: string; version: string; jobName: string | null }[];
}

async function emulatorResources(): Promise<EmulatorResources> {
  const res = await fetch(`${running().urls.emulator}/_emulator/resources`);
  if (!res.ok) throw new Error(`emulator /_emulator/resources answered ${res.status}`);
  return (await res.json()) as EmulatorResources;
}

/**
 * Follows the runs through the frontend, every 400 ms: what the cluster has recorded for them (their
 * histories' lengths, and the heartbeats of their steps, which history writes to the database without a
 * history event) and whether a run's `progress` query is answered (frontend, history and matching hand it
 * to a worker and back). Progress after a restart: both have happened since.
 */
class ProgressWatch {
  private readonly samples: { at: number; recorded: number; answered: boolean }[] = [];
  private readonly lengths = new Map<string, number>();
  private readonly beats = new Map<string, { last: number; count: number }>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private connection: Connection | undefined;
  private readonly retired: Connection[] = [];
  private turn = 0;

  constructor(private readonly ids: () => string[]) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        // A failed sample drops the connection: the next one connects afresh rather than waiting out
        // gRPC's reconnect back-off, which would add the watcher's own delay to the figures.
        // (The old connection is closed at the end: closing it now would cut its calls' own retries.)
        await this.sample().catch(() => {
          if (this.connection) this.retired.push(this.connection);
          this.connection = undefined;
        });
        await sleep(400);
      }
    })();
  }

  private async sample(): Promise<void> {
    const c = running();
    this.connection ??= await Connection.connect({ address: c.urls.temporalAddress, connectTimeout: 2000 });
    const conn = this.connection;
    const at = Date.now();
    const ids = this.ids();
    await conn.withDeadline(Date.now() + 3000, async () => {
      await Promise.all(
        ids.map(async (id) => {
          const d = await conn.workflowService.describeWorkflowExecution({
            namespace: c.namespace,
            execution: { workflowId: id },
          });
          this.lengths.set(id, Number(d.workflowExecutionInfo?.historyLength ?? 0));
          const lastBeat = Math.max(
            0,
            ...(d.pendingActivities ?? []).map((a) => Number(a.lastHeartbeatTime?.seconds ?? 0) * 1000),
          );
          const b = this.beats.get(id) ?? { last: 0, count: 0 };
          if (lastBeat > b.last) this.beats.set(id, { last: lastBeat, count: b.count + 1 });
        }),
      );
    });
    let answered = false;
    const probe = ids[this.turn++ % Math.max(1, ids.length)];
    if (probe !== undefined) {
      answered = await conn
        .withDeadline(Date.now() + 3000, () =>
          conn.workflowService.queryWorkflow({
            namespace: c.namespace,
            execution: { workflowId: probe },
            query: { queryType: 'progress' },
          }),
        )
        .then(
          () => true,
          () => false,
        );
    }
    const recorded =
      [...this.lengths.values()].reduce((a, b) => a + b, 0) + [...this.beats.values()].reduce((a, b) => a + b.count, 0);
    this.samples.push({ at, recorded, answered });
  }

  /** When, after `t`, the cluster had both recorded something new for a run and answered a query. */
  async progressAfter(t: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const base = this.samples.find((s) => s.at >= t);
      const grown = base ? this.samples.find((s) => s.at > base.at && s.recorded > base.recorded) : undefined;
      const answered = this.samples.find((s) => s.at >= t && s.answered);
      if (grown && answered) return Math.max(grown.at, answered.at);
      if (Date.now() > deadline)
        throw new Error(`no progress within ${timeoutMs / 1000} s after ${new Date(t).toISOString()}`);
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await sleep(5000); // let the retired connections' last retries end
    for (const c of [...this.retired, ...(this.connection ? [this.connection] : [])])
      await c.close().catch(() => undefined);
  }
}

/** An ftflow worker that runs no step without a heartbeat right now (killing one would stall its run 5 minutes). */
async function safeWorkerVictim(openIds: string[], timeoutMs: number): Promise<ClusterProcessName> {
  const c = running();
  const connection = await Connection.connect({ address: c.urls.temporalAddress });
  const host = os.hostname();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const busy = new Set<string>();
      const following = new Map<string, number>();
      await Promise.all(
        openIds.map(async (id) => {
          const d = await connection.workflowService
            .describeWorkflowExecution({ namespace: c.namespace, execution: { workflowId: id } })
            .catch(() => undefined);
          for (const a of d?.pendingActivities ?? []) {
            const identity = a.lastWorkerIdentity ?? '';
            if (Number(a.state) !== PENDING_ACTIVITY_STARTED) continue;
            if (HEARTBEATING.has(a.activityType?.name ?? ''))
              following.set(identity, (following.get(identity) ?? 0) + 1);
            else busy.add(identity);
          }
        }),
      );
      // Prefer the worker following the most jobs: its runs must move to the other one.
      const candidates = c.workerNames
        .filter((n) => c.pid(n) !== undefined && !busy.has(`${c.pid(n) ?? ''}@${host}`))
        .sort(
          (a, b) =>
            (following.get(`${c.pid(b) ?? ''}@${host}`) ?? 0) - (following.get(`${c.pid(a) ?? ''}@${host}`) ?? 0),
        );
      if (candidates[0] !== undefined) return candidates[0];
      if (Date.now() > deadline) return c.workerNames[0];
      await sleep(300);
    }
  } finally {
    await connection.close();
  }
}

describe(`a Temporal ${TEMPORAL_SERVER_VERSION} cluster on PostgreSQL (make cluster)`, () => {
  test('compose and the cluster render the same server configuration, but for the database address, bind address and log level', async () => {
    const compose = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: { temporal: { environment: Record<string, string> } };
    };
    const composeEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(compose.services.temporal.environment))
      composeEnv[k] = String(v).replace(/^\$\{POSTGRES_PASSWORD:\?[^}]*\}$/, 'the-same-password');
    const render = async (vars: Record<string, string>): Promise<unknown> => {
      const { stdout } = await execFileAsync(TEMPORAL_SERVER_BIN, ['--env', 'cluster', 'render-config'], {
        cwd: TEMPORAL_DEPLOY_DIR,
        env: { PATH: process.env.PATH ?? '', ...vars },
      });
      return parse(stdout);
    };
    const local = await render(temporalServerEnv(DEFAULT_CLUSTER_PORTS, 'the-same-password'));
    const composed = await render(composeEnv);
    const differences: string[] = [];
    const walk = (a: unknown, b: unknown, at: string): void => {
      if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
        for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
          walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
      } else if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(at);
    };
    walk(local, composed, '');
    const expected = differences.filter((d) => /(\.connectaddr|\.bindonip|^log\.level)$/i.test(d));
    expect(differences.filter((d) => !expected.includes(d))).toEqual([]);
    expect(expected.length).toBeGreaterThan(0);
  });

  test(`${RUNS} runs through the HTTP API survive SIGKILLs of history, matching, frontend, PostgreSQL and a worker`, async () => {
    const c = running();
    const runs: StartedRun[] = [];
    const t0 = Date.now();

    // A retraining schedule (every minute) on a slice of its own; its first tick is a run like the others.
    const sched = await api('POST', '/v1/schedules', {
      scheduleId: SCHEDULE_ID,
      spec: { dataset: { percent: 9.5 } },
      every: '1 minute',
    });
    expect([sched.status, sched.json]).toEqual([201, expect.anything()]);

    // 20 runs through the API, each on a slice of its own (runs staging one slice at once would collide).
    for (let i = 0; i < RUNS; i++) {
      const res = await api('POST', '/v1/fine-tunes', { dataset: { percent: 5 + i / 10 } });
      expect(res.status).toBe(201);
      const body = res.json as { id: string; jobName: string; endpointName: string };
      expect(body.id).toMatch(/^ft-/);
      expect([body.jobName, body.endpointName]).toEqual([
        deriveRunNames(body.id).jobName,
        deriveRunNames(body.id).endpointName,
      ]);
      runs.push({ id: body.id, jobName: body.jobName, endpointName: body.endpointName, source: 'api' });
      await sleep(1500);
    }
    say(`${RUNS} runs started through the API in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const open = new Set(runs.map((r) => r.id));
    const watch = new ProgressWatch(() => [...open]);
    watch.start();
    let following = true;
    const closer = (async () => {
      // Follows the runs through the API; a run leaves `open` when it has ended.
      while (following) {
        for (const id of [...open]) {
          const res = await api('GET', `/v1/fine-tunes/${id}`).catch(() => undefined);
          const status = (res?.json as { status?: string } | null | undefined)?.status;
          if (res?.status === 200 && status !== undefined && status !== 'running') open.delete(id);
        }
        await sleep(2000);
      }
    })();
    const figures: KillFigure[] = [];
    let ended = false;
    try {
      // The kills, one after the other, each once the cluster has made progress since the last one.
      const targets: (ClusterProcessName | 'a worker')[] = ['history', 'matching', 'frontend', 'postgres', 'a worker'];
      let lastReady = Date.now();
      for (const target of targets) {
        await watch.progressAfter(lastReady, 120_000);
        await sleep(3000);
        const name: ClusterProcessName = target === 'a worker' ? await safeWorkerVictim([...open], 60_000) : target;
        const pid = c.pid(name) ?? -1;
        seenPids.add(pid);
        const runsOpenAtKill = open.size;
        const killedAt = await c.kill(name, 'SIGKILL');
        const { spawnedAt, readyAt } = await c.restart(name);
        const newPid = c.pid(name);
        if (newPid !== undefined) seenPids.add(newPid);
        const progressAt = await watch.progressAfter(readyAt, 300_000);
        lastReady = readyAt;
        const f: KillFigure = {
          target: target === 'a worker' ? `${name} (ftflow worker)` : name,
          pid,
          downSeconds: (readyAt - killedAt) / 1000,
          restartToProgressSeconds: (progressAt - spawnedAt) / 1000,
          runsOpenAtKill,
        };
        figures.push(f);
        say(
          `SIGKILL ${f.target} (pid ${pid}, ${runsOpenAtKill} runs open): ready again after ${f.downSeconds.toFixed(1)} s, ` +
            `progress ${f.restartToProgressSeconds.toFixed(1)} s after the restart`,
        );
      }
      expect(figures.map((f) => f.runsOpenAtKill).every((n) => n > 0)).toBe(true);

      // The schedule's first tick (pause it after, so it starts no more), its run followed like the others.
      const tick = await (async () => {
        const deadline = Date.now() + 180_000;
        for (;;) {
          const res = await api('GET', `/v1/schedules/${SCHEDULE_ID}`);
          const recent = (res.json as { recent?: { runId: string }[] }).recent ?? [];
          if (recent[0]) return recent[0];
          if (Date.now() > deadline) throw new Error('the schedule did not tick within 3 minutes');
          await sleep(2000);
        }
      })();
      await api('POST', `/v1/schedules/${SCHEDULE_ID}/pause`, { note: 'cluster suite: one tick is enough' });
      const tickNames = deriveRunNames(tick.runId);
      runs.push({
        id: tick.runId,
        jobName: tickNames.jobName,
        endpointName: tickNames.endpointName,
        source: 'schedule',
      });
      open.add(tick.runId);
      say(`schedule ${SCHEDULE_ID} ticked: run ${tick.runId}`);

      // Every run ends.
      const deadline = Date.now() + 480_000;
      while (open.size > 0 && Date.now() < deadline) await sleep(1000);
      ended = open.size === 0;
    } finally {
      following = false;
      await closer;
      await watch.stop();
    }
    expect({ ended, open: [...open] }).toEqual({ ended: true, open: [] });
    const runsSeconds = (Date.now() - t0) / 1000;

    // A janitor sweep on the cluster (the janitor's schedule, triggered through the API), after the runs.
    const sweep = await api('POST', '/v1/janitor/trigger?wait=60');
    expect(sweep.status).toBe(200);
    say(`janitor sweep: ${JSON.stringify(sweep.json).slice(0, 300)}`);

    // The verdict, from the API's records and the emulator's own.
    const statuses = await Promise.all(
      runs.map(async (r) => {
        const res = await api('GET', `/v1/fine-tunes/${r.id}`);
        return { id: r.id, http: res.status, status: (res.json as { status?: string }).status };
      }),
    );
    const listed = await api('GET', `/v1/fine-tunes?limit=100`);
    const listedIds = new Set(((listed.json as { data?: { id: string }[] }).data ?? []).map((r) => r.id));
    const resources = await emulatorResources();
    const perRun = runs.map((r) => ({
      id: r.id,
      jobs: resources.jobs.filter((j) => j.name === r.jobName).length,
      models: resources.models.filter((m) => m.jobName === r.jobName).length,
      endpoints: resources.endpoints.filter((e) => e.name === r.endpointName).length,
      endpointDeleted: resources.endpoints.filter((e) => e.name === r.endpointName).every((e) => e.deletedAt !== null),
    }));
    const completed = statuses.filter((s) => s.status === 'succeeded').length;
    const summary = {
      temporalServer: TEMPORAL_SERVER_VERSION,
      firstBuildSeconds: buildSeconds > 0 ? Math.round(buildSeconds) : null,
      clusterStartSeconds: Math.round(c.startupMs / 100) / 10,
      startupPhases: c.timings,
      runs: runs.length,
      runsCompleted: completed,
      runsLost: runs.filter((r) => !listedIds.has(r.id)).length,
      endpointsLeft: resources.counts.liveEndpoints,
      kills: figures,
      runsSeconds: Math.round(runsSeconds),
      suiteSeconds: Math.round((Date.now() - suiteStart) / 1000),
      unexpectedExits: unexpected.map((e) => e.name),
    };
    fs.writeFileSync(RESULTS_FILE, JSON.stringify(summary, null, 2) + '\n');
    say('');
    say(`Temporal ${TEMPORAL_SERVER_VERSION} cluster: ${summary.runs} runs (${RUNS} via the API, 1 scheduled)`);
    for (const f of figures)
      say(
        `  ${f.target.padEnd(28)} down ${f.downSeconds.toFixed(1).padStart(5)} s   restart to progress ${f.restartToProgressSeconds.toFixed(1).padStart(5)} s`,
      );
    say(
      `  runs completed ${completed}/${runs.length}, lost ${summary.runsLost}, endpoints left ${summary.endpointsLeft}`,
    );
    say(
      `  cluster start ${summary.clusterStartSeconds} s, runs ${summary.runsSeconds} s, suite so far ${summary.suiteSeconds} s` +
        (summary.firstBuildSeconds !== null ? `, first server build ${summary.firstBuildSeconds} s` : ''),
    );
    say(`  figures in ${path.relative(process.cwd(), RESULTS_FILE)}`);

    expect(statuses.filter((s) => s.status !== 'succeeded')).toEqual([]);
    expect(summary.runsLost).toBe(0);
    for (const r of perRun) expect(r).toEqual({ id: r.id, jobs: 1, models: 1, endpoints: 1, endpointDeleted: true });
    expect(resources.counts.liveEndpoints).toBe(0);
    expect(unexpected).toEqual([]);
  }, 1_200_000);
});
