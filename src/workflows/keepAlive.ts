// Endpoint keep-alive: after the smoke test the endpoint may keep serving for deployment.keepAliveMinutes,
// and the `endpointLifetime` update extends that time or ends it now. The endpoint's deletion itself is
// fineTune.ts's business (always, in a non-cancellable scope); this only decides when serving stops.
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { MAX_KEEP_ALIVE_MINUTES } from '../runSpec/defaults';
import { endpointLifetimeUpdate, type RunProgress } from './definitions';

export class KeepAlive {
  /** Set while the endpoint is kept serving after the smoke test. */
  private state: { expiresAt: number; changed: boolean } | undefined;

  /** Handles the `endpointLifetime` update; the expiry it sets is shown in the run's progress record. */
  constructor(private readonly progress: RunProgress) {
    setHandler(
      endpointLifetimeUpdate,
      (change) => {
        const keepAlive = this.state;
        if (!keepAlive) throw ApplicationFailure.nonRetryable('the endpoint is not being kept alive');
        keepAlive.expiresAt = change.endNow ? Date.now() : keepAlive.expiresAt + (change.extendMinutes ?? 0) * 60_000;
        keepAlive.changed = true;
        progress.endpointExpiresAt =
          keepAlive.expiresAt > Date.now() ? new Date(keepAlive.expiresAt).toISOString() : undefined;
        return { expiresAt: progress.endpointExpiresAt ?? null };
      },
      {
        validator: (change) => {
          const keepAlive = this.state;
          if (!keepAlive)
            throw new Error(
              'the endpoint is not being kept alive (deployment.keepAliveMinutes was 0, or it has expired)',
            );
          if (!change.endNow && !(typeof change.extendMinutes === 'number' && change.extendMinutes > 0)) {
            throw new Error('give extendMinutes > 0, or endNow: true');
          }
          if (
            !change.endNow &&
            keepAlive.expiresAt + (change.extendMinutes ?? 0) * 60_000 - Date.now() > MAX_KEEP_ALIVE_MINUTES * 60_000
          ) {
            throw new Error(`an endpoint may be kept at most ${MAX_KEEP_ALIVE_MINUTES} minutes ahead`);
          }
        },
      },
    );
  }

  /** Keeps the endpoint up for its keep-alive time, or until the update ends it. */
  async serve(minutes: number): Promise<void> {
    if (minutes <= 0) return;
    const state = { expiresAt: Date.now() + minutes * 60_000, changed: false };
    this.state = state;
    this.progress.endpointExpiresAt = new Date(state.expiresAt).toISOString();
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
