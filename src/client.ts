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
  RunHasNoResultError,
  RunNotFoundError,
  RunNotResumableError,
  asControlError,
  invalid,
  isUnavailable,
} from './control/errors';
import { eventsFromHistory, pageEvents, stepResultFromHistory, type EventPage, type RunEvent } from './control/events';
import { DEFAULT_SERIES, followDetailsOf, TrainingReader, type LogTail, type MetricsPage } from './control/training';
import type { JobFollowDetails } from './activities/types';
import { loadAzureConfig } from './azure/config';
import { createCredential } from './azure/credentials';
import { isNotFound } from './azure/errors';
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
  PLAN_WORKFLOW_PREFIX,
  RUN_MEMO_KEY,
  endpointLifetimeUpdate,
  progressQuery,
  type EndpointLifetimeChange,
  type FineTuneInput,
  type FineTuneOptions,
  type FineTunePlan,
  type FineTuneResult,
  type RunMemo,
  type RunProgress,
  type RunSource,
} from './workflows/definitions';
import type { fineTune } from './workflows/fineTune';
import type { planFineTune } from './workflows/planFineTune';
import { runResultOf, type RunResult } from './control/runResult';
import { keepAliveChange, keepAliveMessage, type KeepAliveOutcome, type KeepAliveRequest } from './control/keepAlive';
import { withLaterDefaults } from './workflows/compat';
import { runStaticMetadata } from './workflows/uiText';

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
  /**
   * Who asked, beside the source, for the run's memo and its summary in the Temporal UI: the API key's id
   * (the HTTP API), the operating-system user (the CLI), or a name of the caller's choosing.
   */
  actor?: string;
}

export interface ResumeOptions {
  source?: RunSource;
  /** As StartOptions.actor: who resumes it. */
  actor?: string;
}

export interface PlanOptions {
  /** The key a start would use: the plan's names are then the run's (`ft-<key>`). Without one they are an example. */
  idempotencyKey?: string;
  /** Workflow-level options, as start takes them (timeouts of the read-only steps). */
  options?: FineTuneOptions;
}

/** A dry run that gets no answer within this long fails (no worker polls the task queue, or one hangs). */
const PLAN_TIMEOUT = '30 minutes';

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

export interface ResultOptions {
  /**
   * Wait for a running run to end (default true; a run that fails then throws WorkflowFailedError). With
   * false, a run that is still running, or ended without succeeding, is a RunHasNoResultError at once.
   */
  wait?: boolean;
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
  /** Where `metrics` and `logs` find Azure (the worker's variables); set by connect. */
  private azureEnv: NodeJS.ProcessEnv = process.env;
  private trainingReader?: TrainingReader;
  /** awaitPipeline's results by execution id (bounded): `get` after training reads each history once. */
  private readonly outcomes = new Map<string, unknown>();
  /** The workflow's results by execution id (bounded): a succeeded run's result never changes. */
  private readonly results = new Map<string, FineTuneResult>();

  /** Reads the loss curve and the job's log from Azure: built on first use from the Azure variables. */
  training(): TrainingReader {
    if (!this.trainingReader) {
      const config = loadAzureConfig(this.azureEnv);
      this.trainingReader = new TrainingReader(config, createCredential(config, this.azureEnv));
    }
    return this.trainingReader;
  }

  /** Uses this reader for `metrics` and `logs` (tests, or a caller with its own credential). */
  useTrainingReader(reader: TrainingReader): void {
    this.trainingReader = reader;
  }

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
    if (opts.client)
      return new FineTuneClient(opts.client, taskQueue, minInterval, undefined, webhookSettings).withAzureEnv(env);
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
    return new FineTuneClient(client, taskQueue, minInterval, connection, webhookSettings).withAzureEnv(env);
  }

  private withAzureEnv(env: NodeJS.ProcessEnv): this {
    this.azureEnv = env;
    return this;
  }

  /** The Azure job's name of a run (derived from its spec: known before the job exists). */
  private async jobNameOf(runId: string): Promise<string> {
    await this.run(runId);
    return deriveRunNames(runId).jobName;
  }

  /**
   * The run's loss curve: MLflow's metric history of the job's training run, series per metric (`loss`,
   * `eval_loss`, `learning_rate`, `epoch` unless `metrics` names others), `limit` points of each per page.
   * Read from Azure when asked; a run that has not trained yet has empty series.
   */
  async metrics(
    runId: string,
    opts: { metrics?: string[]; limit?: number; pageToken?: string } = {},
  ): Promise<MetricsPage & { id: string }> {
    const jobName = await this.jobNameOf(runId);
    try {
      return { id: runId, ...(await this.training().metrics(jobName, opts)) };
    } catch (err) {
      // No job yet (the run has not reached submitPipeline): no points yet either.
      if (!isNotFound(err)) throw err;
      const keys = opts.metrics && opts.metrics.length > 0 ? opts.metrics : [...DEFAULT_SERIES];
      return {
        id: runId,
        object: 'list',
        jobName,
        data: keys.map((metric) => ({ metric, points: [] })),
        nextPageToken: null,
      };
    }
  }

  /** The tail of the job's user_logs/std_log.txt (`lines`, default 100), read from Azure when asked. */
  async logs(runId: string, opts: { lines?: number } = {}): Promise<LogTail & { id: string }> {
    const jobName = await this.jobNameOf(runId);
    try {
      return { id: runId, ...(await this.training().logs(jobName, opts)) };
    } catch (err) {
      if (isNotFound(err)) return { id: runId, jobName, file: 'user_logs/std_log.txt', lines: [], truncated: false };
      throw err;
    }
  }

  /** awaitPipeline's result in the run's latest execution, if the step completed there. */
  private async jobOutcome(runId: string, executionId: string): Promise<unknown> {
    // A completed step's result never changes: each execution's is read from its history once.
    const cached = this.outcomes.get(executionId);
    if (cached !== undefined) return cached;
    const history = await decodePayloadsIn(
      this.temporal.options.loadedDataConverter.payloadCodecs,
      await this.temporal.workflow.getHandle(runId, executionId).fetchHistory(),
    );
    const outcome = stepResultFromHistory(
      history,
      this.temporal.options.loadedDataConverter.payloadConverter,
      'awaitPipeline',
    );
    if (outcome !== undefined) {
      this.outcomes.set(executionId, outcome);
      if (this.outcomes.size > 500) this.outcomes.delete(this.outcomes.keys().next().value ?? '');
    }
    return outcome;
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
      ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
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
        // What the Temporal UI shows for the run: model, dataset slice, compute, who started it.
        ...runStaticMetadata(spec, { startedBy: memo, idempotencyKey: key }),
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

  /**
   * A dry run: validates the spec as start() does, then runs the checks of a run's first steps on the workers,
   * where the Azure credentials are (the credential, the model and its component, the training values, the
   * allow lists, the data's first rows, the cluster and the quota), creating, uploading and submitting
   * nothing, and returns what the run would use and cost: the names (the run's own with an idempotency key),
   * the merged parameters, the slices' rows and bytes, warnings and the estimate. A spec a run would refuse
   * throws what that run's result() would throw (WorkflowFailedError, with the same cause and message;
   * src/control/refusal.ts reads it).
   */
  async plan(specInput: RunSpecInput | unknown, opts: PlanOptions = {}): Promise<FineTunePlan> {
    const spec = this.parse(specInput);
    const key = opts.idempotencyKey;
    const runId = key !== undefined ? `ft-${key}` : `ft-${randomUUID()}`;
    if (!RUN_ID_PATTERN.test(runId))
      throw invalid(
        'idempotencyKey',
        "must be 1-125 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
      );
    return this.temporal.workflow.execute<typeof planFineTune>('planFineTune', {
      taskQueue: this.taskQueue,
      workflowId: `${PLAN_WORKFLOW_PREFIX}${randomUUID()}`,
      args: [{ spec, runId, namesFixed: key !== undefined, ...(opts.options ? { options: opts.options } : {}) }],
      workflowExecutionTimeout: PLAN_TIMEOUT,
    });
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
    let job: JobFollowDetails | undefined;
    for (const pending of description.raw.pendingActivities ?? []) {
      const payload = pending.heartbeatDetails?.payloads?.[0];
      if (pending.activityType?.name !== 'awaitPipeline' || !payload) continue;
      const { payloadConverter, payloadCodecs } = this.temporal.options.loadedDataConverter;
      job = followDetailsOf(payloadConverter.fromPayload<unknown>(await decodePayload(payloadCodecs, payload)));
    }
    if (job?.status === undefined) {
      // After the step: its result holds the final status, the studio link and the last figures.
      const done = progress?.steps.find(
        (s) => s.name === 'awaitPipeline' && (s.status === 'completed' || s.status === 'failed'),
      );
      const outcome =
        done?.status === 'completed'
          ? await this.jobOutcome(runId, description.runId).catch(() => undefined)
          : undefined;
      job = outcome ? followDetailsOf(outcome) : done?.status === 'completed' ? { status: done.detail } : job;
    }
    const summary = summaryOf(description);
    const record = recordOf(summary, memoOf(description.memo), progress, job);
    if (summary.status !== 'succeeded') return record;
    // A succeeded run's record carries its result record, the same as result() returns.
    const result = await this.resultRecord(runId, description).catch(() => undefined);
    return result ? { ...record, result } : record;
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

  /**
   * The workflow's endpointLifetime update as it is: extends a kept-alive endpoint or ends it now; returns
   * when it will be deleted (null: now). A change the run refuses fails with the update's own error.
   * keepAlive() is the same with the caller's input checked first and errors as ControlErrors.
   */
  async endpointLifetime(runId: string, change: EndpointLifetimeChange): Promise<{ expiresAt: string | null }> {
    return (await this.run(runId)).handle.executeUpdate(endpointLifetimeUpdate, { args: [change] });
  }

  /**
   * Keeps the run's endpoint serving longer (`extendMinutes`) or ends it now (`end: true`), while the run
   * keeps it alive after its smoke test (deployment.keepAliveMinutes). Bad input is an invalid ControlError
   * naming the field; a run that is not keeping its endpoint alive (ended, or not serving) is a conflict.
   */
  async keepAlive(runId: string, request: KeepAliveRequest): Promise<KeepAliveOutcome> {
    const change = keepAliveChange(request);
    const { handle, description } = await this.run(runId);
    if (description.status.name !== 'RUNNING')
      throw new ControlError(
        'conflict',
        `run ${runId} has ended (${runStateOf(description.status.name)}); its endpoint was deleted when it ended`,
      );
    let outcome: { expiresAt: string | null };
    try {
      outcome = await handle.executeUpdate(endpointLifetimeUpdate, { args: [change] });
    } catch (err) {
      throw asControlError(err);
    }
    const endpointName = deriveRunNames(runId).endpointName;
    return {
      id: runId,
      object: 'fine_tune.keep_alive',
      endpointName,
      expiresAt: outcome.expiresAt,
      message: keepAliveMessage(runId, endpointName, outcome.expiresAt),
    };
  }

  /**
   * The run's result record (src/control/runResult.ts: the same the CLI's `ftflow result` and the API's
   * /result return): registered model and version, dataset URIs with sha256 and rows, job and studio link,
   * scoring URI, served time, smoke reply, warnings and notes. Waits for a running run to end unless
   * `wait: false` (see ResultOptions).
   */
  async result(runId: string, opts: ResultOptions = {}): Promise<RunResult> {
    const { handle, description } = await this.run(runId);
    if (opts.wait === false && description.status.name !== 'COMPLETED')
      throw new RunHasNoResultError(runId, runStateOf(description.status.name), summaryOf(description).stage);
    if (description.status.name === 'COMPLETED') return this.resultRecord(runId, description);
    await handle.result();
    return this.resultRecord(runId, await this.describe(runId));
  }

  /** A succeeded execution's result record: the workflow's result (read once per execution) and its context. */
  private async resultRecord(
    runId: string,
    description: Awaited<ReturnType<FineTuneClient['describe']>>,
  ): Promise<RunResult> {
    const executionId = description.runId;
    let raw = this.results.get(executionId);
    if (!raw) {
      raw = await this.temporal.workflow.getHandle<typeof fineTune>(runId, executionId).result();
      this.results.set(executionId, raw);
      if (this.results.size > 500) this.results.delete(this.results.keys().next().value ?? '');
    }
    // Results recorded before they carried the studio link: awaitPipeline's result has it.
    const outcome = raw.job.studioUrl ? undefined : await this.jobOutcome(runId, executionId).catch(() => undefined);
    const studioUrl = outcome ? followDetailsOf(outcome)?.studioUrl : undefined;
    return runResultOf(raw, {
      executionId,
      finishedAt: description.closeTime?.toISOString(),
      datasetSource: memoOf(description.memo)?.spec.dataset.source,
      ...(studioUrl ? { studioUrl } : {}),
    });
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
  async resume(runId: string, opts: ResumeOptions = {}): Promise<ResumeOutcome> {
    const description = await this.describe(runId);
    const previousStatus = runStateOf(description.status.name);
    if (previousStatus === 'running' || previousStatus === 'succeeded')
      throw new RunNotResumableError(runId, previousStatus);
    const memo = memoOf(description.memo) ?? (await this.memoFromHistory(runId, description.runId));
    const contentKey = runContentKey(memo.spec);
    const resumedBy = { source: opts.source ?? memo.source, actor: opts.actor };
    const resumedMemo: RunMemo = { ...memo, source: resumedBy.source, actor: opts.actor, startToken: randomUUID() };
    const handle = await this.temporal.workflow.start<typeof fineTune>('fineTune', {
      taskQueue: this.taskQueue,
      workflowId: runId,
      args: [{ spec: memo.spec, options: memo.options, ...(memo.owner !== undefined ? { owner: memo.owner } : {}) }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      // Two resumes at once: the second finds the first.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      memo: { [RUN_MEMO_KEY]: resumedMemo },
      typedSearchAttributes: searchAttributesFor(runId, memo.spec, contentKey, memo.idempotencyKey),
      ...runStaticMetadata(withLaterDefaults(memo.spec), {
        startedBy: memo,
        resumedBy,
        idempotencyKey: memo.idempotencyKey,
      }),
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

export {
  ControlError,
  IdempotencyConflictError,
  RunHasNoResultError,
  RunNotFoundError,
  RunNotResumableError,
} from './control/errors';
export { ScheduleExistsError, ScheduleNotFoundError } from './control/errors';
export type { RunRecord, RunSummary, RunState } from './control/records';
export type { RunResult, DatasetSplitRecord } from './control/runResult';
export type { KeepAliveOutcome, KeepAliveRequest } from './control/keepAlive';
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
export type { StepName, StepState, RunProgress, FineTuneResult, FineTunePlan } from './workflows/definitions';
export type { RunCost, CostEstimate, ActualCost } from './cost/types';
export { refusalOf, type Refusal } from './control/refusal';
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
