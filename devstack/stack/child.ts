// One supervised child process: spawned detached in its own process group with stdout and stderr
// appended to a log file (no pipes, so a child never depends on its parent being alive to write),
// stopped by signalling the whole group (SIGTERM, then SIGKILL after a grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly logFile: string;
  /** A substring of the child's command line, used to recognise it again by pid (`down`). */
  readonly argvHint: string;
  /** Run as this user and group (a root parent dropping privileges, e.g. for PostgreSQL). */
  readonly uid?: number;
  readonly gid?: number;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True while a process (or, with a negative id, a process group) exists. */
export function isAlive(pidOrNegGroup: number): boolean {
  try {
    process.kill(pidOrNegGroup, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state letter from /proc/<pid>/stat (R, S, D, Z, ...), where there is a /proc. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie waiting for its parent to reap it. */
export function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const state = processState(pid);
  return state !== 'Z' && state !== 'X';
}

function signalQuietly(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // already gone
  }
}

/**
 * True while the process group has a member that is not a zombie. Uses /proc where there is one
 * (an orphaned child's zombie lingers until init reaps it, which may take seconds), otherwise kill(-pgid, 0).
 */
export function groupHasLiveMembers(pgid: number): boolean {
  if (!isAlive(-pgid)) return false;
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return true;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/** Reads /proc/<pid>/cmdline where there is one; undefined elsewhere (macOS). */
export function commandLineOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/**
 * Signals the process group `pgid` (children are spawned detached, so each leads its own group and
 * pgid = pid), waits up to `graceMs` for the group to empty, then SIGKILLs what is left. Only the
 * group is signalled, never a bare pid that might have been reused. `reaped` lets the owner of the
 * ChildProcess wait for its 'exit' (a zombie is a member of its group until it is reaped).
 */
export async function stopProcessGroup(pgid: number, graceMs: number, reaped?: Promise<unknown>): Promise<void> {
  const groupAlive = (): boolean => groupHasLiveMembers(pgid);
  if (!groupAlive()) return;
  signalQuietly(-pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  if (reaped) await Promise.race([reaped, sleep(graceMs)]);
  while (Date.now() < deadline && groupAlive()) await sleep(50);
  if (groupAlive()) {
    signalQuietly(-pgid, 'SIGKILL');
    if (reaped) await Promise.race([reaped, sleep(2000)]);
    const killDeadline = Date.now() + 2000;
    while (Date.now() < killDeadline && groupAlive()) await sleep(20);
  }
}

/** Keeps the previous log as <file>.1, so a restart does not erase what a crash wrote. */
function rotateLog(file: string): void {
  try {
    if (fs.statSync(file).size > 0) fs.renameSync(file, file + '.1');
  } catch {
    // no previous log
  }
}

export class SupervisedChild {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly argvHint: string;
  readonly startedAt: number;
  /** Resolves when the process exits, whatever the reason. */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly proc: ChildProcess;

  private constructor(spec: ChildSpec, proc: ChildProcess, pid: number) {
    this.name = spec.name;
    this.logFile = spec.logFile;
    this.argvHint = spec.argvHint;
    this.proc = proc;
    this.pid = pid;
    this.startedAt = Date.now();
    this.exited = new Promise<ExitInfo>((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  static async spawn(spec: ChildSpec): Promise<SupervisedChild> {
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    rotateLog(spec.logFile);
    const fd = fs.openSync(spec.logFile, 'a');
    let proc: ChildProcess;
    try {
      fs.writeSync(fd, `# ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
      proc = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: spec.env,
        detached: true, // own session and process group: the group is what we signal
        stdio: ['ignore', fd, fd],
        ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
        ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      });
    } finally {
      fs.closeSync(fd);
    }
    const pid = await new Promise<number>((resolve, reject) => {
      proc.once('error', (err) => reject(new Error(`${spec.name}: cannot start ${spec.command}: ${err.message}`)));
      proc.once('spawn', () => resolve(proc.pid ?? -1));
    });
    if (pid <= 0) throw new Error(`${spec.name}: spawned without a pid`);
    return new SupervisedChild(spec, proc, pid);
  }

  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  isRunning(): boolean {
    return this.exitInfo === undefined;
  }

  /** Lets the parent exit while this child keeps running (`up --keep`). */
  detach(): void {
    this.proc.unref();
  }

  /** Last lines of the log (from this start, see rotateLog). */
  tail(lines = 20): string[] {
    try {
      const text = fs.readFileSync(this.logFile, 'utf8');
      const all = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('# '));
      return all.slice(-lines);
    } catch {
      return [];
    }
  }

  /** Polls the log for a line matching `pattern`; rejects if the child exits first. */
  async waitForLine(pattern: RegExp, deadline: number): Promise<string> {
    let offset = 0;
    let carry = '';
    while (Date.now() < deadline) {
      try {
        const fd = fs.openSync(this.logFile, 'r');
        try {
          const size = fs.fstatSync(fd).size;
          if (size > offset) {
            const buf = Buffer.alloc(size - offset);
            fs.readSync(fd, buf, 0, buf.length, offset);
            offset = size;
            const parts = (carry + buf.toString('utf8')).split('\n');
            carry = parts.pop() ?? '';
            const hit = parts.find((l) => pattern.test(l));
            if (hit !== undefined) return hit;
          }
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        // log not there yet
      }
      if (pattern.test(carry)) return carry;
      if (!this.isRunning()) throw this.diedError('before printing ' + String(pattern));
      await sleep(100);
    }
    throw new Error(`${this.name} did not print ${String(pattern)} within the time limit.` + this.tailText());
  }

  describeExit(): string {
    const e = this.exitInfo;
    if (!e) return 'running';
    return e.signal ? `killed by ${e.signal}` : `exit code ${String(e.code)}`;
  }

  tailText(lines = 20): string {
    const t = this.tail(lines);
    return t.length === 0 ? ` (log ${this.logFile} is empty)` : `\nLast lines of ${this.logFile}:\n  ${t.join('\n  ')}`;
  }

  diedError(when: string): Error {
    return new Error(`${this.name} exited (${this.describeExit()}) ${when}.${this.tailText()}`);
  }

  /** SIGTERM to the group, up to `graceMs`, then SIGKILL. */
  async stop(graceMs: number): Promise<void> {
    await stopProcessGroup(this.pid, graceMs, this.exited);
  }

  /** Synchronous last resort for process 'exit' handlers. */
  killNow(signal: NodeJS.Signals = 'SIGKILL'): void {
    signalQuietly(-this.pid, signal);
  }
}
