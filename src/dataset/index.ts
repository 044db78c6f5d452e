// The dataset staging library: where rows come from (the Hub, local, http(s) or datastore files in
// JSONL or parquet, within the operator's source settings), how much of a split to take and how it is sampled, which rows are valid, how
// they are written as JSONL, and how that JSONL is staged into a block blob, resumably.
export * from './addresses';
export * from './blocks';
export * from './bytes';
export * from './chatColumns';
export * from './guardedFetch';
export * from './http';
export * from './hub';
export * from './jsonl';
export * from './lines';
export * from './localRoot';
export * from './parquet';
export * from './preview';
export * from './rows';
export * from './sampling';
export * from './sourceSettings';
export * from './split';
export * from './splitSource';
export * from './stagingSlots';
export * from './staged';
export * from './stagePlan';
export * from './stageResult';
export * from './stageSplit';
export * from './util';
export * from './validate';
export * from './verify';
