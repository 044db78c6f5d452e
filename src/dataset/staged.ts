// What staging a dataset produces: the stageDataset activity's result (src/activities/types.ts
// re-exports it), built by stageResult.ts. Plain data, and a module that imports nothing, so the
// client's published type declarations (FineTuneResult's data) stay free of the dataset readers' types.

export interface InvalidRowSummary {
  count: number;
  byReason: Record<string, number>;
  examples: { row: number; reason: string }[];
  /** count / rows taken (0..1). */
  fraction?: number;
}

export interface StagedSplit {
  split: string;
  /** azureml://datastores/<ds>/paths/<path> */
  uri: string;
  blobPath: string;
  /** Rows taken from the source (the percent slice) and rows written after validation. */
  sourceRows: number;
  rows: number;
  bytes: number;
  /**
   * Content hash, hex. For a staged split (sha256Of "blocks"): sha256 over the sha256 digests of the
   * blob's committed blocks, in order (src/dataset/blocks.ts). For a file used as it is ("bytes"):
   * sha256 of its bytes.
   */
  sha256: string;
  invalid: InvalidRowSummary;
  /** True when an identical upload (same content key, hash and row count) was found and reused. */
  reused: boolean;
  /** Content key in the blob path and metadata: format, source and its version, percent, sampling. */
  contentKey?: string;
  /** Where the rows came from (dataset and split, a path, or a URL without its query). */
  origin?: string;
  /** "first 5%" or "hash(seed 7) 5%". */
  sampling?: string;
  /** Rows read from the source to take the slice or sample (the whole split for hash sampling). */
  scannedRows?: number;
  /** Blocks of the staged blob. */
  blocks?: number;
  sha256Of?: 'blocks' | 'bytes';
  /** True for a datastore file used in place (nothing copied); it was still read and validated. */
  usedAsIs?: boolean;
  /** Source row this attempt started at: > 0 when it continued from a restarted worker's heartbeat. */
  resumedAtRow?: number;
  /**
   * Set by a dry run (nothing staged; sha256 empty): whether the rows read covered the whole slice, how many
   * were read, and whether the row and byte counts are extrapolated from them.
   */
  preview?: { complete: boolean; rowsRead: number; estimated?: boolean };
}

export interface StagedDataset {
  /** Hub: the resolved commit sha. Files: a fingerprint of the files' versions. */
  revision: string;
  contentKey: string;
  train: StagedSplit;
  test: StagedSplit;
  scoring: StagedSplit;
  /** A dry run's warnings about the rows it read (a threshold they break; the rest of the slice decides). */
  warnings?: string[];
}
