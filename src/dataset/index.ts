// The dataset staging library: where rows come from (the Hub, local or https JSONL/parquet),
// how much of a split to take, which rows are valid, and how they are written as JSONL.
export * from './hub';
export * from './jsonl';
export * from './parquet';
export * from './split';
export * from './validate';
