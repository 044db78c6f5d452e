// Endpoint keep-alive: after the smoke test the endpoint may keep serving for deployment.keepAliveMinutes,
// and the `endpointLifetime` update extends that time or ends it now. The endpoint's deletion itself is
// fineTune.ts's business (always, in a non-cancellable scope); this only decides when serving stops.
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { MAX_KEEP_ALIVE_MINUTES } from '../runSpec/defaults';
import { endpointLifetimeUpdate } from './definitions';
import type { Progress } from './progress';

export class KeepAlive {
  /** Set while the endpoint is kept serving after the smoke test; `limit`: the most budget.maxCost allows. */
  private state: { expiresAt: number; changed: boolean; limit?: { until: number; why: string } } | undefined;

  /**
   * Handles the `endpointLifetime` update; the expiry it sets is shown in the run's progress record.
   * The checks run in the handler, not in an update validator: a refused change is then an accepted update
   * that fails, recorded in the history. A validator's refusal leaves no trace in the history, and with
   * Temporal's TypeScript SDK 1.24 and the OpenTelemetry workflow interceptors the SDK flag first used in
   * that discarded task was then never recorded, so a later accepted update's history did not replay
   * ("Update machine does not handle this event") and a restarted worker could no longer delete the
   * endpoint (test/workflows/stepOutcomes.test.ts; docs/design.md, invariant 1).
   */
  constructor(private readonly progress: Progress) {
    setHandler(endpointLifetimeUpdate, (change) => {
      const keepAlive = this.state;
      const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'InvalidEndpointLifetimeChange');
      if (!keepAlive)
        throw refuse('the endpoint is not being kept alive (deployment.keepAliveMinutes was 0, or it has expired)');
      if (!change.endNow && !(typeof change.extendMinutes === 'number' && change.extendMinutes > 0)) {
        throw refuse('give extendMinutes > 0, or endNow: true');
      }
      if (
        !change.endNow &&
        keepAlive.expiresAt + (change.extendMinutes ?? 0) * 60_000 - Date.now() > MAX_KEEP_ALIVE_MINUTES * 60_000
      ) {
        throw refuse(`an endpoint may be kept at most ${MAX_KEEP_ALIVE_MINUTES} minutes ahead`);
      }
      if (
        !change.endNow &&
        keepAlive.limit &&
        keepAlive.expiresAt + (change.extendMinutes ?? 0) * 60_000 > keepAlive.limit.until
      ) {
        throw refuse(`${keepAlive.limit.why}: it cannot be extended past that`);
      }
      keepAlive.expiresAt = change.endNow ? Date.now() : keepAlive.expiresAt + (change.extendMinutes ?? 0) * 60_000;
      keepAlive.changed = true;
      progress.servingUntil(keepAlive.expiresAt > Date.now() ? new Date(keepAlive.expiresAt).toISOString() : undefined);
      return { expiresAt: progress.record.endpointExpiresAt ?? null };
    });
  }

  /**
   * Keeps the endpoint up for its keep-alive time, or until the update ends it; with a `limit` (budget.maxCost)
   * never past it: a keep-alive cut short says so in the run's warnings.
   */
  async serve(minutes: number, limit?: { until: number; why: string }): Promise<void> {
    if (minutes <= 0) return;
    let expiresAt = Date.now() + minutes * 60_000;
    if (limit && limit.until < expiresAt) {
      expiresAt = limit.until;
      this.progress.warn([
        `deployment.keepAliveMinutes ${minutes} cut to ${Math.max(0, Math.round((limit.until - Date.now()) / 60_000))} min: ${limit.why}`,
      ]);
    }
    const state = { expiresAt, changed: false, ...(limit ? { limit } : {}) };
    this.state = state;
    this.progress.servingUntil(new Date(state.expiresAt).toISOString());
    try {
      while (Date.now() < state.expiresAt) {
        state.changed = false;
        await condition(() => state.changed, state.expiresAt - Date.now());
      }
    } finally {
      this.state = undefined;
    }
  }
}
