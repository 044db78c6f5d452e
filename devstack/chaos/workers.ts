// The worker processes chaos kills and restarts: real `node dist/worker.js` processes on one task
// queue, each in its own process group (devstack/stack/child.ts), killed with SIGKILL (no goodbye, no
// graceful shutdown) and replaced by a fresh process.
import * as os from 'node:os';
import * as path from 'node:path';
import { SupervisedChild } from '../stack/child';
import { WORKER_ENTRY, PROJECT_ROOT } from '../stack/paths';
import { WORKER_READY_LINE } from '../stack';

export interface WorkerPoolOptions {
  size: number;
  /** Environment of every worker (stack connection, task queue, bundle, tuning). */
  env: NodeJS.ProcessEnv;
  logDir: string;
  readyTimeoutMs?: number;
}

export class WorkerPool {
  private readonly live: SupervisedChild[] = [];
  private started = 0;
  private readonly host = os.hostname();
  private readonly onExit = (): void => this.killAllNow();

  constructor(private readonly opts: WorkerPoolOptions) {
    process.on('exit', this.onExit);
  }

  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.opts.size }, () => this.spawnOne()));
  }

  /** Temporal's default worker identity, `<pid>@<hostname>`: how a pending activity names its worker. */
  identityOf(worker: SupervisedChild): string {
    return `${worker.pid}@${this.host}`;
  }

  byIdentity(identity: string | null | undefined): SupervisedChild | undefined {
    return this.live.find((w) => w.isRunning() && this.identityOf(w) === identity);
  }

  get workers(): readonly SupervisedChild[] {
    return this.live.filter((w) => w.isRunning());
  }

  /** SIGKILL to the worker's process group; resolves once it is gone. */
  async kill(worker: SupervisedChild): Promise<void> {
    worker.killNow('SIGKILL');
    await worker.exited;
    const at = this.live.indexOf(worker);
    if (at >= 0) this.live.splice(at, 1);
  }

  /** A new worker process in place of a killed one; resolves once it polls. */
  async spawnOne(): Promise<SupervisedChild> {
    const n = ++this.started;
    const worker = await SupervisedChild.spawn({
      name: `worker-${n}`,
      command: process.execPath,
      args: [WORKER_ENTRY],
      env: this.opts.env,
      cwd: PROJECT_ROOT,
      logFile: path.join(this.opts.logDir, `worker-${n}.log`),
      argvHint: 'worker.js',
    });
    this.live.push(worker);
    try {
      await worker.waitForLine(WORKER_READY_LINE, Date.now() + (this.opts.readyTimeoutMs ?? 120_000));
    } catch (err) {
      await this.kill(worker);
      throw err;
    }
    return worker;
  }

  /** SIGTERM, then SIGKILL after the grace period (no activity is in flight when chaos stops them). */
  async stop(graceMs = 10_000): Promise<void> {
    await Promise.all(this.live.map((w) => w.stop(graceMs)));
    this.live.length = 0;
    process.off('exit', this.onExit);
  }

  private killAllNow(): void {
    for (const w of this.live) w.killNow('SIGKILL');
  }
}
