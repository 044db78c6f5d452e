// Command line for the self-hosted cluster (`make cluster`, `make cluster-down`).
//   node devstack/dist/cluster/main.js build [--ui]     build the pinned Temporal server (and UI) into .tools/ once
//   node devstack/dist/cluster/main.js up [--keep] [--free-ports] [--workers N] [--no-ui] [--catalog seed|current] [--data-dir DIR]
//   node devstack/dist/cluster/main.js down|status|env [--data-dir DIR]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exitQuietlyOnBrokenPipe, exitWith } from 'finetune-flow/process';
import {
  clusterRecordFile,
  DEFAULT_CLUSTER_DATA_DIR,
  liveClusterProcesses,
  readClusterRecord,
  startCluster,
  stopRecordedCluster,
} from './cluster';
import { DEFAULT_CLUSTER_PORTS, type ClusterPorts } from './settings';
import { ensureServerTools, ensureUiTool, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION, uiToolReady } from './tools';

const USAGE = `usage: node devstack/dist/cluster/main.js <command> [options]
commands:
  build    build the Temporal server ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool into .tools/ (once; Go needed)
  up       start the cluster (PostgreSQL, Temporal's four services, two ftflow workers, the API, Azurite, the
           emulator, the UI when built) and stay in the foreground until Ctrl-C
  down     stop the cluster recorded in <data-dir>/cluster.json
  status   show the recorded cluster and which of its processes run
  env      print 'export NAME=value' lines for a client of the running cluster (the API key included)
options:
  --data-dir DIR     state and logs (default .data/cluster; PostgreSQL's data in DIR/pg)
  --free-ports       every port chosen free (default: Temporal's usual ports, API 8080, UI 8233, PostgreSQL 15432)
  --workers N        ftflow worker processes (up; default 2)
  --no-ui            no Temporal UI even when it is built (up)
  --ui               build: the Temporal UI ${TEMPORAL_UI_VERSION} too
  --catalog NAME     the emulator's registry: seed (default) or current (up)
  --keep             return once everything is ready and leave the cluster running; stop it with 'down' (up)`;

interface Args {
  command: string;
  dataDir: string;
  freePorts: boolean;
  workers: number;
  ui?: boolean;
  keep: boolean;
  catalog?: 'seed' | 'current';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { command: '', dataDir: DEFAULT_CLUSTER_DATA_DIR, freePorts: false, workers: 2, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--keep') args.keep = true;
    else if (a === '--free-ports') args.freePorts = true;
    else if (a === '--no-ui') args.ui = false;
    else if (a === '--ui') args.ui = true;
    else if (a === '--data-dir') args.dataDir = path.resolve(value());
    else if (a === '--workers') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error('--workers must be a whole number >= 1');
      args.workers = n;
    } else if (a === '--catalog') {
      const v = value();
      if (v !== 'seed' && v !== 'current') throw new Error(`--catalog must be seed or current, got ${v}`);
      args.catalog = v;
    } else if (a === '-h' || a === '--help') args.command = 'help';
    else if (a !== undefined && !a.startsWith('-') && args.command === '') args.command = a;
    else throw new Error(`unknown argument ${String(a)}`);
  }
  return args;
}

const log = (line: string): void => void process.stderr.write(`[cluster] ${line}\n`);

function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function rel(file: string): string {
  const r = path.relative(process.cwd(), file);
  return r === '' || r.startsWith('..') ? file : r;
}

async function build(args: Args): Promise<number> {
  const server = await ensureServerTools(log);
  if (!server.built) log(`Temporal server ${TEMPORAL_SERVER_VERSION} already built in ${rel(server.dir)}`);
  if (args.ui === true) {
    try {
      const ui = await ensureUiTool(log);
      if (!ui.built) log(`Temporal UI ${TEMPORAL_UI_VERSION} already built in ${rel(ui.dir)}`);
    } catch (err) {
      log(`the Temporal UI could not be built (the cluster runs without it): ${(err as Error).message}`);
    }
  }
  return 0;
}

async function up(args: Args): Promise<number> {
  const file = clusterRecordFile(args.dataDir);
  const existing = readClusterRecord(file);
  if (existing && liveClusterProcesses(existing).length > 0) {
    log(`a cluster recorded in ${rel(file)} is still running; stop it first: make cluster-down`);
    return 1;
  }
  const ports: Partial<ClusterPorts> = args.freePorts
    ? Object.fromEntries(Object.keys(DEFAULT_CLUSTER_PORTS).map((k) => [k, 0]))
    : {};
  const cluster = await startCluster({
    dataDir: args.dataDir,
    ports,
    workers: args.workers,
    ...(args.ui !== undefined ? { ui: args.ui } : {}),
    ...(args.catalog ? { emulator: { catalog: args.catalog } } : {}),
  });
  const u = cluster.urls;
  const lines = [
    `up in ${(cluster.startupMs / 1000).toFixed(1)} s (${Object.entries(cluster.timings)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(', ')}); recorded in ${rel(file)}`,
    `  Temporal   ${u.temporalAddress} (frontend; history :${cluster.ports.history}, matching :${cluster.ports.matching}, worker :${cluster.ports.worker}; namespace ${cluster.namespace})`,
    `  PostgreSQL ${'127.0.0.1'}:${cluster.ports.postgres} (data ${rel(path.join(cluster.dataDir, 'pg'))})`,
    `  API        ${u.api} (Authorization: Bearer $(cat ${rel(path.join(cluster.dataDir, 'api-key'))}))`,
    `  Dashboard  ${u.api}/ui/ (log in with that key)`,
    u.ui
      ? `  Web UI     ${u.ui}`
      : uiToolReady()
        ? '  Web UI     off (--no-ui)'
        : '  Web UI     not built: node devstack/dist/cluster/main.js build --ui (the Go module proxy has the UI server)',
    `  Blob       ${u.azuriteBlob}`,
    `  Azure ML   ${u.emulator}`,
    `  logs       ${rel(path.join(cluster.dataDir, 'logs'))}/<process>.log`,
    `  env        eval "$(node devstack/dist/cluster/main.js env${args.dataDir === DEFAULT_CLUSTER_DATA_DIR ? '' : ` --data-dir ${shellQuote(args.dataDir)}`})"`,
  ];
  for (const l of lines) log(l);
  if (args.keep) {
    cluster.detach();
    log('left running (--keep); stop it with: make cluster-down');
    return 0;
  }
  log('running; Ctrl-C stops everything');
  const died = await cluster.unexpectedExit;
  log(`stopping the rest because ${died.name} died`);
  await cluster.stop();
  return 1;
}

async function down(args: Args): Promise<number> {
  const result = await stopRecordedCluster(clusterRecordFile(args.dataDir), log);
  if (!result.found) {
    log(`no cluster recorded in ${rel(clusterRecordFile(args.dataDir))}; nothing to stop`);
    return 1;
  }
  if (result.stopped.length === 0) log('the recorded cluster was not running any more');
  return 0;
}

function status(args: Args): number {
  const file = clusterRecordFile(args.dataDir);
  const rec = readClusterRecord(file);
  if (!rec) {
    process.stdout.write(`no cluster recorded in ${file}\n`);
    return 1;
  }
  const live = new Set(liveClusterProcesses(rec).map((p) => p.pid));
  process.stdout.write(
    `cluster started ${rec.startedAt}, Temporal ${rec.temporalServerVersion}; supervisor ${rec.supervisorPid ?? 'detached'}\n`,
  );
  for (const p of rec.processes)
    process.stdout.write(
      `  ${p.name.padEnd(10)} pid ${String(p.pid).padEnd(8)} ${live.has(p.pid) ? 'running' : 'gone'}  ${p.logFile}\n`,
    );
  for (const [k, v] of Object.entries(rec.urls)) process.stdout.write(`  ${k.padEnd(16)} ${String(v)}\n`);
  return live.size === rec.processes.length ? 0 : 1;
}

function env(args: Args): number {
  const rec = readClusterRecord(clusterRecordFile(args.dataDir));
  if (!rec) {
    log(`no cluster recorded in ${rel(clusterRecordFile(args.dataDir))}; start one with: make cluster`);
    return 1;
  }
  const vars: Record<string, string> = { ...rec.env };
  const secret = path.join(rec.dataDir, 'emulator', 'client-secret');
  if (fs.existsSync(secret)) vars.AZURE_CLIENT_SECRET = fs.readFileSync(secret, 'utf8').trim();
  if (rec.urls.api) vars.FTFLOW_API_URL = rec.urls.api;
  if (fs.existsSync(rec.apiKeyFile)) vars.FTFLOW_API_KEY = fs.readFileSync(rec.apiKeyFile, 'utf8').trim();
  for (const [k, v] of Object.entries(vars)) process.stdout.write(`export ${k}=${shellQuote(v)}\n`);
  return 0;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  switch (args.command) {
    case 'build':
      return build(args);
    case 'up':
      return up(args);
    case 'down':
      return down(args);
    case 'status':
      return status(args);
    case 'env':
      return env(args);
    case 'help':
      process.stdout.write(USAGE + '\n');
      return 0;
    default:
      process.stderr.write(USAGE + '\n');
      return 2;
  }
}

exitQuietlyOnBrokenPipe();
main().then(
  (code) => exitWith(code),
  (err: unknown) => {
    process.stderr.write(`[cluster] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
