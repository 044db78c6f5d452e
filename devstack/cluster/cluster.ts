// A self-hosted Temporal cluster on this machine, as production runs it, without Docker: PostgreSQL
// (unprivileged, data under .data/cluster/pg), the schema set up and upgraded by the pinned
// temporal-sql-tool (deploy/temporal/schema.sh, compose's schema job), the Temporal server's frontend,
// history, matching and worker services as four processes from one configuration file
// (deploy/temporal/config/cluster.yaml, which compose's server mounts too), the namespace and the runs'
// search attributes, two ftflow workers on the prebuilt workflow bundle, the HTTP API with a real key,
// the Temporal UI where its binary was built, and Azurite and the Azure ML emulator (devstack/stack).
// Every process is a supervised child (devstack/stack/child.ts): it can be SIGKILLed and started
// again by name (the cluster suite does), and stop() or a signal ends them all.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { FineTuneClient } from 'finetune-flow';
import { bundleWorkflows } from 'finetune-flow/bundle';
import { ENV, FINETUNE_SEARCH_ATTRIBUTE_KEYS, TASK_QUEUE } from 'finetune-flow/config';
import { stackEnv, startStack, WORKER_READY_LINE, type RunningStack } from '../stack';
import {
  commandLineOf,
  groupHasLiveMembers,
  isAlive,
  isRunning,
  sleep,
  stopProcessGroup,
  SupervisedChild,
  type ChildSpec,
} from '../stack/child';
import { DEFAULT_CERTS_DIR, DEFAULT_DATA_DIR, localWorkerProcessEnv, PROJECT_ROOT, WORKER_ENTRY } from '../stack/paths';
import { pickFreePort, probePort } from '../stack/ports';
import { retryUntil, tcpAccepts, waitForHttp } from '../stack/readiness';
import { ensureSearchAttributes } from '../stack/searchAttributes';
import {
  CLUSTER_API_KEY_SCOPES,
  CLUSTER_HOST,
  CLUSTER_NAMESPACE,
  DEFAULT_CLUSTER_PORTS,
  NAMESPACE_RETENTION_HOURS,
  POSTGRES_SETTINGS,
  SCHEMA_SCRIPT,
  TEMPORAL_DEPLOY_DIR,
  TEMPORAL_SERVICES,
  TEMPORAL_SQL,
  temporalServerArgs,
  temporalServerEnv,
  type ClusterPorts,
  type TemporalService,
} from './settings';
import {
  ensureServerTools,
  findPostgres,
  postgresRunAs,
  TEMPORAL_SERVER_BIN,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_SQL_TOOL_BIN,
  TEMPORAL_UI_BIN,
  uiToolReady,
  type PgPrograms,
  type RunAs,
} from './tools';

export const DEFAULT_CLUSTER_DATA_DIR = path.join(DEFAULT_DATA_DIR, 'cluster');
export const API_ENTRY = path.join(PROJECT_ROOT, 'dist', 'api', 'main.js');
export const CLI_ENTRY = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const API_READY_LINE = /\bAPI_READY\b/;

/** Process names: `postgres`, the Temporal services by their own names, `ui`, `worker-<n>` (ftflow), `api`. */
export type ClusterProcessName = 'postgres' | TemporalService | 'ui' | 'api' | `worker-${number}`;

export interface ClusterOptions {
  /** State and logs; default .data/cluster (PostgreSQL's data in <dataDir>/pg). */
  dataDir?: string;
  certsDir?: string;
  /** Ports; default DEFAULT_CLUSTER_PORTS; 0 = any free port. */
  ports?: Partial<ClusterPorts>;
  /** ftflow worker processes; default 2. */
  workers?: number;
  /** The Temporal UI: default when its binary was built (`node devstack/dist/cluster/main.js build --ui`). */
  ui?: boolean;
  /** The emulator's catalog and extra flags (e.g. a compressed clock). */
  emulator?: { catalog?: 'seed' | 'current'; extraArgs?: readonly string[] };
  /** Added to every ftflow worker's environment (e.g. polling intervals). */
  workerEnv?: Record<string, string>;
  /** Added to the API's environment (e.g. FTFLOW_SCHEDULE_MIN_INTERVAL). */
  apiEnv?: Record<string, string>;
  /** The janitor's schedule interval; default the product's (5 minutes); false = none. */
  janitorEvery?: string | false;
  taskQueue?: string;
  /** The Temporal services' log level; default warn. */
  serverLogLevel?: string;
  /** Per process; default 120 s. */
  readyTimeoutMs?: number;
  /** SIGTERM to SIGKILL, per process; default 15 s. */
  stopTimeoutMs?: number;
  /** Stop everything on SIGINT/SIGTERM/SIGHUP, then exit; default true. */
  handleSignals?: boolean;
  /** Where pids, ports and urls are recorded (`down` reads it); default <dataDir>/cluster.json; false = nowhere. */
  recordFile?: string | false;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  onUnexpectedExit?: (exit: ClusterExit) => void;
}

export interface ClusterUrls {
  temporalAddress: string;
  api: string;
  emulator: string;
  azuriteBlob: string;
  ui?: string;
}

export interface ClusterExit {
  readonly name: string;
  readonly pid: number;
  readonly exit: string;
  readonly message: string;
}

export interface ClusterProcessInfo {
  readonly name: string;
  readonly pid: number;
  readonly argvHint: string;
  readonly logFile: string;
}

export interface ClusterRecord {
  readonly version: 1;
  readonly kind: 'cluster';
  readonly supervisorPid: number | null;
  readonly dataDir: string;
  readonly startedAt: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly temporalServerVersion: string;
  readonly ports: ClusterPorts;
  readonly urls: Partial<ClusterUrls>;
  readonly processes: readonly ClusterProcessInfo[];
  /** Where the API key is (never the key). */
  readonly apiKeyFile: string;
  /** Client environment (no secrets). */
  readonly env: Record<string, string>;
}

export interface RunningCluster {
  readonly dataDir: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly ports: Readonly<ClusterPorts>;
  readonly urls: Readonly<ClusterUrls>;
  /** A key with every API scope (also in <dataDir>/api-key). */
  readonly apiKey: string;
  readonly caFile: string;
  /** Seconds of each start-up phase, in order. */
  readonly timings: Readonly<Record<string, number>>;
  readonly startupMs: number;
  /** ftflow worker process names (`worker-1`, ...). */
  readonly workerNames: readonly ClusterProcessName[];
  /** Resolves with the first process that died without being told to. */
  readonly unexpectedExit: Promise<ClusterExit>;
  /** The environment a client of this cluster needs (TEMPORAL_ADDRESS, namespace, task queue, Azure of the emulator). */
  clientEnv(): Record<string, string>;
  pid(name: ClusterProcessName): number | undefined;
  /** Signals the process's group (default SIGKILL) and waits until it is gone; returns when the signal was sent. */
  kill(name: ClusterProcessName, signal?: NodeJS.Signals): Promise<number>;
  /** Starts a killed process again with the same settings and data; resolves once it is ready. */
  restart(name: ClusterProcessName): Promise<{ spawnedAt: number; readyAt: number }>;
  stop(): Promise<void>;
  /** Lets this process exit while the cluster runs (`up --keep`); `down` stops it. */
  detach(): void;
}

interface ProcDef {
  readonly name: ClusterProcessName;
  spec(): Omit<ChildSpec, 'name' | 'logFile'>;
  ready(child: SupervisedChild, deadline: number): Promise<void>;
  /** First signal on stop (PostgreSQL: SIGINT, its fast shutdown); default SIGTERM. */
  readonly stopSignal?: NodeJS.Signals;
}

interface Proc {
  readonly def: ProcDef;
  child?: SupervisedChild;
  expectedDown: boolean;
  ready: boolean;
}

const liveClusters = new Set<ClusterImpl>();
let signalsOn = false;
let exitOn = false;
let signalled = false;

function onExit(): void {
  for (const c of liveClusters) c.killAllNow();
}

function onSignal(signal: NodeJS.Signals): void {
  const code = signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143;
  if (signalled) {
    // Second Ctrl-C: no more waiting.
    onExit();
    process.exit(code);
  }
  signalled = true;
  process.stderr.write(`\n[cluster] ${signal}: stopping the cluster (again to force) ...\n`);
  void Promise.allSettled([...liveClusters].map((c) => c.stop())).finally(() => process.exit(code));
}

/** Signal handlers while a cluster that wants them runs; an exit handler (SIGKILL to all) while any runs. */
function updateHandlers(): void {
  const wantSignals = [...liveClusters].some((c) => c.handleSignals);
  if (wantSignals !== signalsOn) {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      if (wantSignals) process.on(s, onSignal);
      else process.off(s, onSignal);
    }
    signalsOn = wantSignals;
  }
  const wantExit = liveClusters.size > 0;
  if (wantExit !== exitOn) {
    if (wantExit) process.on('exit', onExit);
    else process.off('exit', onExit);
    exitOn = wantExit;
  }
}

/** A secret kept in a file of the data folder (mode 600), made once. */
function loadOrCreateSecret(file: string, make: () => string): string {
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing !== '') return existing;
  } catch {
    // first start
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const value = make();
  fs.writeFileSync(file, value + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return value;
}

function ownBy(dir: string, runAs: RunAs | undefined, mode: number): void {
  fs.mkdirSync(dir, { recursive: true });
  if (runAs) fs.chownSync(dir, runAs.uid, runAs.gid);
  fs.chmodSync(dir, mode);
}

class ClusterImpl implements RunningCluster {
  readonly dataDir: string;
  readonly certsDir: string;
  readonly caFile: string;
  readonly namespace = CLUSTER_NAMESPACE;
  readonly taskQueue: string;
  readonly ports: ClusterPorts = { ...DEFAULT_CLUSTER_PORTS };
  readonly urls: ClusterUrls = { temporalAddress: '', api: '', emulator: '', azuriteBlob: '' };
  apiKey = '';
  readonly timings: Record<string, number> = {};
  startupMs = 0;
  readonly workerNames: ClusterProcessName[] = [];
  readonly handleSignals: boolean;
  readonly unexpectedExit: Promise<ClusterExit>;
  readonly recordFile: string | undefined;
  readonly apiKeyFile: string;
  stack: RunningStack | undefined;
  sqlPassword = '';
  private resolveUnexpected: (e: ClusterExit) => void = () => undefined;
  private readonly procs = new Map<string, Proc>();
  private stopping: Promise<void> | undefined;
  private detached = false;
  private readonly startedAt = new Date();

  constructor(
    readonly opts: ClusterOptions,
    readonly log: (line: string) => void,
  ) {
    this.dataDir = path.resolve(opts.dataDir ?? DEFAULT_CLUSTER_DATA_DIR);
    this.certsDir = path.resolve(opts.certsDir ?? DEFAULT_CERTS_DIR);
    this.caFile = path.join(this.certsDir, 'ca.pem');
    this.taskQueue = opts.taskQueue ?? TASK_QUEUE;
    this.handleSignals = opts.handleSignals ?? true;
    this.recordFile =
      opts.recordFile === false ? undefined : path.resolve(opts.recordFile ?? path.join(this.dataDir, 'cluster.json'));
    this.apiKeyFile = path.join(this.dataDir, 'api-key');
    this.unexpectedExit = new Promise((resolve) => (this.resolveUnexpected = resolve));
  }

  logFile(name: string): string {
    return path.join(this.dataDir, 'logs', `${name}.log`);
  }

  wiring(): ClusterWiring {
    return {
      temporalAddress: this.urls.temporalAddress,
      namespace: this.namespace,
      taskQueue: this.taskQueue,
      azure: this.stack ? stackEnv(this.stack) : {},
    };
  }

  clientEnv(): Record<string, string> {
    const w = this.wiring();
    return {
      ...w.azure,
      [ENV.temporalAddress]: w.temporalAddress,
      [ENV.temporalNamespace]: w.namespace,
      [ENV.taskQueue]: w.taskQueue,
    };
  }

  pid(name: ClusterProcessName): number | undefined {
    const child = this.procs.get(name)?.child;
    return child?.isRunning() ? child.pid : undefined;
  }

  get processes(): ClusterProcessInfo[] {
    const own = [...this.procs.values()].flatMap((p) =>
      p.child ? [{ name: p.def.name, pid: p.child.pid, argvHint: p.child.argvHint, logFile: p.child.logFile }] : [],
    );
    const stackProcs = (this.stack?.processes ?? []).map((p) => ({
      name: p.name,
      pid: p.pid,
      argvHint: p.argvHint,
      logFile: p.logFile,
    }));
    return [...stackProcs, ...own];
  }

  writeRecord(): void {
    if (!this.recordFile) return;
    const env = this.clientEnv();
    delete env[ENV.clientSecret];
    const rec: ClusterRecord = {
      version: 1,
      kind: 'cluster',
      supervisorPid: this.detached ? null : process.pid,
      dataDir: this.dataDir,
      startedAt: this.startedAt.toISOString(),
      namespace: this.namespace,
      taskQueue: this.taskQueue,
      temporalServerVersion: TEMPORAL_SERVER_VERSION,
      ports: this.ports,
      urls: this.urls,
      processes: this.processes,
      apiKeyFile: this.apiKeyFile,
      env,
    };
    fs.mkdirSync(path.dirname(this.recordFile), { recursive: true });
    const tmp = `${this.recordFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(rec, null, 2) + '\n');
    fs.renameSync(tmp, this.recordFile);
  }

  /** Spawns the process and waits until it is ready. */
  async launch(def: ProcDef): Promise<Proc> {
    let proc = this.procs.get(def.name);
    if (!proc) {
      proc = { def, expectedDown: false, ready: false };
      this.procs.set(def.name, proc);
    }
    proc.expectedDown = false;
    proc.ready = false;
    const timeout = this.opts.readyTimeoutMs ?? 120_000;
    const child = await SupervisedChild.spawn({ ...def.spec(), name: def.name, logFile: this.logFile(def.name) });
    proc.child = child;
    this.writeRecord();
    const p = proc;
    void child.exited.then(() => {
      if (!p.ready || p.expectedDown || this.stopping !== undefined || this.detached || p.child !== child) return;
      const message = `${def.name} (pid ${child.pid}) exited unexpectedly (${child.describeExit()}).${child.tailText(20)}`;
      const e: ClusterExit = { name: def.name, pid: child.pid, exit: child.describeExit(), message };
      if (this.opts.onUnexpectedExit) this.opts.onUnexpectedExit(e);
      else this.log(message);
      this.resolveUnexpected(e);
    });
    await def.ready(child, Date.now() + timeout);
    proc.ready = true;
    return proc;
  }

  private proc(name: ClusterProcessName): Proc {
    const p = this.procs.get(name);
    if (!p) throw new Error(`the cluster has no process ${name} (it has ${[...this.procs.keys()].join(', ')})`);
    return p;
  }

  async kill(name: ClusterProcessName, signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
    const p = this.proc(name);
    const child = p.child;
    if (!child || !child.isRunning()) throw new Error(`${name} is not running`);
    p.expectedDown = true;
    const at = Date.now();
    child.killNow(signal);
    await child.exited;
    const deadline = Date.now() + 5000;
    while (groupHasLiveMembers(child.pid) && Date.now() < deadline) await sleep(20);
    return at;
  }

  async restart(name: ClusterProcessName): Promise<{ spawnedAt: number; readyAt: number }> {
    const p = this.proc(name);
    if (p.child?.isRunning()) throw new Error(`${name} is still running (pid ${p.child.pid}); kill it first`);
    const spawnedAt = Date.now();
    await this.launch(p.def);
    return { spawnedAt, readyAt: Date.now() };
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const grace = this.opts.stopTimeoutMs ?? 15_000;
      for (const p of [...this.procs.values()].reverse()) {
        const child = p.child;
        if (!child) continue;
        const t0 = Date.now();
        const wasRunning = child.isRunning();
        if (p.def.stopSignal && wasRunning) child.killNow(p.def.stopSignal);
        await child.stop(grace);
        if (wasRunning)
          this.log(`${p.def.name} stopped (${child.describeExit()}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      await this.stack?.stop();
      if (this.recordFile) fs.rmSync(this.recordFile, { force: true });
      liveClusters.delete(this);
      updateHandlers();
    })();
    return this.stopping;
  }

  detach(): void {
    this.detached = true;
    for (const p of this.procs.values()) p.child?.detach();
    this.stack?.detach();
    liveClusters.delete(this);
    updateHandlers();
    this.writeRecord();
  }

  killAllNow(): void {
    if (this.detached) return;
    for (const p of this.procs.values()) p.child?.killNow('SIGKILL');
  }

  get stopped(): boolean {
    return this.stopping !== undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// The ftflow processes' environment: what compose's worker and api services set, with this machine's values
// (test/production/clusterParity.test.ts holds the names to compose's).

export interface ClusterWiring {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** The Azure side: stackEnv() of Azurite and the emulator (workspace, identity, endpoints, CA). */
  azure: Record<string, string>;
}

/** A worker's environment; `workers` processes share the ARM budget (compose: FTFLOW_WORKER_REPLICAS). */
export function clusterWorkerEnv(w: ClusterWiring, bundlePath: string, workers: number): Record<string, string> {
  return {
    ...w.azure,
    [ENV.temporalAddress]: w.temporalAddress,
    [ENV.temporalNamespace]: w.namespace,
    [ENV.taskQueue]: w.taskQueue,
    FTFLOW_WORKFLOW_BUNDLE: bundlePath,
    FTFLOW_ARM_BUDGET_SPLIT: String(workers),
    ...localWorkerProcessEnv(),
  };
}

export function clusterApiEnv(w: ClusterWiring, port: number, keysFile: string): Record<string, string> {
  return {
    [ENV.temporalAddress]: w.temporalAddress,
    [ENV.temporalNamespace]: w.namespace,
    [ENV.taskQueue]: w.taskQueue,
    [ENV.apiHost]: CLUSTER_HOST,
    [ENV.apiPort]: String(port),
    [ENV.apiKeysFile]: keysFile,
  };
}

// ------------------------------------------------------------------------------------------------
// The parts.

/** The exit code of a short command (output discarded); null when it was killed or did not start. */
function exitCode(command: string, args: readonly string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: 'ignore' });
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
}

/** Runs a one-shot supervised child to its end; throws with its last log lines unless it exits 0. */
async function runOnce(spec: ChildSpec, timeoutMs: number): Promise<void> {
  const child = await SupervisedChild.spawn(spec);
  const result = await Promise.race([child.exited, sleep(timeoutMs).then(() => undefined)]);
  if (result === undefined) {
    await child.stop(2000);
    throw new Error(`${spec.name} did not finish within ${timeoutMs / 1000} s.${child.tailText()}`);
  }
  if (result.code !== 0) throw child.diedError('with an error');
}

function postgresDef(c: ClusterImpl, pg: PgPrograms, runAs: RunAs | undefined): ProcDef {
  const data = path.join(c.dataDir, 'pg');
  const runDir = path.join(c.dataDir, 'pg-run');
  return {
    name: 'postgres',
    stopSignal: 'SIGINT', // fast shutdown: SIGTERM would wait for every client to disconnect
    spec: () => ({
      command: pg.postgres,
      args: [
        '-D',
        data,
        '-p',
        String(c.ports.postgres),
        '-c',
        `listen_addresses=${CLUSTER_HOST}`,
        '-k',
        runDir,
        ...Object.entries(POSTGRES_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
      cwd: data,
      argvHint: data,
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    }),
    ready: (child, deadline) =>
      retryUntil(
        child,
        deadline,
        `PostgreSQL accepted connections on port ${c.ports.postgres}`,
        async () =>
          (await exitCode(pg.pgIsready, [
            '-q',
            '-h',
            CLUSTER_HOST,
            '-p',
            String(c.ports.postgres),
            '-d',
            'postgres',
            '-U',
            TEMPORAL_SQL.SQL_USER,
          ])) === 0,
        200,
      ),
  };
}

/** initdb on first start: user temporal, password authentication over TCP, the data owned by `runAs`. */
async function initPostgres(c: ClusterImpl, pg: PgPrograms, runAs: RunAs | undefined): Promise<boolean> {
  const data = path.join(c.dataDir, 'pg');
  const runDir = path.join(c.dataDir, 'pg-run');
  ownBy(runDir, runAs, 0o700);
  if (fs.existsSync(path.join(data, 'PG_VERSION'))) {
    if (runAs) {
      const st = fs.statSync(data);
      if (st.uid !== runAs.uid)
        throw new Error(
          `${data} belongs to uid ${st.uid}, not ${runAs.name} (${runAs.uid}): remove it or set FTFLOW_PG_USER.`,
        );
    }
    return false;
  }
  ownBy(data, runAs, 0o700);
  const pwfile = path.join(runDir, 'initdb-password');
  fs.writeFileSync(pwfile, c.sqlPassword + '\n', { mode: 0o600 });
  if (runAs) fs.chownSync(pwfile, runAs.uid, runAs.gid);
  try {
    await runOnce(
      {
        name: 'initdb',
        command: pg.initdb,
        args: [
          '-D',
          data,
          '-U',
          TEMPORAL_SQL.SQL_USER,
          '-E',
          'UTF8',
          '--locale=C',
          '--auth-local=trust',
          '--auth-host=scram-sha-256',
          `--pwfile=${pwfile}`,
        ],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
        cwd: runDir,
        logFile: c.logFile('initdb'),
        argvHint: 'initdb',
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      },
      120_000,
    );
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  return true;
}

function temporalDef(c: ClusterImpl, service: TemporalService, env: NodeJS.ProcessEnv): ProcDef {
  // The worker service serves no gRPC of its own: it is ready once it listens for membership (ringpop).
  const port = service === 'worker' ? c.ports.workerMembership : c.ports[service];
  return {
    name: service,
    spec: () => ({
      command: TEMPORAL_SERVER_BIN,
      args: temporalServerArgs([service]),
      env: { ...env, ...temporalServerEnv(c.ports, c.sqlPassword, c.opts.serverLogLevel ?? 'warn') },
      cwd: TEMPORAL_DEPLOY_DIR,
      argvHint: `--service ${service}`,
    }),
    ready: async (child, deadline) => {
      await retryUntil(
        child,
        deadline,
        `the ${service} service listened on ${port}`,
        () => tcpAccepts(CLUSTER_HOST, port),
        100,
      );
      if (service !== 'frontend') return;
      await retryUntil(child, deadline, `the frontend answered on ${c.urls.temporalAddress}`, async () => {
        const connection = await Connection.connect({ address: c.urls.temporalAddress, connectTimeout: 2000 });
        try {
          await connection.withDeadline(Date.now() + 5000, () => connection.workflowService.getSystemInfo({}));
          return true;
        } finally {
          await connection.close();
        }
      });
    },
  };
}

const GRPC_ALREADY_EXISTS = 6;

/** The namespace (as compose's one-shot job creates it) and the runs' search attributes, then a query over them. */
async function prepareNamespace(c: ClusterImpl, deadline: number): Promise<string[]> {
  const connection = await Connection.connect({ address: c.urls.temporalAddress });
  try {
    const svc = connection.workflowService;
    await retryUntil(undefined, deadline, `namespace ${c.namespace} was registered`, async () => {
      try {
        await svc.registerNamespace({
          namespace: c.namespace,
          workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION_HOURS * 3600 * 1000),
          description: 'finetune-flow runs',
        });
      } catch (err) {
        if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
      }
      await svc.describeNamespace({ namespace: c.namespace });
      return true;
    });
    let added: string[] = [];
    await retryUntil(undefined, deadline, 'the search attributes were registered', async () => {
      added = [...added, ...(await ensureSearchAttributes(connection, c.namespace))];
      return true;
    });
    // Usable once the frontend's view of the namespace has them: a list query that names each one.
    const query = FINETUNE_SEARCH_ATTRIBUTE_KEYS.map((k) => `${k.name} = 'probe'`).join(' AND ');
    await retryUntil(
      undefined,
      deadline,
      'a list query over the search attributes was accepted',
      async () => {
        await svc.listWorkflowExecutions({ namespace: c.namespace, query, pageSize: 1 });
        return true;
      },
      500,
    );
    return added;
  } finally {
    await connection.close();
  }
}

/** The API key file and a key with every scope, made once with the product's own `ftflow api-key create`. */
async function ensureApiKey(c: ClusterImpl, keysFile: string): Promise<string> {
  if (fs.existsSync(keysFile) && fs.existsSync(c.apiKeyFile)) {
    const key = fs.readFileSync(c.apiKeyFile, 'utf8').trim();
    if (key !== '') return key;
  }
  fs.rmSync(keysFile, { force: true });
  const outFile = path.join(c.dataDir, 'logs', 'api-key-create.out');
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const fd = fs.openSync(outFile, 'w');
  fs.closeSync(fd);
  const child = await SupervisedChild.spawn({
    name: 'api-key-create',
    command: process.execPath,
    args: [
      CLI_ENTRY,
      'api-key',
      'create',
      'cluster',
      '--file',
      keysFile,
      '--scopes',
      CLUSTER_API_KEY_SCOPES.join(','),
      '--json',
    ],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    cwd: PROJECT_ROOT,
    logFile: outFile,
    argvHint: 'api-key',
  });
  const exit = await child.exited;
  const text = fs.readFileSync(outFile, 'utf8');
  if (exit.code !== 0) throw new Error(`ftflow api-key create failed (${child.describeExit()}):\n${text}`);
  const jsonStart = text.indexOf('{');
  const created = JSON.parse(text.slice(jsonStart, text.lastIndexOf('}') + 1)) as { key?: unknown };
  // The key itself is in that output: keep it only in the mode-600 key file.
  fs.rmSync(outFile, { force: true });
  if (typeof created.key !== 'string') throw new Error('ftflow api-key create printed no key');
  fs.writeFileSync(c.apiKeyFile, created.key + '\n', { mode: 0o600 });
  fs.chmodSync(c.apiKeyFile, 0o600);
  return created.key;
}

function uiDef(c: ClusterImpl): ProcDef {
  const root = path.join(c.dataDir, 'ui');
  return {
    name: 'ui',
    spec: () => {
      fs.mkdirSync(path.join(root, 'config'), { recursive: true });
      fs.writeFileSync(
        path.join(root, 'config', 'cluster.yaml'),
        [
          '# Written by devstack/cluster at every start.',
          `temporalGrpcAddress: ${c.urls.temporalAddress}`,
          `host: ${CLUSTER_HOST}`,
          `port: ${c.ports.ui}`,
          'enableUi: true',
          `defaultNamespace: ${c.namespace}`,
          'notifyOnNewVersion: false',
          'auth:',
          '  enabled: false',
          'cors:',
          '  cookieInsecure: true',
          '',
        ].join('\n'),
      );
      return {
        command: TEMPORAL_UI_BIN,
        args: ['--root', root, '--env', 'cluster', 'start'],
        env: { PATH: process.env.PATH ?? '' },
        cwd: root,
        argvHint: 'temporal-ui-server',
      };
    },
    ready: (child, deadline) => waitForHttp(`http://${CLUSTER_HOST}:${c.ports.ui}/`, deadline, child, (s) => s === 200),
  };
}

function checkFile(file: string, what: string): void {
  if (!fs.existsSync(file)) throw new Error(`${what} not found at ${file}: build first (\`make build\`).`);
}

async function choosePorts(c: ClusterImpl, wanted: Partial<ClusterPorts>): Promise<void> {
  const taken = new Set<number>();
  for (const key of Object.keys(DEFAULT_CLUSTER_PORTS) as (keyof ClusterPorts)[]) {
    const port = wanted[key] ?? DEFAULT_CLUSTER_PORTS[key];
    if (port !== 0) {
      if (taken.has(port)) throw new Error(`port ${port} is configured twice (${key})`);
      const state = await probePort(port, CLUSTER_HOST);
      if (state !== 'free')
        throw new Error(
          `port ${port} on ${CLUSTER_HOST} (the cluster's ${key}) is ${state === 'in-use' ? 'in use' : 'not allowed'}: ` +
            'stop what listens there (a `make stack` or `make cluster` left running: `make stack-down`, `make cluster-down`), ' +
            'or start with --free-ports.',
        );
      c.ports[key] = port;
      taken.add(port);
    }
  }
  for (const key of Object.keys(DEFAULT_CLUSTER_PORTS) as (keyof ClusterPorts)[]) {
    if ((wanted[key] ?? DEFAULT_CLUSTER_PORTS[key]) !== 0) continue;
    const port = LOW_PORTS.has(key) ? await pickLowFreePort(taken) : await pickFreePort(taken, CLUSTER_HOST);
    c.ports[key] = port;
    taken.add(port);
  }
}

/**
 * The Temporal services' ports go into the cluster_membership table, whose port columns are smallint
 * (at most 32767): free ports for them are looked for below the OS's ephemeral range (32768 and up).
 */
const LOW_PORTS = new Set<keyof ClusterPorts>([
  'frontend',
  'frontendHttp',
  'frontendMembership',
  'history',
  'historyMembership',
  'matching',
  'matchingMembership',
  'worker',
  'workerMembership',
]);

async function pickLowFreePort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (taken.has(port)) continue;
    if ((await probePort(port, CLUSTER_HOST)) === 'free') return port;
  }
  throw new Error(`no free port between 20000 and 32000 on ${CLUSTER_HOST}`);
}

/**
 * Starts the cluster and waits until every part answers. On a failure it stops what it started and
 * rejects with a message naming the part and quoting its log.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<RunningCluster> {
  const t0 = Date.now();
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(`[cluster] ${line}\n`));
  const c = new ClusterImpl(opts, log);
  let phaseStart = Date.now();
  const phase = (name: string): void => {
    c.timings[name] = (Date.now() - phaseStart) / 1000;
    phaseStart = Date.now();
  };

  // --- preflight -------------------------------------------------------------------------------
  for (const [file, what] of [
    [WORKER_ENTRY, 'the worker (dist/worker.js)'],
    [API_ENTRY, 'the HTTP API (dist/api/main.js)'],
    [CLI_ENTRY, 'the CLI (dist/cli/main.js)'],
  ] as const)
    checkFile(file, what);
  if (!fs.existsSync(c.caFile))
    throw new Error(`${c.caFile} not found: run \`make setup\` (it makes the certificates).`);
  const pg = findPostgres(env);
  const runAs = postgresRunAs(env);
  await ensureServerTools(log, env);
  phase('server tools');
  const withUi = opts.ui ?? uiToolReady();
  if (withUi && !uiToolReady())
    throw new Error('the Temporal UI was asked for but is not built: node devstack/dist/cluster/main.js build --ui');
  await choosePorts(c, { ...opts.ports, ...(withUi ? {} : { ui: opts.ports?.ui ?? 0 }) });
  c.urls.temporalAddress = `${CLUSTER_HOST}:${c.ports.frontend}`;
  c.urls.api = `http://${CLUSTER_HOST}:${c.ports.api}`;
  fs.mkdirSync(path.join(c.dataDir, 'logs'), { recursive: true });
  c.sqlPassword = loadOrCreateSecret(path.join(c.dataDir, 'postgres-password'), () =>
    randomBytes(24).toString('base64url'),
  );
  liveClusters.add(c);
  updateHandlers();

  let sideBySide: Promise<unknown> = Promise.resolve();
  try {
    // Azurite, the emulator and the workflow bundle do not need the cluster: started beside it.
    const besides = Promise.all([
      startStack({
        dataDir: c.dataDir,
        certsDir: c.certsDir,
        components: ['azurite', 'emulator'],
        ports: { azurite: c.ports.azurite, emulator: c.ports.emulator },
        ...(opts.emulator ? { emulator: opts.emulator } : {}),
        env,
        handleSignals: false,
        stackFile: false,
        log: (line) => log(line),
        onUnexpectedExit: (u) => {
          const e: ClusterExit = { name: u.name, pid: u.pid, exit: u.exit, message: u.message };
          if (opts.onUnexpectedExit) opts.onUnexpectedExit(e);
          else log(u.message);
        },
      }).then((stack) => {
        c.stack = stack;
        c.urls.emulator = stack.urls.emulator ?? '';
        c.urls.azuriteBlob = stack.urls.azuriteBlob ?? '';
        c.writeRecord();
      }),
      bundleWorkflows(path.join(c.dataDir, 'workflow-bundle.js')),
    ]);
    sideBySide = besides;
    besides.catch(() => undefined);

    // PostgreSQL, as an unprivileged user, on its data folder.
    const fresh = await initPostgres(c, pg, runAs);
    const pgProc = await c.launch(postgresDef(c, pg, runAs));
    log(
      `postgres ready on ${CLUSTER_HOST}:${c.ports.postgres} (PostgreSQL ${pg.version}${runAs ? ` as ${runAs.name}` : ''}, ` +
        `${fresh ? 'new' : 'existing'} data in ${path.relative(process.cwd(), path.join(c.dataDir, 'pg'))}, pid ${pgProc.child?.pid ?? '?'})`,
    );
    phase('postgres');

    // The schema: compose's schema job, with the temporal-sql-tool built beside the server.
    await runOnce(
      {
        name: 'schema',
        command: '/bin/sh',
        args: [SCHEMA_SCRIPT],
        env: {
          PATH: env.PATH ?? '',
          ...temporalServerEnv(c.ports, c.sqlPassword),
          TEMPORAL_SQL_TOOL: TEMPORAL_SQL_TOOL_BIN,
        },
        cwd: TEMPORAL_DEPLOY_DIR,
        logFile: c.logFile('schema'),
        argvHint: 'schema.sh',
      },
      120_000,
    );
    log(
      `schema set up and upgraded by temporal-sql-tool ${TEMPORAL_SERVER_VERSION} (log ${path.relative(process.cwd(), c.logFile('schema'))})`,
    );
    phase('schema');

    // The four services, each its own process, from deploy/temporal/config/cluster.yaml.
    // History first: on a new database the first process to start writes the cluster's metadata, and
    // processes that start at the same moment race to write it (the losers exit). Then the other three.
    const [first, ...rest] = TEMPORAL_SERVICES;
    await c.launch(temporalDef(c, first, env));
    await Promise.all(rest.map((s) => c.launch(temporalDef(c, s, env))));
    log(
      `Temporal ${TEMPORAL_SERVER_VERSION} ready: ${TEMPORAL_SERVICES.map((s) => `${s} :${c.ports[s]} (pid ${c.pid(s) ?? '?'})`).join(', ')}`,
    );
    phase('temporal services');

    const added = await prepareNamespace(c, Date.now() + (opts.readyTimeoutMs ?? 120_000));
    log(
      `namespace ${c.namespace} ready; search attributes ${added.length > 0 ? `registered: ${added.join(', ')}` : 'already registered'}`,
    );
    phase('namespace');

    const [, bundle] = await besides;
    phase('azurite, emulator, bundle');

    // The ftflow workers, on the prebuilt bundle as compose's image runs them.
    const workerCount = opts.workers ?? 2;
    const workerEnv: NodeJS.ProcessEnv = {
      ...env,
      ...clusterWorkerEnv(c.wiring(), bundle.path, workerCount),
      ...(opts.workerEnv ?? {}),
    };
    await Promise.all(
      Array.from({ length: workerCount }, (_, i) => {
        const name: ClusterProcessName = `worker-${i + 1}`;
        c.workerNames.push(name);
        return c.launch({
          name,
          spec: () => ({
            command: process.execPath,
            args: [WORKER_ENTRY],
            env: workerEnv,
            cwd: PROJECT_ROOT,
            argvHint: 'worker.js',
          }),
          ready: (child, deadline) => child.waitForLine(WORKER_READY_LINE, deadline).then(() => undefined),
        });
      }),
    );
    log(
      `${workerCount} ftflow workers ready on task queue ${c.taskQueue} (${c.workerNames.map((n) => `pid ${c.pid(n) ?? '?'}`).join(', ')})`,
    );
    phase('workers');

    // The HTTP API with a real key.
    const keysFile = path.join(c.dataDir, 'api-keys.json');
    c.apiKey = await ensureApiKey(c, keysFile);
    await c.launch({
      name: 'api',
      spec: () => ({
        command: process.execPath,
        args: [API_ENTRY],
        env: { ...env, ...clusterApiEnv(c.wiring(), c.ports.api, keysFile), ...(opts.apiEnv ?? {}) },
        cwd: PROJECT_ROOT,
        argvHint: 'api/main.js',
      }),
      ready: async (child, deadline) => {
        await child.waitForLine(API_READY_LINE, deadline);
        await waitForHttp(`${c.urls.api}/healthz`, deadline, child, (s) => s === 200);
      },
    });
    log(`API ready at ${c.urls.api} (key in ${path.relative(process.cwd(), c.apiKeyFile)})`);

    if (opts.janitorEvery !== false) {
      const client = await FineTuneClient.connect(
        { address: c.urls.temporalAddress, namespace: c.namespace, taskQueue: c.taskQueue },
        {},
      );
      try {
        const every = opts.janitorEvery ?? undefined;
        await client.janitor.ensureSchedule(every !== undefined ? { every } : {});
      } finally {
        await client.close();
      }
      log(`janitor scheduled${opts.janitorEvery ? ` every ${opts.janitorEvery}` : ''}`);
    }
    phase('api, janitor');

    if (withUi) {
      await c.launch(uiDef(c));
      c.urls.ui = `http://${CLUSTER_HOST}:${c.ports.ui}`;
      log(`Temporal UI ready at ${c.urls.ui}`);
      phase('ui');
    }
  } catch (err) {
    // Whatever started beside the failing part is stopped too (Azurite and the emulator may still be starting).
    await sideBySide.catch(() => undefined);
    await c.stop();
    throw err;
  }
  c.startupMs = Date.now() - t0;
  c.writeRecord();
  return c;
}

// ------------------------------------------------------------------------------------------------
// A cluster recorded in <dataDir>/cluster.json, possibly started by another process (`down`, `status`).

export function clusterRecordFile(dataDir: string = DEFAULT_CLUSTER_DATA_DIR): string {
  return path.join(path.resolve(dataDir), 'cluster.json');
}

export function readClusterRecord(file: string): ClusterRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const rec = JSON.parse(text) as ClusterRecord;
  if (rec.version !== 1 || rec.kind !== 'cluster' || !Array.isArray(rec.processes))
    throw new Error(`${file} is not a cluster record`);
  return rec;
}

function isRecorded(p: ClusterProcessInfo): boolean {
  const cmd = commandLineOf(p.pid);
  if (cmd !== undefined && cmd !== '') return cmd.includes(p.argvHint);
  if (cmd === undefined && !fs.existsSync('/proc/self')) return isAlive(-p.pid);
  return groupHasLiveMembers(p.pid);
}

export function liveClusterProcesses(rec: ClusterRecord): ClusterProcessInfo[] {
  return rec.processes.filter(isRecorded);
}

/** Asks a live supervisor to stop the cluster, then stops whatever recorded process is left. */
export async function stopRecordedCluster(
  file: string,
  log: (line: string) => void = (line) => process.stderr.write(`[cluster] ${line}\n`),
  graceMs = 15_000,
): Promise<{ found: boolean; stopped: string[] }> {
  const rec = readClusterRecord(file);
  if (!rec) return { found: false, stopped: [] };
  const sup = rec.supervisorPid;
  if (sup !== null && sup !== process.pid && isRunning(sup) && (commandLineOf(sup)?.includes('node') ?? true)) {
    log(`asking the supervising process ${sup} to stop the cluster ...`);
    try {
      process.kill(sup, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
    const deadline = Date.now() + graceMs * rec.processes.length + 5000;
    while (Date.now() < deadline && isRunning(sup)) await sleep(100);
  }
  const stopped: string[] = [];
  for (const p of [...rec.processes].reverse()) {
    if (!isRecorded(p)) continue;
    const t0 = Date.now();
    if (p.name === 'postgres') {
      try {
        process.kill(p.pid, 'SIGINT');
      } catch {
        // gone
      }
    }
    await stopProcessGroup(p.pid, graceMs);
    stopped.push(p.name);
    log(`${p.name} (pid ${p.pid}) stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  fs.rmSync(file, { force: true });
  return { found: true, stopped };
}
