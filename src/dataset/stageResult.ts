// What staging a dataset produces (the types are in staged.ts), and what a staged blob records about
// itself in its metadata (format, content key, hash, counts), so that a later run with the same content
// key finds a complete upload and reuses it instead of uploading again. The plan that decides the
// content keys: stagePlan.ts.
import {
  ROLES,
  STAGING_FORMAT,
  type AsIsPlan,
  type Role,
  type SplitPlan,
  type StagePlan,
  type StagingDatastore,
} from './stagePlan';
import { stableHash } from '../runSpec/names';
import { describeSampling, FIRST_ROWS } from './sampling';
import type { StagedSplitResult } from './stageSplit';
import { ValidationTally, type ValidationSummary } from './validate';
import type { InvalidRowSummary, StagedDataset, StagedSplit } from './staged';
import { PlanRefusal } from './util';
import type { VerifiedFile } from './verify';

/** A validation summary as results and metadata carry it. */
export function summarize(summary: ValidationSummary): InvalidRowSummary {
  const byReason: Record<string, number> = {};
  for (const [reason, count] of Object.entries(summary.byReason)) byReason[reason] = count ?? 0;
  return {
    count: summary.invalid,
    byReason,
    examples: summary.examples.map((e) => ({ row: e.row, reason: e.reason })),
    fraction: summary.total === 0 ? 0 : summary.invalid / summary.total,
  };
}

/** The metadata a staged blob is committed with: what a later run checks before it reuses the blob. */
export function stagedMetadata(plan: StagePlan, sampling: string, r: StagedSplitResult): Record<string, string> {
  return {
    ftflowformat: STAGING_FORMAT,
    ftflowcontentkey: plan.key,
    ftflowsplit: plan.split,
    ftflowsource: encodeURIComponent(plan.source.name),
    ftflowsampling: sampling,
    ftflowsha256: r.sha256,
    ftflowrows: String(r.rows),
    ftflowsourcerows: String(r.sourceRows),
    ftflowscannedrows: String(r.scannedRows),
    ftflowbytes: String(r.bytes),
    ftflowblocks: String(r.blocks),
    ftflowinvalid: JSON.stringify(summarize(r.invalid)),
  };
}

/** A staged split from a complete earlier upload (same content key), or undefined. */
export async function findStaged(ds: StagingDatastore, plan: StagePlan): Promise<StagedSplit | undefined> {
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

/** The threshold is not part of the content key: a reused split must pass this run's. */
export function checkReused(split: StagedSplit, label: string, maxInvalidFraction: number): void {
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
    throw new PlanRefusal('TooManyInvalidRows', `${(err as Error).message} (dataset.maxInvalidFraction)`);
  }
}

/** A split with no rows would only fail later, inside a paid job: refuse it here. */
export function requireRows(split: StagedSplit, field: string): StagedSplit {
  if (split.rows > 0) return split;
  throw new PlanRefusal(
    'EmptySplit',
    `${field}: ${split.origin} has no rows to train on (${split.sourceRows === 0 ? 'the file is empty or has blank lines only' : `none of its ${split.sourceRows} rows is kept`}): give a JSONL or parquet file of chat rows`,
  );
}

/** The split just staged for `plan`. */
export function stagedSplitOf(
  plan: StagePlan,
  ds: StagingDatastore,
  result: StagedSplitResult,
  sampling: string,
): StagedSplit {
  return {
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
    sampling,
    scannedRows: result.scannedRows,
    blocks: result.blocks,
    sha256Of: 'blocks',
    resumedAtRow: result.resumedAtRow,
  };
}

/** A datastore JSONL file used in place, once verified. */
export function asIsSplitOf(plan: AsIsPlan, ds: StagingDatastore, file: VerifiedFile): StagedSplit {
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

/** The activity's result: each role's split (roles with the same content key share one), and a key over all three. */
export function stagedDataset(
  revision: string,
  plans: Record<Role, SplitPlan>,
  staged: ReadonlyMap<string, StagedSplit>,
): StagedDataset {
  const get = (role: Role): StagedSplit => {
    const s = staged.get(plans[role].key);
    if (!s) throw new Error(`internal: ${role} was not staged`);
    return s.split === plans[role].split ? s : { ...s, split: plans[role].split };
  };
  const contentKey = stableHash(JSON.stringify(ROLES.map((r) => plans[r].key)));
  return { revision, contentKey, train: get('train'), test: get('test'), scoring: get('scoring') };
}
