// The fineTune run's progress record: what the `progress` query returns, the FineTune* search attributes
// say and the Temporal UI's current details show, while the run runs and after it ends. Every step goes
// through step(), which marks it running, then completed (with a one-line detail), failed or cancelled; the
// end of the run marks the rest skipped and records why the run ended.
import {
  CancellationScope,
  CancelledFailure,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { FINETUNE_SEARCH_ATTRIBUTES as SA } from '../config/searchAttributes';
import type { RunNames } from '../runSpec/names';
import type { Activities } from './activityOptions';
import { cancelStaysCancel } from './compat';
import {
  STEPS,
  progressQuery,
  type FineTuneInput,
  type RunOutcome,
  type RunProgress,
  type StepName,
} from './definitions';
import { currentDetails } from './uiText';

/** What a step's activity returns. */
export type StepResult<K extends StepName> = Awaited<ReturnType<Activities[K]>>;

/** Each step's one-line detail in the progress record, from what it returned. */
const DETAILS: { [K in StepName]?: (result: StepResult<K>) => string } = {
  authenticate: (r) => `workspace ${r.workspace} (${r.location})`,
  resolveModel: (m) => `${m.name} v${m.version}`,
  stageDataset: (d) => `train ${d.train.rows} rows, test ${d.test.rows} rows`,
  validateCompute: (c) => `${c.name} ${c.vmSize}, ${c.gpusPerNode} GPU(s)/node${c.created ? ', created' : ''}`,
  submitPipeline: (j) => `${j.jobName}${j.adopted ? ' (adopted)' : ''}`,
  awaitPipeline: (o) => o.status,
  collectMetrics: (m) => `${Object.keys(m.metrics).length} metrics`,
  registerModel: (m) => `${m.name}:${m.version}`,
  smokeScore: (s) => `${s.replyChars} chars in ${s.latencyMs} ms`,
  deleteEndpoint: (d) => (d.existed ? 'deleted' : 'nothing to delete'),
};

/** What a failure says, for the run's record: the cause's message when there is one (an activity's error). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
}

export class Progress {
  /** The record itself: the `progress` query's answer. */
  readonly record: RunProgress;
  /** Told of every completed step, after the record says so (webhooks: run.step.completed). */
  onStepCompleted?: (name: StepName, detail: string | undefined) => Promise<void>;
  /** The job in Azure ML studio, once awaitPipeline has returned it (for the current details only). */
  private studioUrl?: string;

  /** Creates the record and answers the `progress` query with it. */
  constructor(names: RunNames) {
    this.record = {
      runId: names.runId,
      status: 'running',
      steps: STEPS.map((name) => ({ name, status: 'pending' })),
      jobName: names.jobName,
      endpointName: names.endpointName,
      warnings: [],
    };
    setHandler(progressQuery, () => this.record);
    this.changed();
  }

  /**
   * The UI's current details follow the record. Workflow state served by the built-in metadata query, like
   * the progress query: no command, no history event, however often it changes (uiText.ts).
   */
  private changed(): void {
    setCurrentDetails(currentDetails(this.record, { studioUrl: this.studioUrl }));
  }

  /** The run's search attributes at its start: running, with its model and dataset. */
  started(spec: FineTuneInput['spec']): void {
    upsertSearchAttributes([
      { key: SA.status, value: 'running' },
      { key: SA.model, value: `${spec.model.registry}/${spec.model.name}` },
      { key: SA.dataset, value: spec.dataset.source },
    ]);
  }

  /** Runs one step, keeping the progress record and the FineTuneStage search attribute current. */
  async step<K extends StepName>(name: K, run: () => Promise<StepResult<K>>): Promise<StepResult<K>> {
    const state = this.record.steps.find((s) => s.name === name);
    if (!state) throw new Error(`unknown step ${name}`);
    state.status = 'running';
    state.startedAt = new Date().toISOString();
    state.endedAt = undefined;
    this.record.currentStep = name;
    upsertSearchAttributes([{ key: SA.stage, value: name }]);
    this.changed();
    try {
      const result = await run();
      state.status = 'completed';
      state.detail = (DETAILS[name] as ((result: StepResult<K>) => string) | undefined)?.(result);
      if (name === 'awaitPipeline') this.studioUrl = (result as StepResult<'awaitPipeline'>).studioUrl;
      state.endedAt = new Date().toISOString();
      await this.onStepCompleted?.(name, state.detail);
      return result;
    } catch (thrown) {
      const err = endedByCancel(name, thrown);
      state.status = isCancellation(err) ? 'cancelled' : 'failed';
      state.detail = messageOf(err);
      throw err;
    } finally {
      state.endedAt ??= new Date().toISOString();
      this.changed();
    }
  }

  /** Warnings a step returned (a compute or job setting Azure adjusted), for the user. */
  warn(warnings: string[]): void {
    this.record.warnings.push(...warnings);
    if (warnings.length > 0) this.changed();
  }

  /** While the endpoint is kept alive after the smoke test: until when (undefined once it no longer is). */
  servingUntil(expiresAt: string | undefined): void {
    this.record.endpointExpiresAt = expiresAt;
    this.changed();
  }

  /** The job the run submitted (or adopted): its name, which may differ from the derived one, and its warnings. */
  jobSubmitted(job: StepResult<'submitPipeline'>): void {
    this.warn(job.warnings);
    // Query state only (no command): runs in flight replay unchanged.
    if (job.notes && job.notes.length > 0) this.record.notes = [...job.notes];
    this.record.jobName = job.jobName;
    this.changed();
  }

  /** The run succeeded. */
  succeeded(): void {
    this.record.status = 'succeeded';
    this.record.outcome = 'succeeded';
    upsertSearchAttributes([{ key: SA.status, value: 'succeeded' }]);
    this.changed();
  }

  /** The run ends with `err`: failed or cancelled (or the outcome a step already set), the steps not run skipped. */
  ended(err: unknown): void {
    const cancelled = isCancellation(err);
    this.record.status = cancelled ? 'cancelled' : 'failed';
    this.record.outcome ??= cancelled ? 'cancelled' : 'failed';
    this.record.error = messageOf(err);
    for (const s of this.record.steps) if (s.status === 'pending') s.status = 'skipped';
    upsertSearchAttributes([{ key: SA.status, value: this.record.outcome as RunOutcome }]);
    this.changed();
  }
}

/**
 * The one place the run decides whether a step's failure ends it as a cancellation (docs/design.md,
 * invariant 1). Once the run's cancellation has been requested, the step was asked to stop; whatever it
 * reports after that (a heartbeat timeout because its worker died before it acknowledged the cancel, a
 * start-to-close timeout, an Azure error that landed late: every kind of failure) ends the run as cancelled, so it
 * closes CANCELLED after the same cleanup a cancel gets (the job cancelled, the endpoint deleted). A
 * failure reported before the request stays a failure, and so do the steps of a non-cancellable cleanup
 * scope (their scope is never considered cancelled). Runs from before patch `cancel-stays-cancel`
 * (compat.ts) keep the failure.
 */
function endedByCancel(name: StepName, err: unknown): unknown {
  if (isCancellation(err) || !CancellationScope.current().consideredCancelled) return err;
  if (!cancelStaysCancel()) return err;
  log.warn('step failed after the run was cancelled: the run ends cancelled', { step: name, error: messageOf(err) });
  return new CancelledFailure(`cancelled; ${name} then ended with: ${messageOf(err)}`);
}
