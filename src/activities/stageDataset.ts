// Step 4. Takes the first `percent`% of each split the run needs (the notebook's slice, "closest"
// rounding), validates every chat row, and streams JSONL into the workspace's default datastore.
// Upload once: blobs are keyed by content (dataset, resolved revision, split, percent, sampling) and
// carry their sha256 and row count in metadata; a run that finds a complete match uploads nothing.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import type { InvalidRowSummary, StageDatasetInput, StagedDataset, StagedSplit } from './types';
import { classified, RunFailure } from '../azure/errors';
import type { OpenDatastore } from '../azure/datastore';
import { countRows, listSplitFiles, readRows, resolveRevision, HubError, type HubClientOptions, type HubFile } from '../dataset';
import { sliceRowCount, sliceSpec } from '../dataset/split';
import { toJsonLine } from '../dataset/jsonl';
import { validateChatRow, ValidationTally, type ValidationSummary } from '../dataset/validate';
import { stableHash } from '../spec/names';

/** Bumped when the staged bytes for the same source would change (format, validation rules). */
const STAGING_FORMAT = 'jsonl-v1';
const UPLOAD_BUFFER_BYTES = 4 * 1024 * 1024;

interface SplitProgress {
  split: string;
  rowsRead: number;
  rowsWritten: number;
  bytes: number;
}

function summarize(summary: ValidationSummary): InvalidRowSummary {
  const byReason: Record<string, number> = {};
  for (const [reason, count] of Object.entries(summary.byReason)) byReason[reason] = count ?? 0;
  return { count: summary.invalid, byReason, examples: summary.examples.map((e) => ({ row: e.row, reason: e.reason })) };
}

async function findComplete(ds: OpenDatastore, blobPath: string, contentKey: string): Promise<StagedSplit | undefined> {
  const blob = ds.container.getBlockBlobClient(blobPath);
  try {
    const props = await blob.getProperties();
    const md = props.metadata ?? {};
    if (md.ftflowcontentkey !== contentKey || !md.ftflowsha256 || md.ftflowrows === undefined) return undefined;
    if (Number(md.ftflowbytes) !== props.contentLength) return undefined;
    return {
      split: md.ftflowsplit ?? '',
      uri: ds.uriFor(blobPath),
      blobPath,
      sourceRows: Number(md.ftflowsourcerows),
      rows: Number(md.ftflowrows),
      bytes: props.contentLength ?? 0,
      sha256: md.ftflowsha256,
      invalid: JSON.parse(md.ftflowinvalid ?? '{"count":0,"byReason":{},"examples":[]}') as InvalidRowSummary,
      reused: true,
    };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

export function makeStageDataset(deps: ActivityDeps) {
  return async function stageDataset(input: StageDatasetInput): Promise<StagedDataset> {
    return classified('stageDataset', async () => {
      const ctx = Context.current();
      const { dataset } = input;
      const hub: HubClientOptions = { endpoint: deps.hub.endpoint, token: deps.hub.token };
      let revision: string;
      try {
        revision = await resolveRevision(hub, dataset.source, dataset.revision);
      } catch (err) {
        throw hubFailure(err);
      }
      const contentKey = stableHash(JSON.stringify([STAGING_FORMAT, dataset.source, revision, dataset.percent, 'head']));
      const prefix = `finetune-flow/datasets/${dataset.source.replace(/[^A-Za-z0-9._-]+/g, '_')}/${contentKey}`;
      const ds = await deps.datastore();
      const progress: SplitProgress = { split: '', rowsRead: 0, rowsWritten: 0, bytes: 0 };
      const staged = new Map<string, StagedSplit>();

      for (const split of [dataset.trainSplit, dataset.testSplit, dataset.scoringSplit]) {
        if (staged.has(split)) continue;
        const blobPath = `${prefix}/${split}.jsonl`;
        const existing = await findComplete(ds, blobPath, contentKey);
        if (existing) {
          staged.set(split, { ...existing, split });
          continue;
        }
        let files: HubFile[];
        try {
          files = await listSplitFiles(hub, dataset.source, revision, split);
        } catch (err) {
          throw hubFailure(err);
        }
        const total = await countRows(files, { token: hub.token });
        const limit = sliceRowCount(total, dataset.percent);
        if (limit === 0) {
          throw new RunFailure('validation', `${sliceSpec(split, dataset.percent)} of ${dataset.source} is empty (${total} rows): raise dataset.percent`, 'EmptySlice');
        }
        const tally = new ValidationTally(`${dataset.source} ${sliceSpec(split, dataset.percent)}`);
        const hash = createHash('sha256');
        Object.assign(progress, { split, rowsRead: 0, rowsWritten: 0, bytes: 0 });
        ctx.heartbeat(progress);

        async function* lines(): AsyncGenerator<Buffer> {
          for await (const batch of readRows(files, { limit, token: hub.token })) {
            let chunk = '';
            batch.rows.forEach((raw, i) => {
              const result = validateChatRow(raw);
              tally.record(batch.startRow + i, result);
              if (result.ok) {
                chunk += toJsonLine(result.row) + '\n';
                progress.rowsWritten++;
              }
            });
            progress.rowsRead += batch.rows.length;
            const bytes = Buffer.from(chunk, 'utf8');
            hash.update(bytes);
            progress.bytes += bytes.length;
            ctx.heartbeat(progress);
            if (bytes.length > 0) yield bytes;
          }
        }

        const blob = ds.container.getBlockBlobClient(blobPath);
        await blob.uploadStream(Readable.from(lines()), UPLOAD_BUFFER_BYTES, 2, {
          blobHTTPHeaders: { blobContentType: 'application/jsonl; charset=utf-8' },
          abortSignal: ctx.cancellationSignal,
        });
        try {
          tally.check(dataset.maxInvalidFraction);
        } catch (err) {
          await blob.deleteIfExists();
          throw new RunFailure('validation', `${(err as Error).message} (dataset.maxInvalidFraction)`, 'TooManyInvalidRows');
        }
        const sha256 = hash.digest('hex');
        const invalid = summarize(tally.summary());
        // Metadata last: its presence marks the upload complete.
        await blob.setMetadata({
          ftflowcontentkey: contentKey,
          ftflowsplit: split,
          ftflowsha256: sha256,
          ftflowrows: String(progress.rowsWritten),
          ftflowsourcerows: String(progress.rowsRead),
          ftflowbytes: String(progress.bytes),
          ftflowinvalid: JSON.stringify(invalid),
        });
        staged.set(split, {
          split,
          uri: ds.uriFor(blobPath),
          blobPath,
          sourceRows: progress.rowsRead,
          rows: progress.rowsWritten,
          bytes: progress.bytes,
          sha256,
          invalid,
          reused: false,
        });
      }
      const get = (split: string): StagedSplit => {
        const s = staged.get(split);
        if (!s) throw new Error(`split ${split} was not staged`);
        return s;
      };
      return { revision, contentKey, train: get(dataset.trainSplit), test: get(dataset.testSplit), scoring: get(dataset.scoringSplit) };
    });
  };
}

function hubFailure(err: unknown): unknown {
  if (err instanceof HubError) {
    const kind = err.code === 'Network' || err.code === 'BadResponse' || err.code === 'Http' ? 'transient' : err.code === 'Unauthorized' ? 'auth' : 'validation';
    return new RunFailure(kind, `${err.message} (dataset.source / dataset.revision / split names)`, `Hub${err.code}`);
  }
  return err;
}
