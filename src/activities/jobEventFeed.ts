// The worker's side of the job event relay (src/workflows/jobEventRelay.ts): one update after another,
// each waiting on the relay until there are job events after this worker's cursor, which then wake the
// job watcher (a followed job is read at once; anything else is ignored). While the relay answers, the
// watcher polls only at its slow fallback floor; when it does not (not started yet, Temporal unreachable),
// the watcher polls at its normal floor again.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import {
  jobEventRelayId,
  NEXT_JOB_EVENTS_UPDATE,
  type NextJobEventsReply,
  type NextJobEventsRequest,
} from '../config/jobEvents';
import type { JobWatcher } from '../azure/jobWatcher';

export interface JobEventFeedStats {
  updates: number;
  events: number;
  /** Events that woke a followed job (the rest named jobs this worker does not follow, or told nothing new). */
  woke: number;
  failures: number;
  gaps: number;
}

export class JobEventFeed {
  private running = false;
  private stopped = false;
  private finished: Promise<void> = Promise.resolve();
  private readonly id = randomUUID();
  private readonly counts: JobEventFeedStats = { updates: 0, events: 0, woke: 0, failures: 0, gaps: 0 };

  constructor(
    private readonly temporal: () => Promise<Client>,
    private readonly watcher: Pick<JobWatcher, 'wake' | 'pollSoon' | 'setPushing'>,
    /** The worker's task queue: its relay is the one the API signals for it. */
    private readonly taskQueue: string,
  ) {}

  stats(): JobEventFeedStats {
    return { ...this.counts };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.finished = this.loop();
  }

  /** Stops after the update in flight returns (the next relayed event, or an error); resolves then. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.finished;
  }

  private async loop(): Promise<void> {
    let after = -1;
    let failures = 0;
    try {
      while (!this.stopped) {
        try {
          const handle = (await this.temporal()).workflow.getHandle(jobEventRelayId(this.taskQueue));
          // The same id for the same cursor: a repeated request joins the update already waiting.
          const reply = await handle.executeUpdate<NextJobEventsReply, [NextJobEventsRequest]>(NEXT_JOB_EVENTS_UPDATE, {
            args: [{ after }],
            updateId: `${this.id}-${after}`,
          });
          failures = 0;
          this.counts.updates += 1;
          this.watcher.setPushing(true);
          if (reply.gap) {
            this.counts.gaps += 1;
            this.watcher.pollSoon();
          }
          for (const e of reply.events) {
            this.counts.events += 1;
            if (this.watcher.wake(e.jobName, e.status)) this.counts.woke += 1;
          }
          after = reply.next;
        } catch {
          // Not started yet (the API starts it), continuing as new, or Temporal unreachable: poll meanwhile.
          failures += 1;
          this.counts.failures += 1;
          // One failure is usually the relay continuing as new: the next request reaches the new run.
          if (failures >= 2) this.watcher.setPushing(false);
          if (!this.stopped) await sleep(Math.min(10_000, 250 * 2 ** Math.min(failures, 6)));
        }
      }
    } finally {
      this.running = false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
