// The run's side of webhooks: for each event someone listens to, start a webhookNotification workflow and
// leave it (parent-close policy ABANDON; started in a non-cancellable scope, so cancelling the run never cancels
// a delivery). The run waits only for the child to be started, never for a delivery; nothing here can fail the
// run (a notification that cannot be started is logged). Who listens is asked at the start (webhookAudience)
// and again when the answer is older than ten minutes, so an endpoint registered during a long training job
// hears how the run ends. Runs without webhooks (no owner key, no spec webhooks) do none of this.
import {
  CancellationScope,
  ParentClosePolicy,
  log,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../runSpec/notifications';
import { messageIdFor, notificationWorkflowId, type WebhookEventData, type WebhookPayload } from '../webhooks/events';
import type { Activities } from './activityOptions';
import { notifiesWebhooks } from './compat';
import type { FineTuneInput, RunProgress } from './definitions';
import { webhookNotification } from './webhookNotification';
import { summaryText } from './uiText';

const { webhookAudience } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
});

/** How long an answer about who listens is used before asking again. */
const AUDIENCE_MAX_AGE_MS = 10 * 60_000;

export class RunNotifier {
  private readonly enabled: boolean;
  private audience: { types: Set<WebhookEventType>; at: number } | undefined;
  private seq = 0;

  constructor(
    private readonly input: FineTuneInput,
    private readonly record: RunProgress,
  ) {
    const runWebhooks = input.spec.notifications?.webhooks ?? [];
    this.enabled = (input.owner !== undefined || runWebhooks.length > 0) && notifiesWebhooks();
  }

  /** Starts the notification of one event, if anyone listens to it; returns once it is started (or not). */
  async notify(type: WebhookEventType, extra: Partial<WebhookEventData> = {}): Promise<void> {
    if (!this.enabled) return;
    await CancellationScope.nonCancellable(async () => {
      try {
        if (!(await this.heard(type))) return;
        const { workflowId: runId, runId: executionId } = workflowInfo();
        const seq = ++this.seq;
        const payload: WebhookPayload = {
          type,
          timestamp: new Date(Date.now()).toISOString(),
          data: this.data(executionId, extra),
        };
        const messageId = messageIdFor(executionId, seq);
        const child = await startChild(webhookNotification, {
          workflowId: notificationWorkflowId(runId, executionId, seq),
          args: [
            {
              runId,
              executionId,
              messageId,
              type,
              body: JSON.stringify(payload),
              owner: this.input.owner,
              runWebhooks: this.input.spec.notifications?.webhooks ?? [],
            },
          ],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: summaryText(`webhook ${type} of ${runId} (${messageId})`),
        });
        // Never awaited: a delivery's outcome is the notification's business, not the run's.
        child.result().catch(() => undefined);
      } catch (err) {
        log.warn('webhook notification not started', { event: type, error: String(err) });
      }
    });
  }

  /** The run ended: run.succeeded, run.failed, run.cancelled or run.quality_gate_failed, from its record. */
  async runEnded(extra: Partial<WebhookEventData> = {}): Promise<void> {
    const outcome = this.record.outcome;
    const type: WebhookEventType =
      this.record.status === 'succeeded'
        ? 'run.succeeded'
        : this.record.status === 'cancelled'
          ? 'run.cancelled'
          : outcome === 'quality-gate-failed'
            ? 'run.quality_gate_failed'
            : 'run.failed';
    await this.notify(type, {
      ...(this.record.metrics ? { metrics: this.record.metrics } : {}),
      ...extra,
    });
  }

  /** The endpoint serves after the smoke test for its keep-alive time (none: no event). */
  async endpointReady(
    endpoint: { endpointName: string; scoringUri?: string },
    keepAliveMinutes: number,
  ): Promise<void> {
    if (keepAliveMinutes <= 0) return;
    await this.notify('endpoint.ready', {
      endpoint: {
        name: endpoint.endpointName,
        ...(endpoint.scoringUri ? { scoringUri: endpoint.scoringUri } : {}),
        expiresAt: new Date(Date.now() + keepAliveMinutes * 60_000).toISOString(),
      },
    });
  }

  /** The run's endpoint was deleted (and confirmed gone); nothing when there was none. */
  async endpointDeleted(deletion: { endpointName: string; existed: boolean }): Promise<void> {
    if (!deletion.existed) return;
    await this.notify('endpoint.deleted', { endpoint: { name: deletion.endpointName, deleted: true } });
  }

  private data(executionId: string, extra: Partial<WebhookEventData>): WebhookEventData {
    const spec = this.input.spec;
    const r = this.record;
    return {
      runId: r.runId,
      executionId,
      status: r.status,
      ...(r.outcome ? { outcome: r.outcome } : {}),
      model: `${spec.model.registry}/${spec.model.name}`,
      dataset: spec.dataset.source,
      ...(r.error && r.status !== 'running' ? { error: r.error } : {}),
      ...extra,
    };
  }

  /** Whether anyone listens to `type`; asks again when the last answer is old. Unknown: assume someone does. */
  private async heard(type: WebhookEventType): Promise<boolean> {
    if (this.audience === undefined || Date.now() - this.audience.at > AUDIENCE_MAX_AGE_MS) {
      try {
        const types = await webhookAudience({
          owner: this.input.owner,
          runWebhooks: this.input.spec.notifications?.webhooks ?? [],
        });
        this.audience = { types: new Set(types), at: Date.now() };
      } catch (err) {
        log.warn('who listens to webhooks could not be read: notifying every event', { error: String(err) });
        this.audience = { types: this.audience?.types ?? new Set(WEBHOOK_EVENT_TYPES), at: Date.now() };
      }
    }
    return this.audience.types.has(type);
  }
}
