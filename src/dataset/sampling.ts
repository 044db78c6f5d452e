// Which rows of a split are staged. Two rules:
//
// - "first" (the default, the notebook's): the first pct% of the split's rows in file order, with
//   the Hub's "closest" rounding (split.ts). Cheap (it reads only the slice) but biased towards
//   whatever the first shard holds.
// - "hash": a row is kept when hash(seed, prompt_id), read as a number in [0, 1), is below pct/100.
//   Every row is decided on its own, so the rule streams (one pass, nothing held, any order), is
//   deterministic for a seed, and is an unbiased Bernoulli sample: about pct% of the rows, not
//   exactly (binomial spread). Raising pct only adds rows (a 5% sample is inside the 10% one of the
//   same seed), and rows sharing a prompt_id are kept or dropped together. It reads the whole split.
//
// The hash is the first 48 bits of sha256("ftflow-sample-v1" NUL seed NUL prompt_id), big-endian,
// divided by 2^48. A row without a usable prompt_id (an invalid row) is keyed by its row index.
import { createHash } from 'node:crypto';

export type Sampling = { method: 'first' } | { method: 'hash'; seed: number };

export const FIRST_ROWS: Sampling = { method: 'first' };

const TWO_POW_48 = 2 ** 48;

/** hash(seed, key) as a number in [0, 1). */
export function sampleHash(seed: number, key: string): number {
  const digest = createHash('sha256').update(`ftflow-sample-v1\0${seed}\0${key}`, 'utf8').digest();
  return digest.readUIntBE(0, 6) / TWO_POW_48;
}

/** Whether the hash rule keeps the row keyed `key` in a pct% sample. */
export function inHashSample(seed: number, key: string, percent: number): boolean {
  return sampleHash(seed, key) < percent / 100;
}

/** The key a row is sampled by: its prompt_id when it has a string one, else its row index. */
export function sampleKey(row: unknown, index: number, derivedPromptId?: string): string {
  if (derivedPromptId !== undefined) return derivedPromptId;
  if (typeof row === 'object' && row !== null) {
    const id = (row as { prompt_id?: unknown }).prompt_id;
    if (typeof id === 'string') return id;
    if (id instanceof Uint8Array) return new TextDecoder().decode(id); // parquet text left as bytes
  }
  return `#row ${index}`;
}

/** A short, stable description for keys, labels and records: "first 5%", "hash(seed 7) 5%". */
export function describeSampling(sampling: Sampling, percent: number): string {
  return sampling.method === 'first' ? `first ${percent}%` : `hash(seed ${sampling.seed}) ${percent}%`;
}
