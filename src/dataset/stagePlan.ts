// Step 4's plan, carried out by the stageDataset activity (src/activities/stageDataset.ts): for each role
// (train, test, scoring), where its rows come from (a Hub split at a resolved commit, a local, http(s) or
// datastore file, or a datastore JSONL file used as it is), which source that is (its identity and
// version), the content key derived from it, the blob it is staged to and the label messages give it;
// and where a retried attempt resumes (the last heartbeat's resume point). Bad references are refused
// here, before anything is read: every file entry is judged before any is opened, and local paths before
// the datastore is opened. What staged blobs record, and reuse, is in stageResult.ts.
import type { ContainerClient } from '@azure/storage-blob';
import {
  blobNameProblem,
  isFilesDataset,
  parseFileRef,
  type DatasetSpec,
  type ParsedFileRef,
} from '../runSpec/dataset';
import { stableHash } from '../runSpec/names';
import { blobByteSource, httpByteSource, localByteSource, type ByteSource } from './bytes';
import { refusalBeforeLookup, type FetchLike } from './guardedFetch';
import { listSplitFiles, resolveRevision, type HubClientOptions } from './hub';
import { confineLocalPath } from './localRoot';
import { describeSampling, FIRST_ROWS, type Sampling } from './sampling';
import type { DatasetSourceSettings } from './sourceSettings';
import { sliceSpec } from './split';
import { fileSplitSource, hubSplitSource, type SplitSource } from './splitSource';
import type { SplitCheckpoint } from './stageSplit';
import { FieldFailure, PlanRefusal, SourceRefused } from './util';

/** Part of every content key: bumped when the staged bytes or blocks for the same source would change. */
export const STAGING_FORMAT = 'jsonl-v2';
export const ROLES = ['train', 'test', 'scoring'] as const;
export type Role = (typeof ROLES)[number];

/** A split to read and stage as JSONL. */
export interface StagePlan {
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
export interface AsIsPlan {
  mode: 'asIs';
  role: Role;
  split: string;
  label: string;
  bytes: ByteSource;
  key: string;
  blobPath: string;
}

export type SplitPlan = StagePlan | AsIsPlan;

/** The workspace's default datastore as staging uses it (src/azure/datastore.ts opens it). */
export interface StagingDatastore {
  name: string;
  container: ContainerClient;
  /** azureml://datastores/<name>/paths/<path>, the form pipeline inputs take. */
  uriFor(path: string): string;
}

/** Where a dataset file may be read from, and how: the operator's settings and the fetch that enforces them. */
export interface SourceAccess {
  settings: DatasetSourceSettings;
  fetch: FetchLike;
}

/** The real paths of the local files among dataset.files, by role. */
export type LocalPaths = Partial<Record<Role, string>>;

/** The spec field a role's rows come from, as messages name it. */
export function roleField(dataset: DatasetSpec, role: Role): string {
  return isFilesDataset(dataset) ? `dataset.files.${role}` : `dataset.${role}Split`;
}

/** Runs `body`; whatever it throws is reported under `field`. */
async function atField<T>(field: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw new FieldFailure(field, err);
  }
}

export function slug(text: string): string {
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

/** The content key of a source's slice: format, the source and its version, percent and sampling. */
export async function contentKeyOf(
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
export async function planSplits(
  dataset: DatasetSpec,
  ds: StagingDatastore,
  hub: HubClientOptions,
  sources: SourceAccess,
  localPaths: LocalPaths,
): Promise<{ revision: string; plans: Record<Role, SplitPlan> }> {
  const sampling = dataset.sampling ?? FIRST_ROWS;
  const plans = {} as Record<Role, SplitPlan>;

  if (!isFilesDataset(dataset)) {
    const revision = await atField('dataset.source / dataset.revision', () =>
      resolveRevision(hub, dataset.source, dataset.revision),
    );
    const splits: Record<Role, string> = {
      train: dataset.trainSplit,
      test: dataset.testSplit,
      scoring: dataset.scoringSplit,
    };
    for (const role of ROLES) {
      const split = splits[role];
      const files = await atField(`dataset.${role}Split`, () => listSplitFiles(hub, dataset.source, revision, split));
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
    opened[role] = {
      ref,
      ...(await atField(field, () => openFile(ref, dataset.files[role], ds, field, sources, localPaths[role]))),
    };
  }

  const versions: string[] = [];
  for (const role of ROLES) {
    const value = dataset.files[role];
    const field = `dataset.files.${role}`;
    const { ref, bytes, inDatastore } = opened[role];
    const info = await atField(field, () => bytes.info());
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
  if ('error' in ref) throw new PlanRefusal('BadDatasetFile', `${field}: ${ref.error}`);
  return ref;
}

/**
 * Local files are judged first, before the datastore is opened or anything is fetched: a path
 * outside the worker's data root (or any local path when it has none) fails the run here.
 */
export async function confineLocalFiles(dataset: DatasetSpec, settings: DatasetSourceSettings): Promise<LocalPaths> {
  const out: LocalPaths = {};
  if (!isFilesDataset(dataset)) return out;
  for (const role of ROLES) {
    const field = `dataset.files.${role}`;
    const ref = fileRefOf(dataset.files[role], field);
    if (ref.kind !== 'local') continue;
    out[role] = await atField(field, () => confineLocalPath(ref.location, settings.dataRoots));
  }
  return out;
}

/**
 * The path inside the default datastore that an https blob URL points at, if it is one of the
 * datastore's container (compared as parsed URLs: same origin, path under the container's).
 */
function datastoreUrlPath(value: string, ds: StagingDatastore, field: string): string | undefined {
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
    throw new PlanRefusal('BadDatastorePath', `${field}: the blob path in the URL cannot be used: ${problem}`);
  }
  return path;
}

/**
 * The blob `path` names in the datastore's container, built by the client (which encodes the path
 * as one blob name) and checked after the fact: its URL must stay under the container's URL and the
 * client must read it back as the same container and blob name. Anything else (a path that would
 * resolve into another container of the storage account) is refused, whatever let it through.
 */
export function confinedBlob(ds: Pick<StagingDatastore, 'name' | 'container'>, path: string, field: string) {
  const refuse = (why: string) =>
    new PlanRefusal(
      'DatastorePathOutsideContainer',
      `${field}: the path "${path}" ${why}: give a file inside the datastore ${ds.name} (azureml://datastores/${ds.name}/paths/<folder>/<file.jsonl>)`,
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
  ds: StagingDatastore,
  field: string,
  access: SourceAccess,
  localPath: string | undefined,
): Promise<{ bytes: ByteSource; inDatastore?: string }> {
  if (ref.kind === 'datastore') {
    if (ref.location !== ds.name) {
      throw new PlanRefusal(
        'UnsupportedDatastore',
        `${field}: datastore "${ref.location}" is not the workspace's default datastore "${ds.name}"; finetune-flow reads files from the default datastore only: copy the file there, or give it as an http(s) URL`,
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

// ------------------------------------------------------------------------------------------------
// The resume plan: what a heartbeat carries, and where a retried attempt continues.

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

/** Where staging may continue: the split's content key, its row count and the last checkpoint. */
export type ResumePoint = Pick<StageHeartbeat, 'key' | 'total' | 'checkpoint'>;

/** The last heartbeat's details when they have the expected shape (they come back from the server). */
export function readHeartbeat(details: unknown): StageHeartbeat | undefined {
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

/** The resume point an attempt starts with: the one in the last heartbeat's details, or none. */
export function resumePointOf(details: unknown): ResumePoint {
  const previous = readHeartbeat(details);
  return previous
    ? {
        ...(previous.key ? { key: previous.key } : {}),
        ...(previous.total !== undefined ? { total: previous.total } : {}),
        ...(previous.checkpoint ? { checkpoint: previous.checkpoint } : {}),
      }
    : {};
}

/** The resume point to stage `plan` from: `point` when it is this content (from a versioned source), else none. */
export function resumeFor(plan: StagePlan, point: ResumePoint): ResumePoint | undefined {
  return plan.versioned && point.key === plan.key ? point : undefined;
}
