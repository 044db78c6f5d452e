// Typed client for other services, the CLI and the HTTP API: start a run (idempotently), read it, list
// runs, page through what happened, cancel with confirmed cleanup, resume a closed run, and manage
// retraining schedules and the janitor.
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type WorkflowHandle,
} from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import type { SearchAttributePair } from '@temporalio/common';
import { createHash, randomUUID } from 'node:crypto';
import { ENV } from './config/env';
import { dataConverterFromEnv } from './codec/config';
import { decodePayload, decodePayloadsIn } from './codec/history';
import { FINETUNE_SEARCH_ATTRIBUTES as SA } from './config/searchAttributes';
import { TASK_QUEUE } from './config/temporal';
import {
  connectOrExplain,
  resolveTemporalConnection,
  type TemporalConnectionOptions,
} from './config/temporalConnection';
import { loadObservabilityConfig } from './observability/config';
import { installTracing, tracingClientInterceptors } from './observability/tracing';
import { parseRunSpec, type RunSpec, type RunSpecInput } from './runSpec/schema';
import { runContentKey, sameSpec } from './runSpec/contentKey';
import { deriveRunNames, type RunNames } from './runSpec/names';
import {
  ControlError,
  IdempotencyConflictError,
  RunNotFoundError,
  RunNotResumableError,
  asControlError,
  invalid,
  isUnavailable,
} from './control/errors';
import { eventsFromHistory, pageEvents, type EventPage, type RunEvent } from './control/events';
import { JanitorControl } from './control/janitor';
import { WebhookEndpoints } from './control/webhooks';
import { notificationsOf, webhookEventsFromHistory } from './control/webhookEvents';
import { loadWebhookSettings, type WebhookSettings } from './webhooks/settings';
import { OWNER_PATTERN, OWNER_RULE } from './webhooks/registry';
import { RUN_ID_PATTERN, describeServiceRun, isServiceRun, type ServiceRun } from './control/ownership';
import {
  memoOf,
  recordOf,
  runStateOf,
  summaryOf,
  type RunRecord,
  type RunState,
  type RunSummary,
} from './control/records';
import { RetrainingSchedules, SCHEDULE_MIN_INTERVAL_ENV, parseMinInterval } from './control/schedules';
import { findActiveRun, runListQuery, type RunFilter } from './config/visibility';
import {
  RUN_MEMO_KEY,
  endpointLifetimeUpdate,
  progressQuery,
  type EndpointLifetimeChange,
  type FineTuneInput,
  type FineTuneOptions,
  type FineTuneResult,
  type RunMemo,
  type RunProgress,
  type RunSource,
} from './workflows/definitions';
import type { fineTune } from './workflows/fineTune';

export interface FineTuneClientOptions extends TemporalConnectionOptions {
  /** The task queue of the service's workers: only runs and schedules on it are this service's. */
  taskQueue?: string;
  /** An existing Temporal client to reuse (tests, embedding services). */
  client?: Client;
  /** The minimum time between two ticks of a retraining schedule, e.g. "5m" (FTFLOW_SCHEDULE_MIN_INTERVAL; default 5 minutes). */
  scheduleMinInterval?: string;
  /** Webhook settings (the URL policy, the operator key); default: read from the environment on first use. */
  webhookSettings?: WebhookSettings;
}

export interface StartOptions {
  /** Becomes the run id (`ft-<key>`): starting again with the same key returns the same run, even after it ended. */
  idempotencyKey?: string;
  /**
   * Without a key: return the running run that trains the same thing (same model, component, data and
   * training inputs) instead of starting a second one. Default false; the API and CLI turn it on.
   */
  dedupe?: boolean;
  /** Workflow-level options, e.g. a shorter heartbeat timeout for local stacks. */
  options?: FineTuneOptions;
  /** Who starts it, recorded with the run. */
  source?: RunSource;
  /** The API key the run belongs to (an id of the API's key file): its registered webhook endpoints hear of it. */
  owner?: string;
}

export interface RunHandle {
  runId: string;
  names: RunNames;
  spec: RunSpec;
  /** True when this call started the run; false when it found it (same key, or a running duplicate). */
  created: boolean;
  /** True when the run was found by content (dedupe), not by key. */
  deduplicated: boolean;
  contentKey: string;
  /**
   * The signing secrets of the run spec's webhook endpoints (notifications.webhooks), in their order: given
   * only by the call that created the run, and not stored anywhere.
   */
  webhookSecrets?: { url: string; secret: string }[];
}

export interface ListOptions extends RunFilter {
  /** Page size, 1-100; default 20. */
  limit?: number;
  /** nextPageToken of the previous page. */
  pageToken?: string;
}

export interface RunPage {
  data: RunSummary[];
  /** Pass as pageToken for the next page; null on the last page. */
  nextPageToken: string | null;
}

export interface EventsOptions {
  /** Events after this event id (the previous page's lastId). */
  after?: string;
  /** Page size, 1-500; default 50. */
  limit?: number;
}

export interface CancelOptions {
  /** How long to wait for the run's cleanup to finish; 0 = only request it. Default 300 s. */
  waitSeconds?: number;
}

export interface CancelOutcome {
  runId: string;
  status: RunState;
  /** requested: not waited for; confirmed: the run ended after its cleanup; timed-out: still cleaning up. */
  cleanup: 'requested' | 'confirmed' | 'timed-out' | 'already-ended';
  message: string;
}

export interface ResumeOutcome {
  runId: string;
  previousStatus: RunState;
  /** Temporal's id of the new execution. */
  executionId: string;
  spec: RunSpec;
}

const QUERY_TIMEOUT_MS = 10_000;
const PAGE_TOKEN_VERSION = 1;
const MAX_PAGE_TOKEN_LENGTH = 4096;

export class FineTuneClient {
  readonly schedules: RetrainingSchedules;
  readonly janitor: JanitorControl;
  /** API keys' webhook endpoints: add (the secret shown once), list, get, remove, rotate a secret. */
  readonly webhooks: WebhookEndpoints;

  private constructor(
    readonly temporal: Client,
    readonly taskQueue: string,
    scheduleMinIntervalMs: number,
    private readonly ownedConnection?: Connection,
    webhookSettings: () => WebhookSettings = memoized(() => loadWebhookSettings()),
  ) {
    this.schedules = new RetrainingSchedules(temporal, taskQueue, { minIntervalMs: scheduleMinIntervalMs });
    this.janitor = new JanitorControl(temporal, taskQueue);
    this.webhooks = new WebhookEndpoints(temporal, taskQueue, webhookSettings);
  }

  /** Connects from options, then the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS or API key variables). */
  static async connect(
    opts: FineTuneClientOptions = {},
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<FineTuneClient> {
    const taskQueue = opts.taskQueue ?? (env[ENV.taskQueue] || TASK_QUEUE);
    const minInterval =
      opts.scheduleMinInterval !== undefined
        ? parseMinInterval(opts.scheduleMinInterval, 'scheduleMinInterval')
        : parseMinInterval(env[SCHEDULE_MIN_INTERVAL_ENV]);
    const webhookSettings = opts.webhookSettings
      ? () => opts.webhookSettings as WebhookSettings
      : memoized(() => loadWebhookSettings(env));
    if (opts.client) return new FineTuneClient(opts.client, taskQueue, minInterval, undefined, webhookSettings);
    const target = resolveTemporalConnection(opts, env);
    // Payload encryption (FTFLOW_PAYLOAD_KEY), validated before anything connects.
    const dataConverter = dataConverterFromEnv(env);
    // Tracing from the same variables as the worker's (none unless FTFLOW_TRACING says otherwise).
    const tracing = installTracing(loadObservabilityConfig(env));
    const connection = await connectOrExplain(
      target,
      () =>
        Connection.connect({
          address: target.address,
          tls: target.tls,
          apiKey: target.apiKey,
          connectTimeout: opts.connectTimeoutMs,
        }),
      env,
    );
    const client = new Client({
      connection,
      namespace: target.namespace,
      dataConverter,
      interceptors: { workflow: tracingClientInterceptors(tracing) },
    });
    return new FineTuneClient(client, taskQueue, minInterval, connection, webhookSettings);
  }

  get namespace(): string {
    return this.temporal.options.namespace;
  }

  /** Validates the spec (errors name the field and the fix) and starts the run, or returns the existing one. */
  async start(specInput: RunSpecInput | unknown, opts: StartOptions = {}): Promise<RunHandle> {
    const spec = this.parse(specInput);
    const key = opts.idempotencyKey;
    const runId = key !== undefined ? `ft-${key}` : `ft-${randomUUID()}`;
    if (!RUN_ID_PATTERN.test(runId))
      throw invalid(
        'idempotencyKey',
        "must be 1-125 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
      );
    const contentKey = runContentKey(spec);
    if (opts.owner !== undefined && !OWNER_PATTERN.test(opts.owner)) throw invalid('owner', OWNER_RULE);
    const runWebhooks = spec.notifications?.webhooks ?? [];
    if (runWebhooks.length > 0) {
      this.webhooks.secrets();
      for (const [i, w] of runWebhooks.entries())
        await this.webhooks.checkUrl(w.url, `notifications.webhooks.${i}.url`);
    }
    if (key === undefined && opts.dedupe) {
      const running = await findActiveRun(this.temporal, contentKey, this.taskQueue);
      if (running !== undefined) return { ...(await this.existingHandle(running, spec)), deduplicated: true };
    }
    const startToken = randomUUID();
    const memo: RunMemo = {
      spec,
      options: opts.options,
      source: opts.source ?? 'client',
      startToken,
      idempotencyKey: key,
      ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
    };
    try {
      await this.temporal.workflow.start<typeof fineTune>('fineTune', {
        taskQueue: this.taskQueue,
        workflowId: runId,
        args: [{ spec, options: opts.options, ...(opts.owner !== undefined ? { owner: opts.owner } : {}) }],
        // Running: return it. Ended: still the same run (resume() is how a closed run runs again).
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        memo: { [RUN_MEMO_KEY]: memo },
        typedSearchAttributes: searchAttributesFor(runId, spec, contentKey),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    let existing: ServiceRun;
    try {
      existing = await this.run(runId);
    } catch (err) {
      // The id is taken by a workflow that is not one of this service's runs: say the key cannot be used,
      // and nothing about what holds it.
      if (err instanceof RunNotFoundError)
        throw new ControlError('conflict', `idempotency key ${key ?? ''} cannot be used for a run; choose another key`);
      throw err;
    }
    const found = memoOf(existing.description.memo);
    if (found?.startToken === startToken)
      return {
        runId,
        names: deriveRunNames(runId),
        spec,
        created: true,
        deduplicated: false,
        contentKey,
        ...(runWebhooks.length > 0
          ? {
              webhookSecrets: this.webhooks.runSecrets(
                runId,
                runWebhooks.map((w) => w.url),
              ),
            }
          : {}),
      };
    if (found && !sameSpec(found.spec, spec)) throw new IdempotencyConflictError(runId);
    return {
      runId,
      names: deriveRunNames(runId),
      spec: found?.spec ?? spec,
      created: false,
      deduplicated: false,
      contentKey,
    };
  }

  private async existingHandle(runId: string, spec: RunSpec): Promise<RunHandle> {
    const memo = memoOf((await this.run(runId)).description.memo);
    const actual = memo?.spec ?? spec;
    return {
      runId,
      names: deriveRunNames(runId),
      spec: actual,
      created: false,
      deduplicated: false,
      contentKey: runContentKey(actual),
    };
  }

  /**
   * Temporal's raw handle on a workflow id, with no check that it names a run of this service: for the
   * service's own code and tests. Every other method reads the run through the ownership check first.
   */
  handle(runId: string): WorkflowHandle<typeof fineTune> {
    return this.temporal.workflow.getHandle<typeof fineTune>(runId);
  }

  /** The run's progress as the workflow reports it (works after it closed too, while a worker answers). */
  async progress(runId: string): Promise<RunProgress> {
    return (await this.run(runId)).handle.query(progressQuery);
  }

  /** What visibility records about a run (no query: cheap, and answers without a worker). */
  async summary(runId: string): Promise<RunSummary> {
    return summaryOf(await this.describe(runId));
  }

  /**
   * Everything known about a run: state, spec, each step, metrics, warnings, and what only the running
   * activity knows: the Azure job's latest status, read from the follower's heartbeat (so following a
   * job for hours adds nothing to the workflow's history).
   */
  async get(runId: string): Promise<RunRecord> {
    const { handle, description } = await this.run(runId);
    const progress = await withTimeout(handle.query(progressQuery), QUERY_TIMEOUT_MS).catch(() => undefined);
    let jobStatus: string | undefined;
    for (const pending of description.raw.pendingActivities ?? []) {
      const payload = pending.heartbeatDetails?.payloads?.[0];
      if (pending.activityType?.name !== 'awaitPipeline' || !payload) continue;
      const { payloadConverter, payloadCodecs } = this.temporal.options.loadedDataConverter;
      const details = payloadConverter.fromPayload<{ status?: unknown }>(await decodePayload(payloadCodecs, payload));
      if (typeof details?.status === 'string') jobStatus = details.status;
    }
    if (jobStatus === undefined) {
      const done = progress?.steps.find(
        (s) => s.name === 'awaitPipeline' && (s.status === 'completed' || s.status === 'failed'),
      );
      jobStatus = done?.status === 'completed' ? done.detail : undefined;
    }
    return recordOf(summaryOf(description), memoOf(description.memo), progress, jobStatus);
  }

  /** Runs newest first, filtered by status, model or dataset through the search attributes; paged. */
  async list(opts: ListOptions = {}): Promise<RunPage> {
    const limit = opts.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw invalid('limit', 'must be an integer from 1 to 100');
    let query: string;
    try {
      query = runListQuery(opts, { taskQueue: this.taskQueue });
    } catch (err) {
      throw asControlError(err);
    }
    const nextPageToken = opts.pageToken !== undefined ? decodePageToken(query, opts.pageToken) : undefined;
    let response;
    try {
      response = await this.temporal.workflowService.listWorkflowExecutions({
        namespace: this.namespace,
        query,
        pageSize: limit,
        nextPageToken,
      });
    } catch (err) {
      // The server could not use the token (its own part was altered): if the same list answers without
      // it, the token was the problem.
      if (nextPageToken !== undefined && !isUnavailable(err)) {
        const answers = await this.temporal.workflowService
          .listWorkflowExecutions({ namespace: this.namespace, query, pageSize: 1 })
          .then(
            () => true,
            () => false,
          );
        if (answers) throw badPageToken();
      }
      throw err;
    }
    const converter = this.temporal.options.loadedDataConverter;
    const data = await Promise.all(
      (response.executions ?? []).map(async (raw) => {
        try {
          return summaryOf(await executionInfoFromRaw(raw, converter, raw, this.namespace));
        } catch {
          // A memo this client cannot read (encrypted with a key it does not hold): list the run from its
          // search attributes alone rather than fail the whole page.
          const plain = { ...raw, memo: null };
          return summaryOf(await executionInfoFromRaw(plain, converter, plain, this.namespace));
        }
      }),
    );
    const token =
      response.nextPageToken && response.nextPageToken.length > 0
        ? encodePageToken(query, response.nextPageToken)
        : null;
    return { data, nextPageToken: token };
  }

  /** What happened, oldest first, across every execution of the run (a resume adds one); cursor-paged. */
  async events(runId: string, opts: EventsOptions = {}): Promise<EventPage> {
    const limit = opts.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw invalid('limit', 'must be an integer from 1 to 500');
    const executions = await this.executions(runId);
    const converter = this.temporal.options.loadedDataConverter.payloadConverter;
    const all: RunEvent[] = [];
    for (const [i, executionId] of executions.entries()) {
      const history = await decodePayloadsIn(
        this.temporal.options.loadedDataConverter.payloadCodecs,
        await this.temporal.workflow.getHandle(runId, executionId).fetchHistory(),
      );
      all.push(...eventsFromHistory(history, executionId, converter, i > 0));
      // Webhook deliveries, from the notification workflows this execution started.
      for (const child of notificationsOf(history)) {
        try {
          const childHistory = await decodePayloadsIn(
            this.temporal.options.loadedDataConverter.payloadCodecs,
            await this.temporal.workflow.getHandle(child.workflowId, child.runId).fetchHistory(),
          );
          all.push(...webhookEventsFromHistory(childHistory, converter));
        } catch {
          // Not started yet, or gone past the namespace's retention: nothing to show.
        }
      }
    }
    // Deliveries interleave with the run's own events by time (a stable sort keeps each history's order).
    all.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    const page = pageEvents(all, opts.after, limit);
    if (!page) throw invalid('after', `no event ${opts.after} in run ${runId}`);
    return page;
  }

  /**
   * Temporal's executions of a run id that are this service's runs, oldest first (visibility may lag
   * behind a fresh resume; describe does not).
   */
  private async executions(runId: string): Promise<string[]> {
    const latest = await this.describe(runId);
    const found = new Map<string, number>([[latest.runId, latest.startTime.getTime()]]);
    for await (const e of this.temporal.workflow.list({ query: `WorkflowId = '${runId.replace(/'/g, '')}'` })) {
      if (isServiceRun(e, this.taskQueue)) found.set(e.runId, e.startTime.getTime());
    }
    return [...found.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  }

  /** Extends a kept-alive endpoint or ends it now; returns when it will be deleted (null: now). */
  async endpointLifetime(runId: string, change: EndpointLifetimeChange): Promise<{ expiresAt: string | null }> {
    return (await this.run(runId)).handle.executeUpdate(endpointLifetimeUpdate, { args: [change] });
  }

  /** Waits for the run to end and returns its result (a failed run throws WorkflowFailedError). */
  async result(runId: string): Promise<FineTuneResult> {
    return (await this.run(runId)).handle.result();
  }

  /**
   * Cancels the run and waits until it has ended, which it does only after its cleanup (job cancelled
   * and confirmed terminal, endpoint deleted and confirmed gone). Says so when it stops waiting first.
   */
  async cancel(runId: string, opts: CancelOptions = {}): Promise<CancelOutcome> {
    const waitMs = (opts.waitSeconds ?? 300) * 1000;
    const { description: before, handle } = await this.run(runId);
    if (before.status.name !== 'RUNNING') {
      const status = runStateOf(before.status.name);
      return { runId, status, cleanup: 'already-ended', message: `run ${runId} had already ended (${status})` };
    }
    // The handle names the execution that was checked, so the request cannot reach another workflow
    // that took the id since.
    await handle.cancel();
    if (waitMs <= 0)
      return {
        runId,
        status: 'running',
        cleanup: 'requested',
        message: `cancellation of ${runId} requested; cleanup runs before it ends`,
      };
    const deadline = Date.now() + waitMs;
    for (;;) {
      const d = await this.describe(runId);
      if (d.status.name !== 'RUNNING') {
        const status = runStateOf(d.status.name);
        return {
          runId,
          status,
          cleanup: 'confirmed',
          message: `run ${runId} ended (${status}) after its cleanup: no job running, no endpoint left`,
        };
      }
      if (Date.now() >= deadline) {
        return {
          runId,
          status: 'running',
          cleanup: 'timed-out',
          message: `run ${runId} is still cleaning up after ${Math.round(waitMs / 1000)} s; cancellation stands, check again with status`,
        };
      }
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
    }
  }

  /**
   * Starts a failed, cancelled, terminated or timed-out run again under the same run id with its
   * original spec. Every Azure name derives from the run id, so each step adopts what exists: the
   * staged data, a completed job (never retrained), the registered model.
   */
  async resume(runId: string, opts: { source?: RunSource } = {}): Promise<ResumeOutcome> {
    const description = await this.describe(runId);
    const previousStatus = runStateOf(description.status.name);
    if (previousStatus === 'running' || previousStatus === 'succeeded')
      throw new RunNotResumableError(runId, previousStatus);
    const memo = memoOf(description.memo) ?? (await this.memoFromHistory(runId, description.runId));
    const contentKey = runContentKey(memo.spec);
    const resumedMemo: RunMemo = { ...memo, source: opts.source ?? memo.source, startToken: randomUUID() };
    const handle = await this.temporal.workflow.start<typeof fineTune>('fineTune', {
      taskQueue: this.taskQueue,
      workflowId: runId,
      args: [{ spec: memo.spec, options: memo.options, ...(memo.owner !== undefined ? { owner: memo.owner } : {}) }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      // Two resumes at once: the second finds the first.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      memo: { [RUN_MEMO_KEY]: resumedMemo },
      typedSearchAttributes: searchAttributesFor(runId, memo.spec, contentKey, memo.idempotencyKey),
    });
    return { runId, previousStatus, executionId: handle.firstExecutionRunId, spec: memo.spec };
  }

  /** Runs started before the memo existed: the spec is the first event's input. */
  private async memoFromHistory(runId: string, executionId: string): Promise<RunMemo> {
    const history = await this.temporal.workflow.getHandle(runId, executionId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const { payloadConverter, payloadCodecs } = this.temporal.options.loadedDataConverter;
    const input = payload
      ? payloadConverter.fromPayload<FineTuneInput>(await decodePayload(payloadCodecs, payload))
      : undefined;
    if (!input?.spec) throw new ControlError('conflict', `run ${runId} has no recorded spec to resume with`);
    return { spec: parseRunSpec(input.spec), options: input.options, source: 'client' };
  }

  /** The run, if the id names one of this service's runs (src/control/ownership.ts); else RunNotFoundError. */
  private run(runId: string): Promise<ServiceRun> {
    return describeServiceRun(this.temporal, this.taskQueue, runId);
  }

  private async describe(runId: string) {
    return (await this.run(runId)).description;
  }

  private parse(specInput: unknown): RunSpec {
    try {
      return parseRunSpec(specInput);
    } catch (err) {
      throw asControlError(err);
    }
  }

  async close(): Promise<void> {
    await this.ownedConnection?.close();
  }
}

function searchAttributesFor(
  runId: string,
  spec: RunSpec,
  contentKey: string,
  idempotencyKey?: string,
): SearchAttributePair[] {
  return [
    { key: SA.runKey, value: idempotencyKey ?? runId },
    { key: SA.contentKey, value: contentKey },
    { key: SA.model, value: `${spec.model.registry}/${spec.model.name}` },
    { key: SA.dataset, value: spec.dataset.source },
    { key: SA.status, value: 'running' },
  ];
}

function badPageToken(): ControlError {
  return invalid('pageToken', 'is not a page token from a previous page of this list (with the same filters)');
}

/** A page token names the list it continues (a digest of its query) and carries the server's token. */
function queryDigest(query: string): Buffer {
  return createHash('sha256').update(query, 'utf8').digest().subarray(0, 8);
}

function encodePageToken(query: string, serverToken: Uint8Array): string {
  return Buffer.concat([Buffer.from([PAGE_TOKEN_VERSION]), queryDigest(query), Buffer.from(serverToken)]).toString(
    'base64url',
  );
}

function decodePageToken(query: string, token: string): Uint8Array {
  if (token.length > MAX_PAGE_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw badPageToken();
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length <= 9 || bytes[0] !== PAGE_TOKEN_VERSION || !bytes.subarray(1, 9).equals(queryDigest(query)))
    throw badPageToken();
  return bytes.subarray(9);
}

/** Computes a value on first use and keeps it (a failure is thrown again on the next use). */
function memoized<T>(make: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: make() }).v;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export { ControlError, IdempotencyConflictError, RunNotFoundError, RunNotResumableError } from './control/errors';
export { ScheduleExistsError, ScheduleNotFoundError } from './control/errors';
export type { RunRecord, RunSummary, RunState } from './control/records';
export type { RunEvent, EventPage } from './control/events';
export type {
  RetrainingSchedule,
  RetrainingScheduleOptions,
  BackfillOptions,
  OverlapPolicy,
} from './control/schedules';
export type { JanitorScheduleInfo } from './control/janitor';
export type { ScheduleActionReport, StartedTick } from './control/scheduleActions';
export { STEPS, JANITOR_SCHEDULE_ID } from './workflows/definitions';
export type { StepName, StepState, RunProgress, FineTuneResult } from './workflows/definitions';
export { DEFAULT_JANITOR_EVERY } from './control/janitor';
export type {
  WebhookEndpoint,
  WebhookEndpointWithSecret,
  WebhookEndpointRequest,
  RotateOptions,
} from './control/webhooks';
export { WEBHOOK_EVENT_TYPES, DEFAULT_WEBHOOK_EVENTS } from './runSpec/notifications';
export type { WebhookEventType } from './runSpec/notifications';
// For receivers: checks a delivery's Standard Webhooks signature (also the package export finetune-flow/webhooks).
export { verifyWebhook, WebhookVerificationError } from './webhooks/verify';
export type { VerifiedWebhook, VerifyWebhookOptions, WebhookHeaders } from './webhooks/verify';
export type { WebhookPayload, WebhookEventData } from './webhooks/events';
