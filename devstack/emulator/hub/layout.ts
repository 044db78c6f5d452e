// The file layout of HuggingFaceH4/ultrachat_200k on the Hub (facts from
// reference/azureml-assets/hf-ultrachat_200k/layout.json): one config "default", four
// splits, each stored as push_to_hub parquet shards under data/ and mapped by the glob
// data/{split}-* in the card's configs.

export const SPLITS = ['train_sft', 'test_sft', 'train_gen', 'test_gen'] as const;
export type SplitName = (typeof SPLITS)[number];

export const DEFAULT_REPO_ID = 'HuggingFaceH4/ultrachat_200k';
export const CONFIG_NAME = 'default';

/** Shard file names per split, in order (shard 00000 first). */
export const SHARD_FILES: Record<SplitName, readonly string[]> = {
  train_sft: [
    'data/train_sft-00000-of-00003-a3ecf92756993583.parquet',
    'data/train_sft-00001-of-00003-0a1804bcb6ae68c6.parquet',
    'data/train_sft-00002-of-00003-ee46ed25cfae92c6.parquet',
  ],
  test_sft: ['data/test_sft-00000-of-00001-f7dfac4afe5b93f4.parquet'],
  train_gen: [
    'data/train_gen-00000-of-00003-a6c9fb894be3e50b.parquet',
    'data/train_gen-00001-of-00003-d6a0402e417f35ca.parquet',
    'data/train_gen-00002-of-00003-c0db75b92a2f48fd.parquet',
  ],
  test_gen: ['data/test_gen-00000-of-00001-3d4cd8309148a71f.parquet'],
};

/** Row counts of the real dataset (card `dataset_info.splits[].num_examples`), for full-size runs. */
export const REAL_ROW_COUNTS: Record<SplitName, number> = {
  train_sft: 207865,
  test_sft: 23110,
  train_gen: 256032,
  test_gen: 28304,
};

/** Small defaults for tests and the local stack. */
export const DEFAULT_ROW_COUNTS: Record<SplitName, number> = {
  train_sft: 2000,
  test_sft: 400,
  train_gen: 2000,
  test_gen: 400,
};

/**
 * Rows per shard, contiguous: the first (total mod shards) shards take one extra row, as
 * push_to_hub's contiguous sharding gives 69,289 / 69,288 / 69,288 for train_sft.
 */
export function shardRowCounts(total: number, shards: number): number[] {
  const base = Math.floor(total / shards);
  const extra = total % shards;
  return Array.from({ length: shards }, (_, i) => base + (i < extra ? 1 : 0));
}
