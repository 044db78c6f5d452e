// Step 4. Stages the train, test and scoring splits (the notebook's first percent%, or a seeded hash
// sample) from the Hub, a file or the datastore: validated, pandas-compatible JSONL, streamed block by
// block into the default datastore. Idempotency key: the content key (format, source version, percent,
// sampling) in the blob path and metadata; a complete blob with it is reused, nothing is uploaded.
// Retry class: long, heartbeating; a retry continues after the last heartbeat's staged blocks. Bad
// data, an empty slice, a missing file, a source the worker may not read (a local path outside its
// data root, a URL to a non-public address, a datastore path that leaves the datastore's container)
// or one it cannot reach fail for good, before any job exists. Operator settings for dataset
// sources: src/dataset/sourceSettings.ts.
import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { withHeartbeat } from './heartbeat';
import type { InvalidRowSummary, StageDatasetInput, StagedDataset, StagedSplit } from './types';
import { classified, RunFailure } from '../azure/errors';
import type { OpenDatastore } from '../azure/datastore';
import { loadDatasetSourceSettings, type DatasetSourceSettings } from '../dataset/sourceSettings';
import {
  blobByteSource,
  BlobNotFound,
  confineLocalPath,
  describeSampling,
  FIRST_ROWS,
  FileNotReadable,
  fileSplitSource,
  FormatError,
  guardedFetch,
  httpByteSource,
  HttpStatusError,
  HubError,
  hubSplitSource,
  listSplitFiles,
  localByteSource,
  refusalBeforeLookup,
  resolveRevision,
  sliceSpec,
  SourceRefused,
  SourceUnreachable,
  stageSplit,
  StagingError,
  ValidationTally,
  verifyJsonl,
  type ByteSource,
  type FetchLike,
  type HubClientOptions,
  type Sampling,
  type SplitCheckpoint,
  type SplitSource,
  type StageProgress,
  type ValidationSummary,
} from '../dataset';
import { blobNameProblem, isFilesDataset, parseFileRef, type ParsedFileRef } from '../spec/dataset';
import { stableHash } from '../spec/names';

/** Part of every content key: bumped when the staged bytes or blocks for the same source would change. */
const STAGING_FORMAT = 'jsonl-v2';
const ROLES = ['train', 'test', 'scoring'] as const;
type Role = (typeof ROLES)[number];

export interface StageDatasetOptions {
  /** Target block size in bytes (default 4 MiB). Part of the blob layout, not of the content key. */
  blockBytes?: number;
  /** Blocks uploading at once (default 3). */
  concurrency?: number;
  /** Where dataset files may come from; default: from the environment (src/dataset/sourceSettings.ts). */
  sources?: DatasetSourceSettings;
}

/** A split to read and stage as JSONL. */
interface StagePlan {
  mode: 'stage';
  role: Role;
  split: string;
  label: string;
  source: SplitSource;
  key: string;
  /** False when the source has no version: no reuse, no resume. */
  versioned: boolean;
  blobPath: string;
}

/** A JSONL file already in the default datastore, used in place. */
interface AsIsPlan {
  mode: 'asIs';
  role: Role;
  split: string;
  label: string;
  bytes: ByteSource;
  key: string;
  blobPath: string;
}

type SplitPlan = StagePlan | AsIsPlan;

/** What a heartbeat carries: live counters, and the resume point of the split being staged. */
export interface StageHeartbeat {
  split: string;
  rowsRead: number;
  rowsWritten: number;
  bytes: number;
  /** Content key of the split the checkpoint belongs to. */
  key?: string;
  /** Rows of that split's source, once counted. */
  total?: number;
  checkpoint?: SplitCheckpoint;
}

function readHeartbeat(details: unknown): StageHeartbeat | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const d = details as Partial<StageHeartbeat>;
  const cp = d.checkpoint;
  const cpOk =
    cp === undefined ||
    (typeof cp === 'object' &&
      cp !== null &&
      Number.isSafeInteger(cp.nextRow) &&
      Array.isArray(cp.blocks) &&
      typeof cp.tally === 'object');
  return typeof d.split === 'string' && cpOk ? (d as StageHeartbeat) : undefined;
}

function summarize(summary: ValidationSummary): InvalidRowSummary {
  const byReason: Record<string, number> = {};
  for (const [reason, count] of Object.entries(summary.byReason)) byReason[reason] = count ?? 0;
  return {
    count: summary.invalid,
    byReason,
    examples: summary.examples.map((e) => ({ row: e.row, reason: e.reason })),
    fraction: summary.total === 0 ? 0 : summary.invalid / summary.total,
  };
}

function slug(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._-]+/, '')
      .slice(0, 100) || 'data'
  );
}

function samplingKey(sampling: Sampling): string {
  return sampling.method === 'first' ? 'first' : `hash:${sampling.seed}`;
}

function failure(err: unknown, field: string): unknown {
  if (err instanceof HubError) {
    const kind =
      err.code === 'Network' || err.code === 'BadResponse' || err.code === 'Http'
        ? 'transient'
        : err.code === 'Unauthorized'
          ? 'auth'
          : 'validation';
    return new RunFailure(kind, `${err.message} (${field})`, `Hub${err.code}`);
  }
  if (err instanceof StagingError) {
    const hint = err.code === 'TooManyInvalidRows' ? ' (dataset.maxInvalidFraction)' : '';
    return new RunFailure('validation', `${err.message}${hint}`, err.code);
  }
  if (err instanceof BlobNotFound || err instanceof FormatError || err instanceof FileNotReadable) {
    return new RunFailure('validation', `${field}: ${err.message}`, err.name);
  }
  if (err instanceof SourceRefused) {
    return new RunFailure('validation', `${field}: ${err.message}`, 'DatasetSourceRefused');
  }
  if (err instanceof SourceUnreachable && field.startsWith('dataset.files.')) {
    // A connection lost in the middle of a body: the activity retries and resumes where it was.
    if (err.retryable) return new RunFailure('network', `${field}: ${err.message}`, 'DatasetSourceUnreachable');
    // The reader already retried (or the server stopped answering): another activity attempt would
    // only repeat the wait, twenty times over.
    return new RunFailure(
      'validation',
      `${field}: ${err.message}. Check that the URL is right and its server is up and reachable from the worker, or copy the file to the workspace datastore and give its azureml://datastores/<name>/paths/<path> URI`,
      'DatasetSourceUnreachable',
    );
  }
  if (err instanceof HttpStatusError && err.status < 500 && err.status !== 408 && err.status !== 429) {
    // A file server's refusal is about that server, not the worker's Azure credentials (no auth hint).
    const denied = (err.status === 401 || err.status === 403) && !field.startsWith('dataset.files.');
    return new RunFailure(denied ? 'auth' : 'validation', `${field}: ${err.message}`, 'DatasetFileUnreadable');
  }
  return err;
}

async function contentKeyOf(
  source: SplitSource,
  percent: number,
  sampling: Sampling,
): Promise<{ key: string; versioned: boolean }> {
  const id = await source.identity();
  return {
    key: stableHash(JSON.stringify([STAGING_FORMAT, id.location, id.version ?? null, percent, samplingKey(sampling)])),
    versioned: id.version !== undefined,
  };
}

/** Decides, for each role, where its rows come from and where they go. */
async function planSplits(
  input: StageDatasetInput,
  ds: OpenDatastore,
  hub: HubClientOptions,
  sources: SourceAccess,
  localPaths: LocalPaths,
): Promise<{ revision: string; plans: Record<Role, SplitPlan> }> {
  const { dataset } = input;
  const sampling = dataset.sampling ?? FIRST_ROWS;
  const plans = {} as Record<Role, SplitPlan>;

  if (!isFilesDataset(dataset)) {
    let revision: string;
    try {
      revision = await resolveRevision(hub, dataset.source, dataset.revision);
    } catch (err) {
      throw failure(err, 'dataset.source / dataset.revision');
    }
    const splits: Record<Role, string> = {
      train: dataset.trainSplit,
      test: dataset.testSplit,
      scoring: dataset.scoringSplit,
    };
    for (const role of ROLES) {
      const split = splits[role];
      const field = `dataset.${role}Split`;
      let files;
      try {
        files = await listSplitFiles(hub, dataset.source, revision, split);
      } catch (err) {
        throw failure(err, field);
      }
      const source = hubSplitSource(dataset.source, revision, split, files, {
        ...(hub.token ? { token: hub.token } : {}),
      });
      const { key, versioned } = await contentKeyOf(source, dataset.percent, sampling);
      const label =
        sampling.method === 'first'
          ? `${dataset.source} ${sliceSpec(split, dataset.percent)}`
          : `${dataset.source} ${split} (${describeSampling(sampling, dataset.percent)})`;
      plans[role] = {
        mode: 'stage',
        role,
        split,
        label,
        source,
        key,
        versioned,
        blobPath: `finetune-flow/datasets/${slug(dataset.source)}/${key}/${split}.jsonl`,
      };
    }
    return { revision, plans };
  }

  // Every entry is judged before any of them is read: a refused one fails the run without a request.
  const opened = {} as Record<Role, { ref: ParsedFileRef; bytes: ByteSource; inDatastore?: string }>;
  for (const role of ROLES) {
    const field = `dataset.files.${role}`;
    const ref = fileRefOf(dataset.files[role], field);
    try {
      opened[role] = { ref, ...(await openFile(ref, dataset.files[role], ds, field, sources, localPaths[role])) };
    } catch (err) {
      throw failure(err, field);
    }
  }

  const versions: string[] = [];
  for (const role of ROLES) {
    const value = dataset.files[role];
    const field = `dataset.files.${role}`;
    const { ref, bytes, inDatastore } = opened[role];
    let info;
    try {
      info = await bytes.info();
    } catch (err) {
      throw failure(err, field);
    }
    versions.push(info.version ?? 'unversioned');
    const stem = slug(bytes.name.slice(bytes.name.lastIndexOf('/') + 1).replace(/\.[^.]*$/, ''));
    if (inDatastore !== undefined && ref.format === 'jsonl' && dataset.percent === 100 && sampling.method === 'first') {
      plans[role] = {
        mode: 'asIs',
        role,
        split: role,
        label: `${field} (${bytes.name})`,
        bytes,
        key: `as-is:${inDatastore}`,
        blobPath: inDatastore,
      };
      continue;
    }
    const source = fileSplitSource(bytes, ref.format, value);
    const { key, versioned } = await contentKeyOf(source, dataset.percent, sampling);
    const label = `${field} ${bytes.name} (${describeSampling(sampling, dataset.percent)})`;
    plans[role] = {
      mode: 'stage',
      role,
      split: role,
      label,
      source,
      key,
      versioned,
      blobPath: `finetune-flow/datasets/files/${key}/${stem}.jsonl`,
    };
  }
  return { revision: `files-${stableHash(versions.join('\n'))}`, plans };
}

function fileRefOf(value: string, field: string): ParsedFileRef {
  const ref = parseFileRef(value);
  if ('error' in ref) throw new RunFailure('validation', `${field}: ${ref.error}`, 'BadDatasetFile');
  return ref;
}

/** The real paths of the local files among dataset.files, by role. */
type LocalPaths = Partial<Record<Role, string>>;

/**
 * Local files are judged first, before the datastore is opened or anything is fetched: a path
 * outside the worker's data root (or any local path when it has none) fails the run here.
 */
async function confineLocalFiles(input: StageDatasetInput, settings: DatasetSourceSettings): Promise<LocalPaths> {
  const { dataset } = input;
  const out: LocalPaths = {};
  if (!isFilesDataset(dataset)) return out;
  for (const role of ROLES) {
    const field = `dataset.files.${role}`;
    const ref = fileRefOf(dataset.files[role], field);
    if (ref.kind !== 'local') continue;
    try {
      out[role] = await confineLocalPath(ref.location, settings.dataRoots);
    } catch (err) {
      throw failure(err, field);
    }
  }
  return out;
}

/** Where a dataset file may be read from, and how: the operator's settings and the fetch that enforces them. */
interface SourceAccess {
  settings: DatasetSourceSettings;
  fetch: FetchLike;
}

/**
 * The path inside the default datastore that an https blob URL points at, if it is one of the
 * datastore's container (compared as parsed URLs: same origin, path under the container's).
 */
function datastoreUrlPath(value: string, ds: OpenDatastore, field: string): string | undefined {
  let url: URL;
  let base: URL;
  try {
    url = new URL(value);
    base = new URL(ds.container.url);
  } catch {
    return undefined;
  }
  const prefix = `${base.pathname.replace(/\/+$/, '')}/`;
  if (url.origin !== base.origin || !url.pathname.startsWith(prefix)) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname.slice(prefix.length));
  } catch {
    path = '%';
  }
  const problem = path === '%' ? 'it has a malformed %-escape' : blobNameProblem(path);
  if (problem) {
    throw new RunFailure(
      'validation',
      `${field}: the blob path in the URL cannot be used: ${problem}`,
      'BadDatastorePath',
    );
  }
  return path;
}

/**
 * The blob `path` names in the datastore's container, built by the client (which encodes the path
 * as one blob name) and checked after the fact: its URL must stay under the container's URL and the
 * client must read it back as the same container and blob name. Anything else (a path that would
 * resolve into another container of the storage account) is refused, whatever let it through.
 */
export function confinedBlob(ds: Pick<OpenDatastore, 'name' | 'container'>, path: string, field: string) {
  const refuse = (why: string) =>
    new RunFailure(
      'validation',
      `${field}: the path "${path}" ${why}: give a file inside the datastore ${ds.name} (azureml://datastores/${ds.name}/paths/<folder>/<file.jsonl>)`,
      'DatastorePathOutsideContainer',
    );
  const problem = blobNameProblem(path);
  if (problem) throw refuse(`cannot be used: ${problem}`);
  const blob = ds.container.getBlobClient(path);
  const base = new URL(ds.container.url);
  const got = new URL(blob.url);
  const inside =
    got.origin === base.origin &&
    got.pathname.startsWith(`${base.pathname.replace(/\/+$/, '')}/`) &&
    blob.containerName === ds.container.containerName &&
    blob.name === path;
  if (!inside) throw refuse("does not name a blob of the datastore's container");
  return blob;
}

async function openFile(
  ref: ParsedFileRef,
  value: string,
  ds: OpenDatastore,
  field: string,
  access: SourceAccess,
  localPath: string | undefined,
): Promise<{ bytes: ByteSource; inDatastore?: string }> {
  if (ref.kind === 'datastore') {
    if (ref.location !== ds.name) {
      throw new RunFailure(
        'validation',
        `${field}: datastore "${ref.location}" is not the workspace's default datastore "${ds.name}"; finetune-flow reads files from the default datastore only: copy the file there, or give it as an http(s) URL`,
        'UnsupportedDatastore',
      );
    }
    const path = ref.path ?? '';
    return { bytes: blobByteSource(confinedBlob(ds, path, field), ds.uriFor(path)), inDatastore: path };
  }
  if (ref.kind === 'local') {
    const real = localPath ?? (await confineLocalPath(ref.location, access.settings.dataRoots));
    return { bytes: localByteSource(real, undefined, ref.location) };
  }
  const inDatastore = datastoreUrlPath(value, ds, field);
  if (inDatastore !== undefined) {
    return {
      bytes: blobByteSource(confinedBlob(ds, inDatastore, field), ds.uriFor(inDatastore)),
      inDatastore,
    };
  }
  const refusal = refusalBeforeLookup(new URL(value), access.settings.access);
  if (refusal) throw new SourceRefused(refusal);
  return { bytes: httpByteSource(value, { fetch: access.fetch }) };
}

/** A staged split from a complete earlier upload (same content key), or undefined. */
async function findComplete(ds: OpenDatastore, plan: StagePlan): Promise<StagedSplit | undefined> {
  if (!plan.versioned) return undefined;
  try {
    const props = await ds.container.getBlockBlobClient(plan.blobPath).getProperties();
    const md = props.metadata ?? {};
    if (
      md.ftflowformat !== STAGING_FORMAT ||
      md.ftflowcontentkey !== plan.key ||
      !md.ftflowsha256 ||
      md.ftflowrows === undefined
    )
      return undefined;
    if (Number(md.ftflowbytes) !== props.contentLength) return undefined;
    return {
      split: plan.split,
      uri: ds.uriFor(plan.blobPath),
      blobPath: plan.blobPath,
      sourceRows: Number(md.ftflowsourcerows),
      rows: Number(md.ftflowrows),
      bytes: props.contentLength ?? 0,
      sha256: md.ftflowsha256,
      invalid: JSON.parse(md.ftflowinvalid ?? '{"count":0,"byReason":{},"examples":[]}') as InvalidRowSummary,
      reused: true,
      contentKey: plan.key,
      origin: plan.source.name,
      sampling: md.ftflowsampling ?? '',
      scannedRows: Number(md.ftflowscannedrows ?? md.ftflowsourcerows),
      blocks: Number(md.ftflowblocks ?? 0),
      sha256Of: 'blocks',
    };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** A split with no rows would only fail later, inside a paid job: refuse it here. */
function requireRows(split: StagedSplit, field: string): StagedSplit {
  if (split.rows > 0) return split;
  throw new RunFailure(
    'validation',
    `${field}: ${split.origin} has no rows to train on (${split.sourceRows === 0 ? 'the file is empty or has blank lines only' : `none of its ${split.sourceRows} rows is kept`}): give a JSONL or parquet file of chat rows`,
    'EmptySplit',
  );
}

function checkReused(split: StagedSplit, label: string, maxInvalidFraction: number): void {
  const summary: ValidationSummary = {
    total: split.sourceRows,
    valid: split.sourceRows - split.invalid.count,
    invalid: split.invalid.count,
    byReason: split.invalid.byReason as ValidationSummary['byReason'],
    examples: split.invalid.examples as ValidationSummary['examples'],
  };
  try {
    ValidationTally.fromSummary(summary, label).check(maxInvalidFraction);
  } catch (err) {
    throw new RunFailure('validation', `${(err as Error).message} (dataset.maxInvalidFraction)`, 'TooManyInvalidRows');
  }
}

/** A datastore JSONL file used in place: it must exist, and its rows must pass validation. */
async function verifyAsIs(
  plan: AsIsPlan,
  ds: OpenDatastore,
  maxInvalidFraction: number,
  progress: StageProgress,
  signal: AbortSignal,
): Promise<StagedSplit> {
  const file = await verifyJsonl(plan.bytes, { label: plan.label, maxInvalidFraction, progress, signal });
  return {
    split: plan.split,
    uri: ds.uriFor(plan.blobPath),
    blobPath: plan.blobPath,
    sourceRows: file.sourceRows,
    rows: file.rows,
    bytes: file.bytes,
    sha256: file.sha256,
    invalid: summarize(file.invalid),
    reused: false,
    contentKey: plan.key,
    origin: plan.bytes.name,
    sampling: describeSampling(FIRST_ROWS, 100),
    scannedRows: file.sourceRows,
    sha256Of: 'bytes',
    usedAsIs: true,
  };
}

export function makeStageDataset(deps: ActivityDeps, options: StageDatasetOptions = {}) {
  const settings = options.sources ?? loadDatasetSourceSettings(process.env);
  const sources: SourceAccess = { settings, fetch: guardedFetch(settings.access) };
  return async function stageDataset(input: StageDatasetInput): Promise<StagedDataset> {
    return classified('stageDataset', async () => {
      const ctx = Context.current();
      const previous = readHeartbeat(ctx.info.heartbeatDetails);
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
      let resumePoint: Pick<StageHeartbeat, 'key' | 'total' | 'checkpoint'> = previous
        ? {
            ...(previous.key ? { key: previous.key } : {}),
            ...(previous.total !== undefined ? { total: previous.total } : {}),
            ...(previous.checkpoint ? { checkpoint: previous.checkpoint } : {}),
          }
        : {};
      const details = (): StageHeartbeat => ({ split, ...progress, ...resumePoint });

      return withHeartbeat(async (signal) => {
        const localPaths = await confineLocalFiles(input, settings);
        const ds = await deps.datastore();
        const { revision, plans } = await planSplits(input, ds, hub, sources, localPaths);
        const staged = new Map<string, StagedSplit>();

        for (const role of ROLES) {
          const plan = plans[role];
          const field = isFilesDataset(dataset) ? `dataset.files.${role}` : `dataset.${role}Split`;
          if (staged.has(plan.key)) continue;
          split = plan.split;
          if (plan.mode === 'asIs') {
            try {
              staged.set(
                plan.key,
                requireRows(await verifyAsIs(plan, ds, dataset.maxInvalidFraction, progress, signal), field),
              );
            } catch (err) {
              throw failure(err, field);
            }
            continue;
          }
          const existing = await findComplete(ds, plan);
          if (existing) {
            // the threshold is not part of the content key: an earlier run may have allowed more
            checkReused(existing, plan.label, dataset.maxInvalidFraction);
            staged.set(plan.key, requireRows(existing, field));
            continue;
          }
          const resume = plan.versioned && resumePoint.key === plan.key ? resumePoint : undefined;
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
              metadata: (r) => ({
                ftflowformat: STAGING_FORMAT,
                ftflowcontentkey: plan.key,
                ftflowsplit: plan.split,
                ftflowsource: encodeURIComponent(plan.source.name),
                ftflowsampling: description,
                ftflowsha256: r.sha256,
                ftflowrows: String(r.rows),
                ftflowsourcerows: String(r.sourceRows),
                ftflowscannedrows: String(r.scannedRows),
                ftflowbytes: String(r.bytes),
                ftflowblocks: String(r.blocks),
                ftflowinvalid: JSON.stringify(summarize(r.invalid)),
              }),
            });
          } catch (err) {
            throw failure(err, field);
          }
          staged.set(
            plan.key,
            requireRows(
              {
                split: plan.split,
                uri: ds.uriFor(plan.blobPath),
                blobPath: plan.blobPath,
                sourceRows: result.sourceRows,
                rows: result.rows,
                bytes: result.bytes,
                sha256: result.sha256,
                invalid: summarize(result.invalid),
                reused: false,
                contentKey: plan.key,
                origin: plan.source.name,
                sampling: description,
                scannedRows: result.scannedRows,
                blocks: result.blocks,
                sha256Of: 'blocks',
                resumedAtRow: result.resumedAtRow,
              },
              field,
            ),
          );
        }
        const get = (role: Role): StagedSplit => {
          const s = staged.get(plans[role].key);
          if (!s) throw new Error(`internal: ${role} was not staged`);
          return s.split === plans[role].split ? s : { ...s, split: plans[role].split };
        };
        const contentKey = stableHash(JSON.stringify(ROLES.map((r) => plans[r].key)));
        return { revision, contentKey, train: get('train'), test: get('test'), scoring: get('scoring') };
      }, details);
    });
  };
}
