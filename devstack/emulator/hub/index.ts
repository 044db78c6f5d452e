// Hugging Face Hub stand-in: a fastify plugin serving a generated dataset with ultrachat_200k's
// layout, plus helpers that tell tests what the generated data holds.
import { generateRow, plantedInvalidRows, type GeneratedRow, type PlantedInvalidKind } from './generator';
import { REAL_ROW_COUNTS, SPLITS, type SplitName } from './layout';
import { getHubRepo, hubCommitSha, type HubRepo } from './repo';
import { hubConfigFromOptions, type HubEmulatorOptions } from './routes';

export { hubConfigFromOptions, hubRoutes, type HubEmulatorOptions } from './routes';
export {
  DEFAULT_REPO_ID,
  DEFAULT_ROW_COUNTS,
  REAL_ROW_COUNTS,
  SHARD_FILES,
  SPLITS,
  shardRowCounts,
  type SplitName,
} from './layout';
export { PLANTED_INVALID_KINDS, invalidReasonAt, type GeneratedRow, type PlantedInvalidKind } from './generator';
export { clearHubRepoCache } from './repo';

const configOf = hubConfigFromOptions;

/** Rows of a split under these options (the configured or default count). */
export function hubSplitRows(split: SplitName, opts: HubEmulatorOptions = {}): number {
  return configOf(opts).rowsPerSplit[split];
}

/**
 * The invalid rows of a split (index within the split, and the reason validateChatRow gives),
 * among the first `upTo` rows (default: the whole split).
 */
export function hubInvalidRows(
  split: SplitName,
  opts: HubEmulatorOptions = {},
  upTo?: number,
): { index: number; reason: PlantedInvalidKind }[] {
  const cfg = configOf(opts);
  return plantedInvalidRows(Math.min(upTo ?? Infinity, cfg.rowsPerSplit[split]), cfg.invalidEvery);
}

/** Row `index` of a split exactly as the served parquet holds it (messages null = missing). */
export function hubExpectedRow(split: SplitName, index: number, opts: HubEmulatorOptions = {}): GeneratedRow {
  const cfg = configOf(opts);
  if (!Number.isSafeInteger(index) || index < 0 || index >= cfg.rowsPerSplit[split]) {
    throw new RangeError(`${split} has ${cfg.rowsPerSplit[split]} rows; no row ${index}`);
  }
  return generateRow(split, index, cfg);
}

/** The commit sha `main` resolves to under these options (known without generating anything). */
export function hubCommit(opts: HubEmulatorOptions = {}): string {
  return hubCommitSha(configOf(opts));
}

/** Generate (or load from cacheDir) the repository now instead of on the first request. */
export async function prepareHubRepo(
  opts: HubEmulatorOptions = {},
): Promise<{ sha: string; files: { path: string; size: number }[] }> {
  const repo: HubRepo = await getHubRepo(configOf(opts));
  return {
    sha: repo.main.sha,
    files: [...repo.main.files.values()].map((f) => ({ path: f.path, size: f.size })),
  };
}

export const HUB_SPLITS = SPLITS;

/**
 * Options for a full-size stand-in: ultrachat_200k's row counts and a text length that gives about
 * its parquet size (≈ 3.15 KB per row, ≈ 1.6 GB in all). Add a cacheDir: generation takes minutes.
 */
export const FULL_SIZE_HUB_OPTIONS: HubEmulatorOptions = { rowsPerSplit: { ...REAL_ROW_COUNTS }, contentScale: 3.8 };
