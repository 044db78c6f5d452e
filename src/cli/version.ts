// `ftflow --version`: the package version (package.json of the installed package, read at run time)
// and the commit dist/ was built from (dist/cli/build-info.json, written by stampBuild.ts at build time).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package root: two levels above this file (dist/cli when built, src/cli under ts-jest). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
export const BUILD_INFO_FILE = path.join(__dirname, 'build-info.json');

/** What build-info.json holds. */
export interface BuildInfo {
  /** Abbreviated commit id; null when the build could not tell. */
  commit: string | null;
  /** The build inputs differed from that commit (uncommitted or untracked changes). */
  dirty: boolean;
}

export interface VersionInfo {
  version: string;
  /** e.g. "1de71b5" or "1de71b5-dirty"; null when unknown. */
  commit: string | null;
}

/** What the build reads: a change to any of these makes dist/ differ from the commit (as the Makefile's build inputs). */
const BUILD_INPUTS = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', root, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The commit checked out at `root`, when `root` is itself a git work tree (not merely inside one:
 * an installed package in someone else's repository must not report that repository's commit).
 */
export function gitBuildInfo(root: string = PACKAGE_ROOT): BuildInfo | undefined {
  if (!fs.existsSync(path.join(root, '.git'))) return undefined;
  const commit = git(root, ['rev-parse', '--short=7', 'HEAD']);
  if (!commit) return undefined;
  const changes = git(root, ['status', '--porcelain', '--', ...BUILD_INPUTS]);
  return { commit, dirty: changes !== undefined && changes !== '' };
}

/** The recorded build info, unless missing, unreadable or older than the compiled code next to it (a later build did not stamp). */
export function readBuildInfo(file: string = BUILD_INFO_FILE, compiled: string = __filename): BuildInfo | undefined {
  try {
    const stamp = fs.statSync(file);
    if (stamp.mtimeMs + 2000 < fs.statSync(compiled).mtimeMs) return undefined;
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<BuildInfo>;
    const commit = typeof raw.commit === 'string' && /^[0-9a-f]{4,40}$/.test(raw.commit) ? raw.commit : null;
    return { commit, dirty: raw.dirty === true };
  } catch {
    return undefined;
  }
}

function packageVersion(root: string): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The version, and the commit: recorded at build time first (what dist/ was built from), else the checkout's. */
export function versionInfo(opts: { root?: string; buildInfoFile?: string; compiled?: string } = {}): VersionInfo {
  const root = opts.root ?? PACKAGE_ROOT;
  const recorded = readBuildInfo(opts.buildInfoFile ?? BUILD_INFO_FILE, opts.compiled ?? __filename);
  const info = recorded?.commit ? recorded : (gitBuildInfo(root) ?? recorded);
  const commit = info?.commit ? `${info.commit}${info.dirty ? '-dirty' : ''}` : null;
  return { version: packageVersion(root), commit };
}

/** `ftflow 0.1.0 (commit 1de71b5)`, or `(commit unknown)`. */
export function versionLine(info: VersionInfo = versionInfo()): string {
  return `ftflow ${info.version} (commit ${info.commit ?? 'unknown'})`;
}
