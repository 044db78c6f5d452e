// Step 4. Stages the train, test and scoring splits (the notebook's first percent%, or a seeded hash
// sample) from the Hub, a file or the datastore: validated, pandas-compatible JSONL, streamed block by
// block into the default datastore. Idempotency key: the content key (format, source version, percent,
// sampling) in the blob path and metadata; a complete blob with it is reused, nothing is uploaded.
// Retry class: long, heartbeating; a retry continues after the last heartbeat's staged blocks. Bad
// data, an empty slice, a missing file, a source the worker may not read (a local path outside its
// data root, a URL to a non-public address, a datastore path that leaves the datastore's container)
// or one it cannot reach fail for good, before any job exists. This file carries the plan out
// (heartbeat, resume point, upload); the plan itself (sources, content keys, blob names, where to
// resume) is src/dataset/stagePlan.ts, what a staged blob records and reuse src/dataset/stageResult.ts,
// how their errors fail the run src/azure/errors.ts (datasetFailure), and the operator's settings for
// dataset sources src/dataset/sourceSettings.ts. With readOnly (a dry run) it writes nothing: the same plan,
// each split's first rows read and judged as staging would (src/dataset/preview.ts).
import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { withHeartbeat } from './heartbeat';
import type { StageDatasetInput, StagedDataset, StagedSplit } from './types';
import { classified, datasetFailure } from '../azure/errors';
import { loadWorkerTuning } from '../config/workerTuning';
import {
  asIsSplitOf,
  checkReused,
  confineLocalFiles,
  describeSampling,
  findStaged,
  FIRST_ROWS,
  guardedFetch,
  loadDatasetSourceSettings,
  planSplits,
  previewDataset,
  requireRows,
  resumeFor,
  resumePointOf,
  roleField,
  ROLES,
  stagedDataset,
  stagedMetadata,
  stagedSplitOf,
  stageSplit,
  StagingSlots,
  verifyJsonl,
  type DatasetSourceSettings,
  type HubClientOptions,
  type SourceAccess,
  type StageHeartbeat,
  type StageProgress,
} from '../dataset';

export interface StageDatasetOptions {
  /** Target block size in bytes (default 4 MiB). Part of the blob layout, not of the content key. */
  blockBytes?: number;
  /** Blocks uploading at once (default 3). */
  concurrency?: number;
  /** Where dataset files may come from; default: from the environment (src/dataset/sourceSettings.ts). */
  sources?: DatasetSourceSettings;
  /** Stagings this worker runs at once; default: FTFLOW_MAX_CONCURRENT_STAGINGS (src/config/workerTuning.ts). */
  slots?: StagingSlots;
}

export function makeStageDataset(deps: ActivityDeps, options: StageDatasetOptions = {}) {
  const settings = options.sources ?? loadDatasetSourceSettings(process.env);
  const sources: SourceAccess = { settings, fetch: guardedFetch(settings.access) };
  const slots = options.slots ?? new StagingSlots(loadWorkerTuning(process.env).maxConcurrentStagings);
  return async function stageDataset(input: StageDatasetInput): Promise<StagedDataset> {
    return classified('stageDataset', async () => {
      const ctx = Context.current();
      const { dataset } = input;
      const sampling = dataset.sampling ?? FIRST_ROWS;
      const hub: HubClientOptions = {
        endpoint: deps.hub.endpoint,
        ...(deps.hub.token ? { token: deps.hub.token } : {}),
      };
      const progress: StageProgress = { rowsRead: 0, rowsWritten: 0, bytes: 0 };
      // The resume point outlives this attempt's first heartbeats: it is only replaced when another
      // split starts staging, so a worker that dies early loses nothing the last one had staged.
      let split = '';
      let resumePoint = resumePointOf(ctx.info.heartbeatDetails);
      const details = (): StageHeartbeat => ({ split, ...progress, ...resumePoint });

      return withHeartbeat(async (signal) => {
        // Taken before the first split that needs staging, held to the end: the heartbeats go on meanwhile.
        let release: (() => void) | undefined;
        try {
          const localPaths = await confineLocalFiles(dataset, settings);
          const ds = await deps.datastore();
          const { revision, plans } = await planSplits(dataset, ds, hub, sources, localPaths);
          // A dry run: the same plan, the first rows read and validated, nothing written.
          if (input.readOnly) return await previewDataset({ dataset, ds, revision, plans, signal });
          const staged = new Map<string, StagedSplit>();
          for (const role of ROLES) {
            const plan = plans[role];
            const field = roleField(dataset, role);
            if (staged.has(plan.key)) continue;
            split = plan.split;
            if (plan.mode === 'asIs') {
              // A datastore JSONL file used in place: it must exist, and its rows must pass validation.
              try {
                const { maxInvalidFraction } = dataset;
                const file = await verifyJsonl(plan.bytes, { label: plan.label, maxInvalidFraction, progress, signal });
                staged.set(plan.key, requireRows(asIsSplitOf(plan, ds, file), field));
              } catch (err) {
                throw datasetFailure(err, field);
              }
              continue;
            }
            let existing = await findStaged(ds, plan);
            if (!existing && !release) {
              release = await slots.acquire(signal);
              // While this run waited, another may have staged the same content.
              existing = await findStaged(ds, plan);
            }
            if (existing) {
              // the threshold is not part of the content key: an earlier run may have allowed more
              checkReused(existing, plan.label, dataset.maxInvalidFraction);
              staged.set(plan.key, requireRows(existing, field));
              continue;
            }
            const resume = resumeFor(plan, resumePoint);
            if (!resume) resumePoint = { key: plan.key };
            const description = describeSampling(sampling, dataset.percent);
            let result;
            try {
              result = await stageSplit({
                source: plan.source,
                target: ds.container.getBlockBlobClient(plan.blobPath),
                label: plan.label,
                percent: dataset.percent,
                sampling,
                maxInvalidFraction: dataset.maxInvalidFraction,
                ...(options.blockBytes ? { blockBytes: options.blockBytes } : {}),
                ...(options.concurrency ? { concurrency: options.concurrency } : {}),
                ...(resume?.total !== undefined ? { total: resume.total } : {}),
                ...(resume?.checkpoint ? { resume: resume.checkpoint } : {}),
                signal,
                progress,
                onTotal: (total) => {
                  resumePoint.total = total;
                },
                onCheckpoint: (checkpoint) => {
                  resumePoint.checkpoint = checkpoint;
                  ctx.heartbeat(details());
                },
                metadata: (r) => stagedMetadata(plan, description, r),
              });
            } catch (err) {
              throw datasetFailure(err, field);
            }
            staged.set(plan.key, requireRows(stagedSplitOf(plan, ds, result, description), field));
          }
          return stagedDataset(revision, plans, staged);
        } catch (err) {
          throw datasetFailure(err);
        } finally {
          release?.();
        }
      }, details);
    });
  };
}
