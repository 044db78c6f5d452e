// The embedded local stack: Temporal dev server, Azurite (Blob), the Azure ML emulator and the
// worker, each a supervised child process (see child.ts), started in that order, each awaited until
// it answers, and stopped in reverse order.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AZURITE_ACCOUNT, ENV, LOCAL_AZURE, TASK_QUEUE } from 'finetune-flow/config';
import {
  commandLineOf,
  groupHasLiveMembers,
  isAlive,
  isRunning,
  sleep,
  stopProcessGroup,
  SupervisedChild,
  type ChildSpec,
} from './child';
import {
  DEFAULT_CERTS_DIR,
  DEFAULT_DATA_DIR,
  EMULATOR_ENTRY,
  PROJECT_ROOT,
  WORKER_ENTRY,
  azuriteBlobEntry,
  resolveTemporalCli,
  localWorkerProcessEnv,
} from './paths';
import { assertDistinct, assertPortFree, pickFreePort, STACK_HOST, wantedPorts, type PortName } from './ports';
import { waitForHttp, waitForTemporal } from './readiness';
import { searchAttributeArgs } from './searchAttributes';
import { DEFAULT_JANITOR_EVERY, FineTuneClient, JANITOR_SCHEDULE_ID } from 'finetune-flow';

export type ComponentName = 'temporal' | 'azurite' | 'emulator' | 'worker';

/** Start order; stop runs in reverse. */
export const ALL_COMPONENTS: readonly ComponentName[] = ['temporal', 'azurite', 'emulator', 'worker'];
/** What the jest global set-up starts (tests run their own workers). */
export const TEST_COMPONENTS: readonly ComponentName[] = ['temporal', 'azurite', 'emulator'];

export const DEFAULT_NAMESPACE = 'default';
export const WORKER_READY_LINE = /\bWORKER_READY\b/;
export const EMULATOR_HEALTH_PATH = '/_emulator/health';

export type StackPorts = Record<PortName, number>;

export interface StackOptions {
  /** Folder for state and logs; default <project>/.data. */
  dataDir?: string;
  /** Folder with ca.pem, server.pem, server-key.pem (scripts/certs.sh); default <project>/.data/certs. */
  certsDir?: string;
  /** Which components to start, default all four. Started in the order of ALL_COMPONENTS. */
  components?: readonly ComponentName[];
  /** Ports; default from FTFLOW_TEMPORAL_PORT, FTFLOW_TEMPORAL_UI_PORT, FTFLOW_AZURITE_PORT, FTFLOW_EMULATOR_PORT, else DEFAULT_PORTS. 0 = any free port. */
  ports?: Partial<StackPorts>;
  /** Environment to read settings from and to pass to the children; default process.env. */
  env?: NodeJS.ProcessEnv;
  temporal?: {
    /** No Web UI (and no UI port). */
    headless?: boolean;
    /** No SQLite file: everything is lost when the server stops (tests). */
    inMemory?: boolean;
    /** Explicit CLI path; default $TEMPORAL_CLI, then .tools/temporal-path (scripts/setup.sh). */
    cliPath?: string;
    namespace?: string;
    logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
    extraArgs?: readonly string[];
  };
  /** debugLog: Azurite's debug log file (`--debug`): a line per request with its headers (benches count
   *  Blob requests per client from it); none by default. */
  azurite?: { inMemory?: boolean; debugLog?: string };
  /** stateFile: where the emulator keeps its state (default <dataDir>/emulator/state.json); false = in memory
   *  only (benches: the state file is rewritten after every mutation, which costs more as resources pile up).
   *  catalog: the registry it serves, 'seed' (the notebook's Phi-3 days, the default) or 'current' (today's:
   *  Phi-4 fine-tunable, Phi-3/3.5 retired; its --catalog option). */
  emulator?: {
    entry?: string;
    extraArgs?: readonly string[];
    stateFile?: string | false;
    catalog?: 'seed' | 'current';
  };
  worker?: { entry?: string; env?: Record<string, string>; args?: readonly string[] };
  /** With a worker: the janitor's schedule (deletes endpoints of ended runs); default every 5 minutes; false = none. */
  janitor?: { every?: string } | false;
  /** Per-component readiness limit; default 60 s. */
  readyTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL per component; default 10 s. */
  stopTimeoutMs?: number;
  /** Stop the stack on SIGINT/SIGTERM/SIGHUP of this process, then exit; default true. */
  handleSignals?: boolean;
  /** Where to record urls, ports and pids (never secrets); default <dataDir>/stack.json; false = nowhere. */
  stackFile?: string | false;
  /** Progress lines; default stderr with a "[stack]" prefix. */
  log?: (line: string) => void;
  /** Called when a ready component dies while the stack runs; default: log it with its last log lines. */
  onUnexpectedExit?: (exit: UnexpectedExit) => void;
}

export interface StackUrls {
  /** host:port for @temporalio/client and the worker. */
  temporalAddress?: string;
  temporalUi?: string;
  /** Blob service endpoint, http://127.0.0.1:<port>/devstoreaccount1 */
  azuriteBlob?: string;
  /** https://127.0.0.1:<port> */
  emulator?: string;
}

export interface StackProcessInfo {
  readonly name: ComponentName;
  readonly pid: number;
  readonly logFile: string;
  readonly argvHint: string;
  readonly readyMs?: number;
}

export interface UnexpectedExit {
  readonly name: ComponentName;
  readonly pid: number;
  readonly exit: string;
  readonly logFile: string;
  readonly lastLines: readonly string[];
  readonly message: string;
}

/** What stackEnv needs; a RunningStack and a StackRecord (stack.json) both have it. */
export interface StackConnectionInfo {
  readonly namespace: string;
  readonly urls: StackUrls;
  readonly caFile: string;
  readonly clientSecret?: string;
  /** FTFLOW_WEBHOOK_SECRET_KEY for the worker and the clients (webhook signing secrets derive from it). */
  readonly webhookSecretKey?: string;
}

export interface RunningStack extends StackConnectionInfo {
  readonly dataDir: string;
  readonly certsDir: string;
  readonly components: readonly ComponentName[];
  readonly ports: Readonly<Partial<StackPorts>>;
  readonly processes: readonly StackProcessInfo[];
  readonly stackFile: string | undefined;
  readonly startupMs: number;
  /** Resolves with the first ready component that died while the stack was meant to run. */
  readonly unexpectedExit: Promise<UnexpectedExit>;
  /** SIGTERM each child (reverse order), SIGKILL after the grace period; idempotent. */
  stop(): Promise<void>;
  /** Lets this process exit while the children keep running (`up --keep`); `down` stops them. */
  detach(): void;
}

/** Contents of <dataDir>/stack.json. */
export interface StackRecord extends StackConnectionInfo {
  readonly version: 1;
  readonly state: 'starting' | 'running';
  /** The process supervising the children, or null once it detached (`up --keep`). */
  readonly supervisorPid: number | null;
  readonly supervisorArgvHint: string;
  readonly dataDir: string;
  readonly startedAt: string;
  readonly ports: Partial<StackPorts>;
  readonly processes: readonly StackProcessInfo[];
  /** stackEnv without AZURE_CLIENT_SECRET (read it from <dataDir>/emulator/client-secret). */
  readonly env: Record<string, string>;
}

/** The environment a worker, client or demo needs to use the stack. */
export function stackEnv(stack: StackConnectionInfo): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.temporalNamespace]: stack.namespace,
    [ENV.subscriptionId]: LOCAL_AZURE.subscriptionId,
    [ENV.resourceGroup]: LOCAL_AZURE.resourceGroup,
    [ENV.workspace]: LOCAL_AZURE.workspace,
    [ENV.tenantId]: LOCAL_AZURE.tenantId,
    [ENV.clientId]: LOCAL_AZURE.clientId,
    NODE_EXTRA_CA_CERTS: stack.caFile,
  };
  const { temporalAddress, azuriteBlob, emulator } = stack.urls;
  if (temporalAddress !== undefined) env[ENV.temporalAddress] = temporalAddress;
  if (azuriteBlob !== undefined) env[ENV.blobEndpointOverride] = azuriteBlob;
  if (emulator !== undefined) {
    env[ENV.authorityHost] = emulator;
    env[ENV.armEndpoint] = emulator;
    env[ENV.registryDiscoveryUrl] = emulator + '/';
    env[ENV.hfEndpoint] = emulator + '/hf';
  }
  if (stack.clientSecret !== undefined) env[ENV.clientSecret] = stack.clientSecret;
  if (stack.webhookSecretKey !== undefined) env[ENV.webhookSecretKey] = stack.webhookSecretKey;
  return env;
}

/** The webhook operator key for this data folder: 32 random bytes (base64), generated once, mode 600. */
export function loadOrCreateWebhookKey(dataDir: string): string {
  const file = path.join(dataDir, 'webhook-secret-key');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing !== '') return existing;
  } catch {
    // first start
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64');
  fs.writeFileSync(file, key + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return key;
}

/** The emulator's client secret for this data folder: generated once, kept with mode 600. */
export function loadOrCreateClientSecret(dataDir: string): string {
  const file = path.join(dataDir, 'emulator', 'client-secret');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing !== '') return existing;
  } catch {
    // first start
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return secret;
}

// ------------------------------------------------------------------------------------------------
// Process-wide safety net: whatever happens to this process, no child outlives it (unless detached).

const liveStacks = new Set<StackImpl>();
let signalHandlersOn = false;
let exitHandlerOn = false;
let signalled = false;

function onProcessExit(): void {
  for (const s of liveStacks) s.killAllNow();
}

function onSignal(signal: NodeJS.Signals): void {
  const code = signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143;
  if (signalled) {
    // Second Ctrl-C: no more waiting.
    onProcessExit();
    process.exit(code);
  }
  signalled = true;
  process.stderr.write(`\n[stack] ${signal}: stopping the stack (again to force) ...\n`);
  void Promise.allSettled([...liveStacks].map((s) => s.stop())).finally(() => process.exit(code));
}

function updateProcessHandlers(): void {
  const wantSignals = [...liveStacks].some((s) => s.handleSignals);
  if (wantSignals && !signalHandlersOn) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
    signalHandlersOn = true;
  } else if (!wantSignals && signalHandlersOn) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
    signalHandlersOn = false;
  }
  if (liveStacks.size > 0 && !exitHandlerOn) {
    process.on('exit', onProcessExit);
    exitHandlerOn = true;
  } else if (liveStacks.size === 0 && exitHandlerOn) {
    process.off('exit', onProcessExit);
    exitHandlerOn = false;
  }
}

// ------------------------------------------------------------------------------------------------

interface Entry {
  readonly child: SupervisedChild;
  readonly name: ComponentName;
  ready: boolean;
  readyMs?: number;
}

const SUPERVISOR_HINT = 'node';

class StackImpl implements RunningStack {
  readonly dataDir: string;
  readonly certsDir: string;
  readonly caFile: string;
  readonly namespace: string;
  readonly components: readonly ComponentName[];
  readonly ports: Partial<StackPorts> = {};
  readonly urls: StackUrls = {};
  clientSecret: string | undefined;
  webhookSecretKey: string | undefined;
  readonly stackFile: string | undefined;
  readonly handleSignals: boolean;
  startupMs = 0;
  readonly unexpectedExit: Promise<UnexpectedExit>;
  private resolveUnexpected: (u: UnexpectedExit) => void = () => undefined;
  private readonly entries: Entry[] = [];
  private stopping: Promise<void> | undefined;
  private detached = false;
  private readonly startedAt = new Date();

  constructor(
    private readonly opts: StackOptions,
    components: readonly ComponentName[],
    private readonly log: (line: string) => void,
  ) {
    this.dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
    this.certsDir = path.resolve(opts.certsDir ?? DEFAULT_CERTS_DIR);
    this.caFile = path.join(this.certsDir, 'ca.pem');
    this.namespace = opts.temporal?.namespace ?? DEFAULT_NAMESPACE;
    this.components = components;
    this.handleSignals = opts.handleSignals ?? true;
    this.stackFile =
      opts.stackFile === false ? undefined : path.resolve(opts.stackFile ?? path.join(this.dataDir, 'stack.json'));
    this.unexpectedExit = new Promise<UnexpectedExit>((resolve) => {
      this.resolveUnexpected = resolve;
    });
  }

  get processes(): StackProcessInfo[] {
    return this.entries.map((e) => ({
      name: e.name,
      pid: e.child.pid,
      logFile: e.child.logFile,
      argvHint: e.child.argvHint,
      ...(e.readyMs !== undefined ? { readyMs: e.readyMs } : {}),
    }));
  }

  private logFile(name: ComponentName): string {
    return path.join(this.dataDir, 'logs', `${name}.log`);
  }

  async spawn(name: ComponentName, spec: Omit<ChildSpec, 'name' | 'logFile'>): Promise<Entry> {
    const child = await SupervisedChild.spawn({ ...spec, name, logFile: this.logFile(name) });
    const entry: Entry = { child, name, ready: false };
    this.entries.push(entry);
    this.writeRecord('starting');
    void child.exited.then(() => {
      if (!entry.ready || this.stopping !== undefined || this.detached) return;
      const lastLines = child.tail(20);
      const message = `${name} (pid ${child.pid}) exited unexpectedly (${child.describeExit()}).${child.tailText(20)}`;
      const u: UnexpectedExit = {
        name,
        pid: child.pid,
        exit: child.describeExit(),
        logFile: child.logFile,
        lastLines,
        message,
      };
      if (this.opts.onUnexpectedExit) this.opts.onUnexpectedExit(u);
      else this.log(message);
      this.resolveUnexpected(u);
    });
    return entry;
  }

  markReady(entry: Entry, detail: string): void {
    entry.ready = true;
    entry.readyMs = Date.now() - entry.child.startedAt;
    const rel = path.relative(PROJECT_ROOT, entry.child.logFile);
    const logName = rel === '' || rel.startsWith('..') ? entry.child.logFile : rel;
    this.log(
      `${entry.name} ready ${detail} in ${(entry.readyMs / 1000).toFixed(1)} s (pid ${entry.child.pid}, log ${logName})`,
    );
  }

  async port(name: PortName, wanted: number): Promise<number> {
    const taken = new Set(Object.values(this.ports).filter((p): p is number => typeof p === 'number'));
    const port = wanted !== 0 ? wanted : await pickFreePort(taken);
    this.ports[name] = port;
    return port;
  }

  record(state: StackRecord['state']): StackRecord {
    const env = stackEnv(this);
    delete env[ENV.clientSecret];
    delete env[ENV.webhookSecretKey];
    return {
      version: 1,
      state,
      supervisorPid: this.detached ? null : process.pid,
      supervisorArgvHint: SUPERVISOR_HINT,
      dataDir: this.dataDir,
      startedAt: this.startedAt.toISOString(),
      namespace: this.namespace,
      caFile: this.caFile,
      ports: { ...this.ports },
      urls: { ...this.urls },
      processes: this.processes,
      env,
    };
  }

  writeRecord(state: StackRecord['state']): void {
    if (!this.stackFile) return;
    fs.mkdirSync(path.dirname(this.stackFile), { recursive: true });
    const tmp = `${this.stackFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.record(state), null, 2) + '\n');
    fs.renameSync(tmp, this.stackFile);
  }

  private removeRecord(): void {
    if (!this.stackFile) return;
    try {
      const rec = JSON.parse(fs.readFileSync(this.stackFile, 'utf8')) as Partial<StackRecord>;
      const ours = (rec.processes ?? []).some((p) => this.entries.some((e) => e.child.pid === p.pid));
      if (ours || (rec.processes ?? []).length === 0) fs.rmSync(this.stackFile, { force: true });
    } catch {
      // nothing recorded
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const grace = this.opts.stopTimeoutMs ?? 10_000;
      for (const e of [...this.entries].reverse()) {
        const t0 = Date.now();
        const wasRunning = e.child.isRunning();
        await e.child.stop(grace);
        if (wasRunning)
          this.log(`${e.name} stopped (${e.child.describeExit()}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      this.removeRecord();
      liveStacks.delete(this);
      updateProcessHandlers();
    })();
    return this.stopping;
  }

  detach(): void {
    this.detached = true;
    for (const e of this.entries) e.child.detach();
    liveStacks.delete(this);
    updateProcessHandlers();
    this.writeRecord('running');
  }

  killAllNow(): void {
    if (this.detached) return;
    for (const e of this.entries) e.child.killNow('SIGKILL');
  }
}

/** Creates (or updates) the janitor's schedule on the stack's Temporal server; returns its interval. */
async function ensureJanitorSchedule(
  address: string,
  namespace: string,
  taskQueue: string,
  every: string = DEFAULT_JANITOR_EVERY,
): Promise<string> {
  const client = await FineTuneClient.connect({ address, namespace, taskQueue }, {});
  try {
    await client.janitor.ensureSchedule({ every });
    return every;
  } finally {
    await client.close();
  }
}

function checkFile(file: string, what: string, fix: string): void {
  if (!fs.existsSync(file)) throw new Error(`${what} not found at ${file}: ${fix}`);
}

/**
 * Starts the requested components as supervised child processes and waits until each answers.
 * On any failure, stops what it started and rejects with a message naming the component and
 * quoting its last log lines.
 */
export async function startStack(opts: StackOptions = {}): Promise<RunningStack> {
  const t0 = Date.now();
  const env = opts.env ?? process.env;
  const wanted = new Set(opts.components ?? ALL_COMPONENTS);
  for (const c of wanted) {
    if (!ALL_COMPONENTS.includes(c))
      throw new Error(`unknown stack component '${String(c)}' (known: ${ALL_COMPONENTS.join(', ')})`);
  }
  const components = ALL_COMPONENTS.filter((c) => wanted.has(c));
  const log = opts.log ?? ((line: string) => process.stderr.write(`[stack] ${line}\n`));
  const stack = new StackImpl(opts, components, log);
  stack.webhookSecretKey = loadOrCreateWebhookKey(stack.dataDir);
  const has = (c: ComponentName): boolean => wanted.has(c);
  const headless = opts.temporal?.headless ?? false;
  const deadlineFor = (): number => Date.now() + (opts.readyTimeoutMs ?? 60_000);

  // --- preflight: everything that can be checked before a process is spawned --------------------
  const temporalCli = has('temporal') ? resolveTemporalCli(opts.temporal?.cliPath, env) : undefined;
  const emulatorEntry = path.resolve(opts.emulator?.entry ?? EMULATOR_ENTRY);
  const workerEntry = path.resolve(opts.worker?.entry ?? WORKER_ENTRY);
  if (has('emulator'))
    checkFile(
      emulatorEntry,
      'the Azure ML emulator (devstack/dist/emulator/main.js)',
      'build first (`npm run build`, or `make build`).',
    );
  if (has('worker'))
    checkFile(workerEntry, 'the worker (dist/worker.js)', 'build first (`npm run build`, or `make build`).');
  if (has('emulator') || has('worker')) {
    for (const f of ['ca.pem', 'server.pem', 'server-key.pem']) {
      checkFile(
        path.join(stack.certsDir, f),
        `certificate file ${f}`,
        'run `make setup` (it runs scripts/certs.sh .data/certs).',
      );
    }
  }
  const portNames: PortName[] = [];
  if (has('temporal')) portNames.push('temporal');
  if (has('temporal') && !headless) portNames.push('temporalUi');
  if (has('azurite')) portNames.push('azurite');
  if (has('emulator')) portNames.push('emulator');
  const ports = wantedPorts(['temporal', 'temporalUi', 'azurite', 'emulator'], opts.ports, env);
  assertDistinct(portNames.map((n) => [n, ports[n]] as const));
  for (const n of portNames) if (ports[n] !== 0) await assertPortFree(n, ports[n]);

  fs.mkdirSync(stack.dataDir, { recursive: true });
  liveStacks.add(stack);
  updateProcessHandlers();

  try {
    if (temporalCli !== undefined) {
      const port = await stack.port('temporal', ports.temporal);
      const args = ['server', 'start-dev', '--ip', STACK_HOST, '--port', String(port)];
      if (headless) {
        args.push('--headless');
      } else {
        const ui = await stack.port('temporalUi', ports.temporalUi);
        args.push('--ui-port', String(ui));
        stack.urls.temporalUi = `http://${STACK_HOST}:${ui}`;
      }
      const dir = path.join(stack.dataDir, 'temporal');
      fs.mkdirSync(dir, { recursive: true });
      if (!(opts.temporal?.inMemory ?? false)) args.push('--db-filename', path.join(dir, 'temporal.sqlite'));
      args.push('--namespace', stack.namespace, ...searchAttributeArgs());
      args.push('--log-level', opts.temporal?.logLevel ?? 'warn', ...(opts.temporal?.extraArgs ?? []));
      const entry = await stack.spawn('temporal', { command: temporalCli, args, env, cwd: dir, argvHint: 'start-dev' });
      const address = `${STACK_HOST}:${port}`;
      await waitForTemporal(address, stack.namespace, deadlineFor(), entry.child);
      stack.urls.temporalAddress = address;
      stack.markReady(entry, `at ${address}${stack.urls.temporalUi ? ` (UI ${stack.urls.temporalUi})` : ''}`);
    }

    if (has('azurite')) {
      const port = await stack.port('azurite', ports.azurite);
      const dir = path.join(stack.dataDir, 'azurite');
      fs.mkdirSync(dir, { recursive: true });
      // HTTPS with OAuth, as Blob Storage on Azure: staging authenticates with an Entra token from the
      // emulator's token endpoint, the same code path as against a real storage account.
      const args = [
        azuriteBlobEntry(),
        '--blobHost',
        STACK_HOST,
        '--blobPort',
        String(port),
        '--skipApiVersionCheck',
        '--disableTelemetry',
        '--silent',
        '--oauth',
        'basic',
        '--cert',
        path.join(stack.certsDir, 'server.pem'),
        '--key',
        path.join(stack.certsDir, 'server-key.pem'),
      ];
      args.push(...((opts.azurite?.inMemory ?? false) ? ['--inMemoryPersistence'] : ['--location', dir]));
      if (opts.azurite?.debugLog !== undefined) args.push('--debug', opts.azurite.debugLog);
      const entry = await stack.spawn('azurite', {
        command: process.execPath,
        args,
        env,
        cwd: dir,
        argvHint: 'blob/main.js',
      });
      const url = `https://${STACK_HOST}:${port}/${AZURITE_ACCOUNT.name}`;
      await waitForHttp(`${url}?comp=list`, deadlineFor(), entry.child, (s) => s > 0, fs.readFileSync(stack.caFile));
      stack.urls.azuriteBlob = url;
      stack.markReady(entry, `at ${url}`);
    } else if (has('emulator')) {
      // The emulator still needs a Blob endpoint: the configured one (e.g. an Azurite run elsewhere).
      stack.urls.azuriteBlob = `https://${STACK_HOST}:${ports.azurite}/${AZURITE_ACCOUNT.name}`;
    }

    if (has('emulator')) {
      const port = await stack.port('emulator', ports.emulator);
      const dir = path.join(stack.dataDir, 'emulator');
      fs.mkdirSync(dir, { recursive: true });
      stack.clientSecret = loadOrCreateClientSecret(stack.dataDir);
      const args = [
        emulatorEntry,
        '--port',
        String(port),
        '--host',
        STACK_HOST,
        '--cert',
        path.join(stack.certsDir, 'server.pem'),
        '--key',
        path.join(stack.certsDir, 'server-key.pem'),
        '--azurite-url',
        stack.urls.azuriteBlob ?? '',
        ...(opts.emulator?.stateFile === false
          ? []
          : ['--state-file', opts.emulator?.stateFile ?? path.join(dir, 'state.json')]),
        ...(opts.emulator?.catalog ? ['--catalog', opts.emulator.catalog] : []),
        ...(opts.emulator?.extraArgs ?? []),
      ];
      // The client secret goes by environment (the emulator reads AZURE_CLIENT_SECRET when there is no
      // --client-secret), so it shows neither in `ps` nor in the command line logged at the top of the log.
      const entry = await stack.spawn('emulator', {
        command: process.execPath,
        args,
        cwd: PROJECT_ROOT,
        argvHint: 'emulator/main.js',
        env: { ...env, NODE_EXTRA_CA_CERTS: stack.caFile, [ENV.clientSecret]: stack.clientSecret },
      });
      const url = `https://${STACK_HOST}:${port}`;
      const ca = fs.readFileSync(stack.caFile);
      await waitForHttp(url + EMULATOR_HEALTH_PATH, deadlineFor(), entry.child, (s) => s === 200, ca);
      stack.urls.emulator = url;
      stack.markReady(entry, `at ${url}`);
    }

    if (has('worker')) {
      const entry = await stack.spawn('worker', {
        command: process.execPath,
        args: [workerEntry, ...(opts.worker?.args ?? [])],
        cwd: PROJECT_ROOT,
        argvHint: 'worker.js',
        env: { ...localWorkerProcessEnv(), ...env, ...stackEnv(stack), ...(opts.worker?.env ?? {}) },
      });
      await entry.child.waitForLine(WORKER_READY_LINE, deadlineFor());
      stack.markReady(entry, `on ${stack.urls.temporalAddress ?? '?'}`);
      if (opts.janitor !== false && stack.urls.temporalAddress !== undefined) {
        const taskQueue = opts.worker?.env?.[ENV.taskQueue] ?? (env[ENV.taskQueue] || TASK_QUEUE);
        const every = await ensureJanitorSchedule(
          stack.urls.temporalAddress,
          stack.namespace,
          taskQueue,
          opts.janitor?.every,
        );
        log(`janitor scheduled every ${every} (schedule ${JANITOR_SCHEDULE_ID})`);
      }
    }
  } catch (err) {
    await stack.stop();
    throw err;
  }
  stack.startupMs = Date.now() - t0;
  stack.writeRecord('running');
  return stack;
}

// ------------------------------------------------------------------------------------------------
// A stack recorded in <dataDir>/stack.json, possibly started by another process.

export function stackFileFor(dataDir: string = DEFAULT_DATA_DIR): string {
  return path.join(path.resolve(dataDir), 'stack.json');
}

export function readStackRecord(file: string): StackRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const rec = JSON.parse(text) as StackRecord;
  if (rec.version !== 1 || !Array.isArray(rec.processes)) throw new Error(`${file} is not a stack record`);
  return rec;
}

/**
 * True when the recorded process (or a process left in its group) still runs. With /proc, a live
 * pid must show the recorded command-line hint, so a reused pid is never taken for ours; a pid that
 * is gone or a zombie counts while its process group has live members (orphaned grandchildren).
 */
function isRecordedProcess(pid: number, hint: string): boolean {
  const cmd = commandLineOf(pid);
  if (cmd !== undefined && cmd !== '') return cmd.includes(hint);
  if (cmd === undefined && !fs.existsSync('/proc/self')) return isAlive(-pid); // no /proc (macOS)
  return groupHasLiveMembers(pid);
}

/** Which recorded processes are still running. */
export function liveRecordedProcesses(rec: StackRecord): StackProcessInfo[] {
  return rec.processes.filter((p) => isRecordedProcess(p.pid, p.argvHint));
}

/**
 * Stops the stack recorded in `file`: asks a live supervisor to stop it (SIGTERM), then stops any
 * recorded process group still there (SIGTERM, SIGKILL after `graceMs`). Removes the record.
 */
export async function stopRecordedStack(
  file: string,
  options: { graceMs?: number; log?: (line: string) => void } = {},
): Promise<{ found: boolean; stopped: string[] }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[stack] ${line}\n`));
  const graceMs = options.graceMs ?? 10_000;
  const rec = readStackRecord(file);
  if (!rec) return { found: false, stopped: [] };
  const stopped: string[] = [];
  const sup = rec.supervisorPid;
  if (
    sup !== null &&
    sup !== process.pid &&
    isRunning(sup) &&
    (commandLineOf(sup)?.includes(rec.supervisorArgvHint) ?? true)
  ) {
    log(`asking the supervising process ${sup} to stop the stack ...`);
    try {
      process.kill(sup, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
    const deadline = Date.now() + graceMs * rec.processes.length + 5000;
    while (Date.now() < deadline && isRunning(sup)) await sleep(100);
  }
  for (const p of [...rec.processes].reverse()) {
    if (!isRecordedProcess(p.pid, p.argvHint)) continue;
    const t0 = Date.now();
    await stopProcessGroup(p.pid, graceMs);
    stopped.push(p.name);
    log(`${p.name} (pid ${p.pid}) stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  fs.rmSync(file, { force: true });
  return { found: true, stopped };
}
