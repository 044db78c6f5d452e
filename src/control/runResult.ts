// A succeeded run's whole record, defined once: what `ftflow result`, GET /v1/fine-tunes/{id}/result (and
// the `result` of GET /v1/fine-tunes/{id}) and the client's result() return, field for field. Built from the
// workflow's result by one pure function; the front ends only print or serialize it.
import type { GateEvaluation } from '../runSpec/qualityGate';
import type { StagedSplit } from '../activities/types';
import type { FineTuneResult } from '../workflows/definitions';
import type { RunCost } from '../cost/types';

/** A staged split: where it is, its content hash and its rows. */
export interface DatasetSplitRecord {
  split: string;
  /** azureml://datastores/<datastore>/paths/<path> */
  uri: string;
  /** Content hash, hex (how it is computed: `sha256Of`). */
  sha256: string;
  sha256Of?: 'blocks' | 'bytes';
  /** Rows written after validation, of `sourceRows` taken from the source. */
  rows: number;
  sourceRows: number;
  bytes: number;
  invalidRows: number;
  /** "first 5%" or "hash(seed 7) 5%". */
  sampling?: string;
}

export interface RunResult {
  /** The run id. */
  id: string;
  object: 'fine_tune.result';
  status: 'succeeded';
  /** Temporal's id of the execution that succeeded. */
  executionId: string;
  finishedAt?: string;
  /** The foundation model it fine-tuned. */
  baseModel: { registry: string; name: string; version: string; assetId: string };
  /** The fine-tuned model in the workspace: its name, integer version and ARM id. */
  registeredModel: { name: string; version: string; id: string };
  dataset: {
    source?: string;
    /** Hub: the commit the splits were read at; files: a fingerprint of their versions. */
    revision: string;
    train: DatasetSplitRecord;
    test: DatasetSplitRecord;
    scoring: DatasetSplitRecord;
  };
  compute: { name: string; vmSize: string; gpusPerNode: number };
  job: { name: string; status: string; studioUrl?: string; displayName: string; componentId: string };
  metrics: Record<string, number>;
  qualityGate: GateEvaluation;
  endpoint: { name: string; instanceType?: string; scoringUri?: string; servedSeconds: number; deleted: boolean };
  /** The smoke test: the start of the prompt sent and of the reply (at most 120 and 200 characters). */
  smokeScore: { prompt: string; reply: string; replyChars: number; latencyMs: number };
  /** The estimate before the job and the cost measured after the run (USD, list prices); absent in runs from before. */
  cost?: RunCost;
  /** What needs action. */
  warnings: string[];
  /** What needs no action. */
  notes: string[];
}

/** What the workflow's result does not hold: from the run's record (memo, visibility) and, for runs
 *  recorded before their result carried it, the job's studio link from awaitPipeline's result. */
export interface RunResultContext {
  executionId: string;
  finishedAt?: string;
  datasetSource?: string;
  studioUrl?: string;
}

function splitRecord(s: StagedSplit): DatasetSplitRecord {
  return {
    split: s.split,
    uri: s.uri,
    sha256: s.sha256,
    ...(s.sha256Of ? { sha256Of: s.sha256Of } : {}),
    rows: s.rows,
    sourceRows: s.sourceRows,
    bytes: s.bytes,
    invalidRows: s.invalid.count,
    ...(s.sampling ? { sampling: s.sampling } : {}),
  };
}

export function runResultOf(result: FineTuneResult, context: RunResultContext): RunResult {
  const studioUrl = result.job.studioUrl ?? context.studioUrl;
  const endpoint = result.endpoint;
  return {
    id: result.runId,
    object: 'fine_tune.result',
    status: 'succeeded',
    executionId: context.executionId,
    ...(context.finishedAt ? { finishedAt: context.finishedAt } : {}),
    baseModel: {
      registry: result.model.registry,
      name: result.model.name,
      version: result.model.version,
      assetId: result.model.assetId,
    },
    registeredModel: {
      name: result.registeredModel.name,
      version: result.registeredModel.version,
      id: result.registeredModel.id,
    },
    dataset: {
      ...(context.datasetSource ? { source: context.datasetSource } : {}),
      revision: result.data.revision,
      train: splitRecord(result.data.train),
      test: splitRecord(result.data.test),
      scoring: splitRecord(result.data.scoring),
    },
    compute: { name: result.compute.name, vmSize: result.compute.vmSize, gpusPerNode: result.compute.gpusPerNode },
    job: {
      name: result.job.jobName,
      status: result.job.status,
      ...(studioUrl ? { studioUrl } : {}),
      displayName: result.job.displayName,
      componentId: result.job.componentId,
    },
    metrics: { ...result.metrics },
    qualityGate: result.qualityGate,
    endpoint: {
      name: endpoint.endpointName,
      ...(endpoint.instanceType ? { instanceType: endpoint.instanceType } : {}),
      ...(endpoint.scoringUri ? { scoringUri: endpoint.scoringUri } : {}),
      servedSeconds: endpoint.servedSeconds,
      deleted: endpoint.deleted,
    },
    smokeScore: {
      prompt: result.smokeScore.promptPreview,
      reply: result.smokeScore.replyPreview,
      replyChars: result.smokeScore.replyChars,
      latencyMs: result.smokeScore.latencyMs,
    },
    ...(result.cost ? { cost: result.cost } : {}),
    warnings: [...result.warnings],
    // Runs from before notes were kept on the result: the job's notes (dropped defaults) were all there was.
    notes: [...(result.notes ?? result.job.notes ?? [])],
  };
}
