// A dry run's look at the data (stageDataset with readOnly): the same plan as staging (stagePlan.ts: the
// same sources, content keys and blob paths), the same reading and validation of the slice's first rows, and
// nothing written. A split an earlier run staged is reported as staging would reuse it; any other split is
// read up to PREVIEW_MAX_ROWS rows into a sink that keeps only the byte count. When that covers the slice
// the figures are exact and the verdict is staging's own; otherwise the rows and bytes are extrapolated to
// the slice (marked estimated) and a threshold the rows read already break is a warning, not a refusal
// (the rest of the slice decides). Errors carry their field (FieldFailure), as staging reports them.
import { describeSampling, FIRST_ROWS } from './sampling';
import { sliceRowCount } from './split';
import { stageSplit, type BlockBlobTarget, type StagedSplitResult } from './stageSplit';
import type { AsIsPlan, Role, SplitPlan, StagePlan, StagingDatastore } from './stagePlan';
import { ROLES, roleField } from './stagePlan';
import { asIsSplitOf, checkReused, findStaged, requireRows, stagedDataset, stagedSplitOf } from './stageResult';
import type { DatasetSpec } from '../runSpec/dataset';
import type { StagedDataset, StagedSplit } from './staged';
import { FieldFailure } from './util';
import { verifyJsonl } from './verify';

/** Rows a dry run reads of each split at most. */
export const PREVIEW_MAX_ROWS = 2000;

/** Accepts the blocks and forgets them: a dry run writes nothing. */
const DISCARD: BlockBlobTarget = {
  stageBlock: async () => undefined,
  commitBlockList: async () => undefined,
};

async function atField<T>(field: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw new FieldFailure(field, err);
  }
}

/** Figures of the rows read, scaled to the whole slice (`taken` rows of it), marked as a preview. */
function scaled(split: StagedSplit, read: number, taken: number, complete: boolean): StagedSplit {
  const preview = { complete, rowsRead: read };
  if (complete || split.sourceRows === 0) return { ...split, sha256: '', preview };
  const factor = taken / split.sourceRows;
  return {
    ...split,
    sha256: '',
    sourceRows: taken,
    rows: Math.round(split.rows * factor),
    bytes: Math.round(split.bytes * factor),
    preview: { ...preview, estimated: true },
  };
}

/** Rows a slice or sample takes of a split of `total` rows. */
function takenOf(dataset: DatasetSpec, total: number): number {
  const sampling = dataset.sampling ?? FIRST_ROWS;
  return sampling.method === 'first'
    ? sliceRowCount(total, dataset.percent)
    : Math.round((total * dataset.percent) / 100);
}

async function previewStaged(
  dataset: DatasetSpec,
  ds: StagingDatastore,
  plan: StagePlan,
  warnings: string[],
  signal: AbortSignal | undefined,
): Promise<StagedSplit> {
  const field = roleField(dataset, plan.role);
  const description = describeSampling(dataset.sampling ?? FIRST_ROWS, dataset.percent);
  const result: StagedSplitResult = await atField(field, () =>
    stageSplit({
      source: plan.source,
      target: DISCARD,
      label: plan.label,
      percent: dataset.percent,
      sampling: dataset.sampling ?? FIRST_ROWS,
      maxInvalidFraction: dataset.maxInvalidFraction,
      maxRows: PREVIEW_MAX_ROWS,
      ...(signal ? { signal } : {}),
    }),
  );
  const split = stagedSplitOf(plan, ds, result, description);
  if (!result.partial) return requireRows(scaled(split, result.scannedRows, result.sourceRows, true), field);
  const total = result.total ?? (await atField(field, () => plan.source.countRows(signal)));
  const fraction = result.sourceRows > 0 ? result.invalid.invalid / result.sourceRows : 0;
  if (fraction > dataset.maxInvalidFraction)
    warnings.push(
      `${field}: ${result.invalid.invalid} of the first ${result.sourceRows} rows of ${plan.label} are invalid, more than dataset.maxInvalidFraction ${dataset.maxInvalidFraction}: the run fails unless the rest of the slice is cleaner`,
    );
  if (result.rows === 0)
    warnings.push(`${field}: none of the first ${result.sourceRows} rows of ${plan.label} is a valid chat row`);
  return scaled(split, result.scannedRows, takenOf(dataset, total), false);
}

async function previewAsIs(
  dataset: DatasetSpec,
  ds: StagingDatastore,
  plan: AsIsPlan,
  warnings: string[],
  signal: AbortSignal | undefined,
): Promise<StagedSplit> {
  const field = roleField(dataset, plan.role);
  const file = await atField(field, () =>
    verifyJsonl(plan.bytes, {
      label: plan.label,
      maxInvalidFraction: dataset.maxInvalidFraction,
      maxRows: PREVIEW_MAX_ROWS,
      ...(signal ? { signal } : {}),
    }),
  );
  const split = requireRows(asIsSplitOf(plan, ds, file), field);
  if (!file.partial) return { ...split, preview: { complete: true, rowsRead: file.sourceRows } };
  // The file is used as it is: its bytes are its size; its rows scale with the bytes read.
  const size = (await atField(field, () => plan.bytes.info())).size;
  const factor = file.bytes > 0 ? size / file.bytes : 1;
  if (file.invalid.invalid / Math.max(1, file.sourceRows) > dataset.maxInvalidFraction)
    warnings.push(
      `${field}: ${file.invalid.invalid} of the first ${file.sourceRows} rows of ${plan.label} are invalid, more than dataset.maxInvalidFraction ${dataset.maxInvalidFraction}: the run fails unless the rest of the file is cleaner`,
    );
  return {
    ...split,
    sourceRows: Math.round(file.sourceRows * factor),
    rows: Math.round(file.rows * factor),
    bytes: size,
    preview: { complete: false, rowsRead: file.sourceRows, estimated: true },
  };
}

/** What staging would do with each role's split, without writing: the dataset a dry run reports. */
export async function previewDataset(opts: {
  dataset: DatasetSpec;
  ds: StagingDatastore;
  revision: string;
  plans: Record<Role, SplitPlan>;
  signal?: AbortSignal;
}): Promise<StagedDataset> {
  const { dataset, ds, plans, signal } = opts;
  const warnings: string[] = [];
  const seen = new Map<string, StagedSplit>();
  for (const role of ROLES) {
    const plan = plans[role];
    if (seen.has(plan.key)) continue;
    if (plan.mode === 'asIs') {
      seen.set(plan.key, await previewAsIs(dataset, ds, plan, warnings, signal));
      continue;
    }
    const existing = await findStaged(ds, plan);
    if (existing) {
      checkReused(existing, plan.label, dataset.maxInvalidFraction);
      seen.set(plan.key, requireRows(existing, roleField(dataset, role)));
      continue;
    }
    seen.set(plan.key, await previewStaged(dataset, ds, plan, warnings, signal));
  }
  return { ...stagedDataset(opts.revision, plans, seen), warnings };
}
