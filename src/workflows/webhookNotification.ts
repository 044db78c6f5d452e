// One event of a run, delivered to every endpoint that hears it: a workflow of its own that the run starts and
// leaves (parent-close policy ABANDON), so deliveries outlive the run and never fail or delay it. Each endpoint
// gets attempts until one is answered with a 2xx, with exponential backoff (src/webhooks/backoff.ts) for up to
// the worker's limit (24 h by default); every attempt is an activity whose result (status code and duration,
// never the body) is in this history, which is where the run's events read them. An attempt cut short by a
// worker crash is retried by Temporal with the same input: the same message id.
import { log, proxyActivities, sleep } from '@temporalio/workflow';
import { nextAttemptAt } from '../webhooks/backoff';
import type {
  DeliveryAttempt,
  TargetReport,
  WebhookNotificationInput,
  WebhookNotificationReport,
  WebhookTarget,
  WebhookTargets,
} from '../webhooks/events';
import { hostOf } from '../webhooks/events';
import type { Activities } from './activityOptions';

const { webhookTargets } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 30 },
});

/** The heartbeat timeout of an attempt: a worker that dies mid-request is noticed this soon. */
const ATTEMPT_HEARTBEAT = '5 seconds';

export async function webhookNotification(input: WebhookNotificationInput): Promise<WebhookNotificationReport> {
  let resolved: WebhookTargets;
  try {
    resolved = await webhookTargets({
      owner: input.owner,
      runId: input.runId,
      runWebhooks: input.runWebhooks,
      type: input.type,
    });
  } catch (err) {
    log.warn('webhook endpoints could not be read: nothing sent', { messageId: input.messageId, error: String(err) });
    return { messageId: input.messageId, type: input.type, targets: [] };
  }
  const { deliverWebhook } = proxyActivities<Activities>({
    startToCloseTimeout: resolved.attemptTimeoutMs + 30_000,
    heartbeatTimeout: ATTEMPT_HEARTBEAT,
    // Only the activity itself failing (a worker lost mid-request) is retried here: what the receiver answers
    // is a result, and the backoff below decides when to try again.
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
  });

  const deliverTo = async (target: WebhookTarget): Promise<TargetReport> => {
    const firstAt = Date.now();
    for (let attempt = 1; ; attempt++) {
      let result: DeliveryAttempt;
      try {
        result = await deliverWebhook({ target, messageId: input.messageId, body: input.body });
      } catch (err) {
        result = {
          outcome: 'failed',
          error: `the attempt could not run: ${String(err)}`,
          durationMs: 0,
          sentAt: new Date().toISOString(),
          signatures: 0,
        };
      }
      const report = (outcome: TargetReport['outcome']): TargetReport => ({
        label: target.label,
        host: hostOf(target.url),
        outcome,
        attempts: attempt,
      });
      if (result.outcome === 'delivered') return report('delivered');
      if (result.outcome === 'refused' || result.outcome === 'removed') return report(result.outcome);
      const next = nextAttemptAt(resolved.schedule, firstAt, attempt, Date.now(), Math.random());
      if (next === undefined) {
        log.warn('webhook delivery gave up', { messageId: input.messageId, endpoint: target.label, attempts: attempt });
        return report('gave-up');
      }
      await sleep(next - Date.now());
    }
  };

  const targets = await Promise.all(resolved.targets.map(deliverTo));
  return { messageId: input.messageId, type: input.type, targets };
}
