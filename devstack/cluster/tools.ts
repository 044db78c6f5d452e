// The programs the cluster runs that no package manager here ships: the Temporal server and its
// temporal-sql-tool at the version docker-compose.yml pins, built from the Go module proxy once into
// .tools/temporal-server/<version>/ and reused; the Temporal UI server likewise into
// .tools/temporal-ui/<version>/ (optional). And PostgreSQL's programs, from the Debian package
// (scripts/cluster-setup.sh installs it where missing).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TOOLS_DIR } from '../stack/paths';

/** go.temporal.io/server, as docker-compose.yml's temporalio/server and temporalio/admin-tools images. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
/** github.com/temporalio/ui-server/v2, as docker-compose.yml's temporalio/ui image. */
export const TEMPORAL_UI_VERSION = '2.34.0';

export const SERVER_MODULE = 'go.temporal.io/server';
export const UI_MODULE = 'github.com/temporalio/ui-server/v2';

export const SERVER_TOOLS_DIR = path.join(TOOLS_DIR, 'temporal-server', TEMPORAL_SERVER_VERSION);
export const TEMPORAL_SERVER_BIN = path.join(SERVER_TOOLS_DIR, 'temporal-server');
export const TEMPORAL_SQL_TOOL_BIN = path.join(SERVER_TOOLS_DIR, 'temporal-sql-tool');
export const UI_TOOLS_DIR = path.join(TOOLS_DIR, 'temporal-ui', TEMPORAL_UI_VERSION);
export const TEMPORAL_UI_BIN = path.join(UI_TOOLS_DIR, 'temporal-ui-server');
/** Module and build caches of these builds (kept: a rebuild after `rm -rf .tools/temporal-server` is quick). */
export const GO_CACHE_DIR = path.join(TOOLS_DIR, 'go-cache');

type Log = (line: string) => void;

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The go command: $GO, else `go` on PATH, else the official tarball's /usr/local/go/bin/go. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.GO;
  if (explicit !== undefined && explicit !== '') {
    if (!isExecutable(explicit)) throw new Error(`GO=${explicit} is not an executable file.`);
    return explicit;
  }
  const found = onPath('go', env) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (found === undefined)
    throw new Error(
      `Go is needed once, to build the Temporal server ${TEMPORAL_SERVER_VERSION} into ${path.relative(process.cwd(), SERVER_TOOLS_DIR)}, ` +
        'and none was found (looked at $GO, PATH and /usr/local/go/bin/go). Install Go >= 1.21 (https://go.dev/dl; a ' +
        "1.21+ go fetches the toolchain the server's go.mod asks for from the Go module proxy), or set GO=/path/to/go.",
    );
  return found;
}

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a command, appending its output to `logFile`; resolves with its exit code and the output's tail. */
function run(command: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }) {
  return new Promise<RunResult>((resolve, reject) => {
    const fd = fs.openSync(opts.logFile, 'a');
    fs.writeSync(fd, `# ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    let tail = '';
    const child = spawn(command, [...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk: Buffer): void => {
      fs.writeSync(fd, chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', (err) => {
      fs.closeSync(fd);
      reject(err);
    });
    child.once('close', (code) => {
      fs.closeSync(fd);
      resolve({ code, output: tail });
    });
  });
}

function goEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    GOMODCACHE: env.GOMODCACHE || path.join(GO_CACHE_DIR, 'mod'),
    GOCACHE: env.GOCACHE || path.join(GO_CACHE_DIR, 'build'),
    // Module cache files writable, so `rm -rf .tools` works; no cgo (the server's SQL drivers are pure Go).
    GOFLAGS: [env.GOFLAGS ?? '', '-modcacherw'].join(' ').trim(),
    CGO_ENABLED: '0',
  };
}

/** "temporal version 1.29.1" from `temporal-server --version`, or undefined when it does not run. */
async function versionOf(binary: string): Promise<string | undefined> {
  if (!isExecutable(binary)) return undefined;
  return new Promise((resolve) => {
    const child = spawn(binary, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('error', () => resolve(undefined));
    child.once('close', (code) => resolve(code === 0 ? out.trim() : undefined));
  });
}

export interface BuildReport {
  /** False when the binaries were there already. */
  readonly built: boolean;
  readonly seconds: number;
  readonly dir: string;
}

/** True when the pinned server and sql tool are installed and the server reports the pinned version. */
export async function serverToolsReady(): Promise<boolean> {
  const v = await versionOf(TEMPORAL_SERVER_BIN);
  return v !== undefined && v.endsWith(` ${TEMPORAL_SERVER_VERSION}`) && isExecutable(TEMPORAL_SQL_TOOL_BIN);
}

/**
 * Builds go.temporal.io/server's cmd/server and cmd/tools/sql at the pinned version with `go install`
 * into a fresh folder, then moves it into place (an interrupted build leaves nothing half-made).
 */
export async function ensureServerTools(log: Log, env: NodeJS.ProcessEnv = process.env): Promise<BuildReport> {
  if (await serverToolsReady()) return { built: false, seconds: 0, dir: SERVER_TOOLS_DIR };
  const go = findGo(env);
  const t0 = Date.now();
  fs.mkdirSync(path.dirname(SERVER_TOOLS_DIR), { recursive: true });
  const staging = `${SERVER_TOOLS_DIR}.build-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const logFile = path.join(path.dirname(SERVER_TOOLS_DIR), `build-${TEMPORAL_SERVER_VERSION}.log`);
  const pkgs = [`${SERVER_MODULE}/cmd/server`, `${SERVER_MODULE}/cmd/tools/sql`].map(
    (p) => `${p}@v${TEMPORAL_SERVER_VERSION}`,
  );
  log(
    `building the Temporal server ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool with ${go} (once; a few minutes; log ${path.relative(process.cwd(), logFile)}) ...`,
  );
  const result = await run(go, ['install', '-trimpath', '-ldflags', '-s -w', ...pkgs], {
    cwd: staging,
    env: { ...goEnv(env), GOBIN: staging },
    logFile,
  });
  if (result.code !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `go install ${pkgs.join(' ')} failed (exit ${String(result.code)}); see ${logFile}:\n${result.output.trim().split('\n').slice(-12).join('\n')}`,
    );
  }
  fs.renameSync(path.join(staging, 'server'), path.join(staging, 'temporal-server'));
  fs.renameSync(path.join(staging, 'sql'), path.join(staging, 'temporal-sql-tool'));
  fs.writeFileSync(path.join(staging, 'SOURCE'), `go:${pkgs.join(' ')}\n`);
  fs.rmSync(SERVER_TOOLS_DIR, { recursive: true, force: true });
  fs.renameSync(staging, SERVER_TOOLS_DIR);
  const seconds = (Date.now() - t0) / 1000;
  log(
    `built ${path.relative(process.cwd(), SERVER_TOOLS_DIR)}/{temporal-server,temporal-sql-tool} in ${seconds.toFixed(0)} s`,
  );
  return { built: true, seconds, dir: SERVER_TOOLS_DIR };
}

export function uiToolReady(): boolean {
  return isExecutable(TEMPORAL_UI_BIN);
}

/**
 * Builds the Temporal UI server (its Go module embeds the built web app). Its go.mod has a replace
 * directive, which `go install module@version` refuses, so it is built as a dependency of a one-line
 * module of our own that repeats that directive.
 */
export async function ensureUiTool(log: Log, env: NodeJS.ProcessEnv = process.env): Promise<BuildReport> {
  if (uiToolReady()) return { built: false, seconds: 0, dir: UI_TOOLS_DIR };
  const go = findGo(env);
  const t0 = Date.now();
  const work = path.join(path.dirname(UI_TOOLS_DIR), `build-${TEMPORAL_UI_VERSION}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const logFile = path.join(path.dirname(UI_TOOLS_DIR), `build-${TEMPORAL_UI_VERSION}.log`);
  const genv = goEnv(env);
  log(
    `building the Temporal UI server ${TEMPORAL_UI_VERSION} with ${go} (once; log ${path.relative(process.cwd(), logFile)}) ...`,
  );
  const fail = (what: string, r: RunResult): Error =>
    new Error(
      `${what} failed (exit ${String(r.code)}); see ${logFile}:\n${r.output.trim().split('\n').slice(-8).join('\n')}`,
    );
  const download = await run(go, ['mod', 'download', '-json', `${UI_MODULE}@v${TEMPORAL_UI_VERSION}`], {
    cwd: work,
    env: genv,
    logFile,
  });
  if (download.code !== 0) throw fail(`go mod download ${UI_MODULE}@v${TEMPORAL_UI_VERSION}`, download);
  const dirMatch = /"Dir":\s*"([^"]+)"/.exec(download.output);
  if (!dirMatch) throw new Error(`go mod download printed no module folder; see ${logFile}`);
  const upstream = fs.readFileSync(path.join(dirMatch[1], 'go.mod'), 'utf8');
  const replaces = upstream.split('\n').filter((l) => /^replace\s/.test(l.trim()));
  const goLine = upstream.split('\n').find((l) => /^go\s+\d/.test(l.trim())) ?? 'go 1.23';
  fs.writeFileSync(
    path.join(work, 'go.mod'),
    [
      'module ftflow.local/temporal-ui',
      '',
      goLine.trim(),
      '',
      `require ${UI_MODULE} v${TEMPORAL_UI_VERSION}`,
      '',
      ...replaces,
      '',
    ].join('\n'),
  );
  const staging = `${UI_TOOLS_DIR}.build-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const build = await run(
    go,
    [
      'build',
      '-mod=mod',
      '-trimpath',
      '-ldflags',
      '-s -w',
      '-o',
      path.join(staging, 'temporal-ui-server'),
      `${UI_MODULE}/cmd/server`,
    ],
    { cwd: work, env: genv, logFile },
  );
  if (build.code !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw fail(`go build ${UI_MODULE}/cmd/server`, build);
  }
  fs.writeFileSync(path.join(staging, 'SOURCE'), `go:${UI_MODULE}/cmd/server@v${TEMPORAL_UI_VERSION}\n`);
  fs.rmSync(UI_TOOLS_DIR, { recursive: true, force: true });
  fs.renameSync(staging, UI_TOOLS_DIR);
  fs.rmSync(work, { recursive: true, force: true });
  const seconds = (Date.now() - t0) / 1000;
  log(`built ${path.relative(process.cwd(), TEMPORAL_UI_BIN)} in ${seconds.toFixed(0)} s`);
  return { built: true, seconds, dir: UI_TOOLS_DIR };
}

// ------------------------------------------------------------------------------------------------
// PostgreSQL

export interface PgPrograms {
  readonly bindir: string;
  readonly postgres: string;
  readonly initdb: string;
  readonly pgIsready: string;
  readonly version: string;
}

function pgProgramsIn(bindir: string): PgPrograms | undefined {
  const postgres = path.join(bindir, 'postgres');
  const initdb = path.join(bindir, 'initdb');
  const pgIsready = path.join(bindir, 'pg_isready');
  if (![postgres, initdb, pgIsready].every(isExecutable)) return undefined;
  return { bindir, postgres, initdb, pgIsready, version: path.basename(path.dirname(bindir)) };
}

/**
 * PostgreSQL's server programs: $FTFLOW_PG_BINDIR, else the newest Debian package's
 * /usr/lib/postgresql/<major>/bin, else a postgres on PATH with initdb beside it.
 */
export function findPostgres(env: NodeJS.ProcessEnv = process.env): PgPrograms {
  const explicit = env.FTFLOW_PG_BINDIR;
  if (explicit !== undefined && explicit !== '') {
    const found = pgProgramsIn(explicit);
    if (!found) throw new Error(`FTFLOW_PG_BINDIR=${explicit} has no postgres, initdb and pg_isready.`);
    return found;
  }
  const debian = '/usr/lib/postgresql';
  const majors = fs.existsSync(debian)
    ? fs
        .readdirSync(debian)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const major of majors) {
    const found = pgProgramsIn(path.join(debian, major, 'bin'));
    if (found) return found;
  }
  const onPathPostgres = onPath('postgres', env);
  if (onPathPostgres !== undefined) {
    const found = pgProgramsIn(path.dirname(fs.realpathSync(onPathPostgres)));
    if (found) return found;
  }
  throw new Error(
    'PostgreSQL not found (looked at $FTFLOW_PG_BINDIR, /usr/lib/postgresql/<major>/bin and PATH). ' +
      'Run `make cluster-setup` (as root it installs the Debian package postgresql), or install PostgreSQL >= 12 ' +
      'and set FTFLOW_PG_BINDIR to the folder with postgres, initdb and pg_isready.',
  );
}

export interface RunAs {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** Users PostgreSQL may run as when this process is root, in order of preference. */
export const PG_USER_CANDIDATES = ['postgres', 'ftflow-pg'] as const;

function passwdEntry(name: string): RunAs | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * PostgreSQL refuses to run as root. As root: $FTFLOW_PG_USER, else the Debian package's `postgres`, else
 * `ftflow-pg` (scripts/cluster-setup.sh creates it where neither exists). Otherwise: this user (undefined).
 */
export function postgresRunAs(env: NodeJS.ProcessEnv = process.env): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const wanted = env.FTFLOW_PG_USER;
  if (wanted !== undefined && wanted !== '') {
    const entry = passwdEntry(wanted);
    if (!entry) throw new Error(`FTFLOW_PG_USER=${wanted}: no such user.`);
    if (entry.uid === 0) throw new Error(`FTFLOW_PG_USER=${wanted} is root; PostgreSQL must run unprivileged.`);
    return entry;
  }
  for (const name of PG_USER_CANDIDATES) {
    const entry = passwdEntry(name);
    if (entry && entry.uid !== 0) return entry;
  }
  throw new Error(
    `running as root, and PostgreSQL must not: none of the users ${PG_USER_CANDIDATES.join(', ')} exists. ` +
      'Run `make cluster-setup` (it creates ftflow-pg), or set FTFLOW_PG_USER to an unprivileged user.',
  );
}
