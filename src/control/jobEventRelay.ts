// The API's side of the job event relay (src/workflows/jobEventRelay.ts): job events received within a
// few milliseconds of each other go to the relay as one signal, started with it if it does not run yet.
// `publish` resolves once Temporal has accepted the signal, so the API acknowledges a delivery only when
// it is relayed (otherwise Event Grid delivers it again on its retry schedule).
import type { Client } from '@temporalio/client';
import { JOB_EVENTS_SIGNAL, jobEventRelayId, type JobEvent } from '../config/jobEvents';
import { DIVISIONS } from '../config/searchAttributes';
import type { jobEventRelay } from '../workflows/jobEventRelay';
import { inDivision } from './divisions';

export interface JobEventPublisherOptions {
  /** Events arriving within this long share one signal (default 20 ms). */
  batchMs?: number;
}

export class JobEventPublisher {
  private pending: JobEvent[] = [];
  private flushing: Promise<void> | undefined;
  private signalled = 0;

  constructor(
    private readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly options: JobEventPublisherOptions = {},
  ) {}

  /** Signals sent so far (for tests and the API's metrics). */
  get signals(): number {
    return this.signalled;
  }

  /** Relays the events; resolves when Temporal accepted them, rejects when it did not. */
  publish(events: readonly JobEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    this.pending.push(...events);
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, this.options.batchMs ?? 20)).then(() => {
      const batch = this.pending;
      this.pending = [];
      this.flushing = undefined;
      return this.send(batch);
    });
    return this.flushing;
  }

  /** Starts the relay if it does not run yet, so the workers find it before the first event. */
  ready(): Promise<void> {
    return this.send([]);
  }

  private async send(batch: JobEvent[]): Promise<void> {
    await inDivision(DIVISIONS.jobEvents, (typedSearchAttributes) =>
      this.temporal.workflow.signalWithStart<typeof jobEventRelay, [JobEvent[]]>('jobEventRelay', {
        workflowId: jobEventRelayId(this.taskQueue),
        taskQueue: this.taskQueue,
        args: [{ seq: 0, events: [] }],
        signal: JOB_EVENTS_SIGNAL,
        signalArgs: [batch],
        typedSearchAttributes,
      }),
    );
    this.signalled += 1;
  }
}
