// Event Grid for the emulator's jobs: webhook event subscriptions on the workspace (created through the
// admin API with an ARM-shaped body), the validation handshake at creation (the validation event for the
// Event Grid schema, OPTIONS with WebHook-Request-Origin for CloudEvents 1.0), and delivery of
// Microsoft.MachineLearningServices.RunStatusChanged (and RunCompleted) as each job's status changes on the
// emulator's clock. Delivery is at least once, one event per request, retried on Azure's schedule (10 s,
// 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, then hourly for 24 h; 400, 401, 403 and 413 are not retried), and,
// as Azure does now and then, a seeded share of events is delivered twice or late (after a later one).
// `loseRate` drops events outright, for tests of the subscriber's fallback.
import { randomUUID } from 'node:crypto';
import { jobStatusHistory, TERMINAL_JOB_STATUSES, type JobStatus } from './clock';
import { isoTime, workspaceArmId, type EmulatorContext } from './context';
import { asObject } from './json';
import { experimentId } from './mlflow';
import { jobTimeline } from './records';
import type { EventSettings } from './eventSettings';

export type { EventSettings } from './eventSettings';

export const RUN_STATUS_CHANGED = 'Microsoft.MachineLearningServices.RunStatusChanged';
export const RUN_COMPLETED = 'Microsoft.MachineLearningServices.RunCompleted';
export type DeliverySchema = 'EventGridSchema' | 'CloudEventSchemaV1_0';

/** Azure's retry delays (seconds) before the 2nd, 3rd, ... attempt; then hourly until the 24 h time to live. */
export const RETRY_SCHEDULE_SECONDS = [10, 30, 60, 300, 600, 1800, 3600];
const TIME_TO_LIVE_SECONDS = 24 * 3600;
/** Answers Event Grid gives up on at once (configuration errors a retry will not fix). */
const NOT_RETRIED = new Set([400, 401, 403, 413]);

export interface EventSubscription {
  name: string;
  endpointUrl: string;
  schema: DeliverySchema;
  includedEventTypes: string[];
  createdAt: number;
  counts: {
    published: number;
    delivered: number;
    attempts: number;
    retried: number;
    dropped: number;
    duplicated: number;
    reordered: number;
    lost: number;
  };
}

interface PendingEvent {
  id: string;
  eventType: string;
  subject: string;
  eventTime: string;
  data: Record<string, unknown>;
  publishedAt: number;
}

/** mulberry32: a small seeded generator, so a bench's duplicates and delays are the same run to run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class EmulatorEvents {
  private readonly subscriptions = new Map<string, EventSubscription>();
  /** Status changes already published, per job. */
  private readonly published = new Map<string, number>();
  /** Jobs whose every change is out (terminal). */
  private readonly done = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private random: () => number;
  private closed = false;
  private readonly inFlight = new Set<NodeJS.Timeout>();

  constructor(
    private readonly ctx: EmulatorContext,
    private settings: EventSettings,
  ) {
    this.random = seeded(settings.seed);
  }

  get current(): EventSettings {
    return { ...this.settings };
  }

  update(patch: Partial<EventSettings>): EventSettings {
    this.settings = { ...this.settings, ...patch };
    if (patch.seed !== undefined) this.random = seeded(patch.seed);
    return this.current;
  }

  list(): EventSubscription[] {
    return [...this.subscriptions.values()].map((s) => ({ ...s, counts: { ...s.counts } }));
  }

  /** Creates (or replaces) a subscription once its endpoint passed the validation handshake. */
  async create(
    name: string,
    endpointUrl: string,
    schema: DeliverySchema,
    includedEventTypes: string[],
  ): Promise<EventSubscription> {
    await this.handshake(endpointUrl, schema);
    const now = this.ctx.now();
    // Only changes from now on are published to a new subscription, as Azure does.
    for (const j of this.ctx.store.state.jobs) this.published.set(j.name, jobStatusHistory(jobTimeline(j), now).length);
    const sub: EventSubscription = {
      name,
      endpointUrl,
      schema,
      includedEventTypes,
      createdAt: now,
      counts: { published: 0, delivered: 0, attempts: 0, retried: 0, dropped: 0, duplicated: 0, reordered: 0, lost: 0 },
    };
    this.subscriptions.set(name, sub);
    this.start();
    return sub;
  }

  remove(name: string): boolean {
    return this.subscriptions.delete(name);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.inFlight) clearTimeout(t);
    this.inFlight.clear();
  }

  private start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.tick(), this.settings.tickMs);
    this.timer.unref();
  }

  /** Publishes every status change that happened since the last tick. */
  tick(): void {
    if (this.subscriptions.size === 0) return;
    const now = this.ctx.now();
    for (const j of this.ctx.store.state.jobs) {
      if (this.done.has(j.name)) continue;
      const changes = jobStatusHistory(jobTimeline(j), now);
      const from = this.published.get(j.name) ?? 0;
      if (changes.length <= from) continue;
      this.published.set(j.name, changes.length);
      const props = asObject(j.properties) ?? {};
      const tags = asObject(props['tags']) ?? {};
      for (const change of changes.slice(from)) {
        this.publish(j.name, j.experimentName, tags, change.status, change.at);
        if (TERMINAL_JOB_STATUSES.has(change.status)) this.done.add(j.name);
      }
    }
  }

  private publish(
    runId: string,
    experimentName: string,
    tags: Record<string, unknown>,
    status: JobStatus,
    at: number,
  ): void {
    const expId = experimentId(this.ctx, experimentName);
    const data = {
      experimentId: expId,
      experimentName,
      runId,
      runType: 'azureml.PipelineRun',
      runTags: tags,
      runProperties: { runSource: 'MFE', runType: 'HTTP' },
      runStatus: status,
    };
    const base = { subject: `experiments/${expId}/runs/${runId}`, eventTime: isoTime(at), publishedAt: this.ctx.now() };
    const events: PendingEvent[] = [{ id: randomUUID(), eventType: RUN_STATUS_CHANGED, data, ...base }];
    if (status === 'Completed') events.push({ id: randomUUID(), eventType: RUN_COMPLETED, data, ...base });
    for (const sub of this.subscriptions.values())
      for (const e of events) {
        if (sub.includedEventTypes.length > 0 && !sub.includedEventTypes.includes(e.eventType)) continue;
        sub.counts.published += 1;
        const draw = this.random();
        if (draw < this.settings.loseRate) {
          sub.counts.lost += 1;
          continue;
        }
        let delay = 0;
        if (this.random() < this.settings.reorderRate) {
          sub.counts.reordered += 1;
          delay = 1000 + Math.floor(this.random() * 2000);
        }
        this.attempt(sub, e, 1, delay);
        if (this.random() < this.settings.duplicateRate) {
          sub.counts.duplicated += 1;
          this.attempt(sub, e, 1, delay + Math.floor(this.random() * 500));
        }
      }
  }

  private attempt(sub: EventSubscription, e: PendingEvent, attempt: number, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.inFlight.delete(timer);
      if (!this.subscriptions.has(sub.name)) return;
      void this.send(sub, e, attempt).then((status) => {
        if (status !== undefined && status >= 200 && status < 300) {
          sub.counts.delivered += 1;
          return;
        }
        if (status !== undefined && NOT_RETRIED.has(status)) {
          sub.counts.dropped += 1;
          return;
        }
        const seconds = RETRY_SCHEDULE_SECONDS[attempt - 1] ?? 3600;
        if ((this.ctx.now() - e.publishedAt) / 1000 + seconds > TIME_TO_LIVE_SECONDS) {
          sub.counts.dropped += 1;
          return;
        }
        sub.counts.retried += 1;
        this.attempt(sub, e, attempt + 1, seconds * 1000 * this.settings.retryScale);
      });
    }, delayMs);
    timer.unref();
    this.inFlight.add(timer);
  }

  /** One delivery attempt; the HTTP status, or undefined when the endpoint could not be reached. */
  private async send(sub: EventSubscription, e: PendingEvent, attempt: number): Promise<number | undefined> {
    sub.counts.attempts += 1;
    const topic = workspaceArmId(this.ctx);
    const cloud = sub.schema === 'CloudEventSchemaV1_0';
    const body = cloud
      ? {
          specversion: '1.0',
          id: e.id,
          source: topic,
          type: e.eventType,
          subject: e.subject,
          time: e.eventTime,
          data: e.data,
        }
      : [
          {
            id: e.id,
            topic,
            subject: e.subject,
            eventType: e.eventType,
            eventTime: e.eventTime,
            data: e.data,
            dataVersion: '2',
            metadataVersion: '1',
          },
        ];
    try {
      const res = await fetch(sub.endpointUrl, {
        method: 'POST',
        headers: {
          'content-type': cloud ? 'application/cloudevents+json; charset=utf-8' : 'application/json',
          'aeg-event-type': 'Notification',
          'aeg-subscription-name': sub.name.toUpperCase(),
          'aeg-delivery-count': String(attempt - 1),
          ...(cloud ? { 'webhook-request-origin': 'eventgrid.azure.net' } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return undefined;
    }
  }

  /** Event Grid's proof that the endpoint wants the events; throws with what the endpoint answered. */
  private async handshake(endpointUrl: string, schema: DeliverySchema): Promise<void> {
    if (schema === 'CloudEventSchemaV1_0') {
      const res = await fetch(endpointUrl, {
        method: 'OPTIONS',
        headers: { 'webhook-request-origin': 'eventgrid.azure.net', 'webhook-request-rate': '120' },
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      const allowed = res.headers.get('webhook-allowed-origin');
      if (res.status !== 200 || (allowed !== 'eventgrid.azure.net' && allowed !== '*'))
        throw new Error(
          `Webhook validation handshake failed for ${redact(endpointUrl)}: OPTIONS answered ${res.status} with WebHook-Allowed-Origin ${allowed ?? '(none)'}.`,
        );
      return;
    }
    const code = randomUUID();
    const res = await fetch(endpointUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'SubscriptionValidation' },
      body: JSON.stringify([
        {
          id: randomUUID(),
          topic: workspaceArmId(this.ctx),
          subject: '',
          eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
          eventTime: isoTime(this.ctx.now()),
          data: { validationCode: code, validationUrl: `${this.ctx.baseUrl()}/_emulator/event-subscriptions/validate` },
          dataVersion: '2',
          metadataVersion: '1',
        },
      ]),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (res.status !== 200 || asObject(answer)?.['validationResponse'] !== code)
      throw new Error(
        `Webhook validation handshake failed for ${redact(endpointUrl)}: it answered ${res.status} without the validationResponse.`,
      );
  }
}

/** An endpoint URL without its query (where the secret is). */
function redact(url: string): string {
  return url.split('?')[0] ?? url;
}
