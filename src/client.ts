// Typed client for other services: start a run (idempotently), read its progress, wait, cancel.
import { Client, Connection, WorkflowIdConflictPolicy, type WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { ENV } from './config/env';
import { connectionOptions, loadTemporalConfig } from './config/temporal';
import { loadObservabilityConfig } from './observability/config';
import { installTracing, tracingClientInterceptors } from './observability/tracing';
import { FINETUNE_SEARCH_ATTRIBUTES as SA } from './config/searchAttributes';
import { parseRunSpec, type RunSpec, type RunSpecInput } from './spec/schema';
import { deriveRunNames, type RunNames } from './spec/names';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  TASK_QUEUE,
  endpointLifetimeUpdate,
  progressQuery,
  type EndpointLifetimeChange,
  type FineTuneOptions,
  type FineTuneResult,
  type RunProgress,
} from './workflows/definitions';
import type { fineTune } from './workflows/fineTune';

export interface FineTuneClientOptions {
  /** host:port of the Temporal frontend; default TEMPORAL_ADDRESS or 127.0.0.1:7233. */
  address?: string;
  namespace?: string;
  taskQueue?: string;
  /** An existing Temporal client to reuse (tests, embedding services). */
  client?: Client;
}

export interface StartOptions {
  /** Becomes the run id (workflow id): starting again with the same key returns the same run. */
  idempotencyKey?: string;
  /** Workflow-level options, e.g. a shorter heartbeat timeout for local stacks. */
  options?: FineTuneOptions;
}

export interface RunHandle {
  runId: string;
  names: RunNames;
  spec: RunSpec;
}

const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export class FineTuneClient {
  private constructor(
    readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly ownedConnection?: Connection,
  ) {}

  static async connect(opts: FineTuneClientOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<FineTuneClient> {
    const taskQueue = opts.taskQueue ?? env[ENV.taskQueue] ?? TASK_QUEUE;
    if (opts.client) return new FineTuneClient(opts.client, taskQueue);
    // The worker's connection settings (address, namespace, TLS, mTLS or API key) and tracing, from the same variables.
    const temporal = loadTemporalConfig({ ...env, [ENV.temporalAddress]: opts.address ?? env[ENV.temporalAddress], [ENV.temporalNamespace]: opts.namespace ?? env[ENV.temporalNamespace] });
    const tracing = installTracing(loadObservabilityConfig(env));
    const connection = await Connection.connect(connectionOptions(temporal));
    const client = new Client({ connection, namespace: temporal.namespace, interceptors: { workflow: tracingClientInterceptors(tracing) } });
    return new FineTuneClient(client, taskQueue, connection);
  }

  /** Validates the spec (errors name the field and the fix) and starts the run, or returns the existing one. */
  async start(specInput: RunSpecInput | unknown, opts: StartOptions = {}): Promise<RunHandle> {
    const spec = parseRunSpec(specInput);
    const runId = opts.idempotencyKey ? `ft-${opts.idempotencyKey}` : `ft-${randomUUID()}`;
    if (!RUN_ID_PATTERN.test(runId)) {
      throw new Error(`idempotency key "${opts.idempotencyKey}" must be 1-125 characters of letters, digits, '.', '_', ':' or '-'`);
    }
    await this.temporal.workflow.start<typeof fineTune>('fineTune', {
      taskQueue: this.taskQueue,
      workflowId: runId,
      args: [{ spec, options: opts.options }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [
        { key: SA.runKey, value: opts.idempotencyKey ?? runId },
        { key: SA.model, value: `${spec.model.registry}/${spec.model.name}` },
        { key: SA.dataset, value: spec.dataset.source },
        { key: SA.status, value: 'running' },
      ],
    });
    return { runId, names: deriveRunNames(runId), spec };
  }

  handle(runId: string): WorkflowHandle<typeof fineTune> {
    return this.temporal.workflow.getHandle<typeof fineTune>(runId);
  }

  /** The run's progress as the workflow reports it (works after it closed too). */
  progress(runId: string): Promise<RunProgress> {
    return this.handle(runId).query(progressQuery);
  }

  /**
   * Progress plus what only the running activity knows: the Azure job's latest status, read from the
   * follower's heartbeat (so following a job for hours adds nothing to the workflow's history).
   */
  async get(runId: string): Promise<RunProgress & { jobStatus?: string }> {
    const handle = this.handle(runId);
    const [progress, description] = await Promise.all([handle.query(progressQuery), handle.describe()]);
    let jobStatus: string | undefined;
    for (const pending of description.raw.pendingActivities ?? []) {
      const payload = pending.heartbeatDetails?.payloads?.[0];
      if (pending.activityType?.name !== 'awaitPipeline' || !payload) continue;
      const details = defaultPayloadConverter.fromPayload<{ status?: unknown }>(payload);
      if (typeof details?.status === 'string') jobStatus = details.status;
    }
    if (jobStatus === undefined) {
      const done = progress.steps.find((s) => s.name === 'awaitPipeline' && s.status === 'completed');
      jobStatus = done?.detail;
    }
    return { ...progress, jobStatus };
  }

  /** Extends a kept-alive endpoint or ends it now; returns when it will be deleted (null: now). */
  async endpointLifetime(runId: string, change: EndpointLifetimeChange): Promise<{ expiresAt: string | null }> {
    return this.handle(runId).executeUpdate(endpointLifetimeUpdate, { args: [change] });
  }

  result(runId: string): Promise<FineTuneResult> {
    return this.handle(runId).result();
  }

  /** Requests cancellation; cleanup (job cancel, endpoint delete) runs inside the workflow. */
  async cancel(runId: string): Promise<void> {
    await this.handle(runId).cancel();
  }

  async close(): Promise<void> {
    await this.ownedConnection?.close();
  }
}
