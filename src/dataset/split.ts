// How many rows a percent slice such as `train_sft[0%:5%]` takes.
//
// The notebook's download script asks Hugging Face `datasets` for `<split>[0%:<pc>%]`. Percent
// boundaries there use the "closest" rounding: boundary = int(round(pc * n / 100)), where Python's
// round() rounds a tie to the even integer. The slice is contiguous from the first row of the
// split, in shard order. (huggingface/datasets src/datasets/arrow_reader.py:
// _str_to_relative_instruction forces rounding="closest"; _pct_to_abs_closest computes it.)

/** Python's round() for a double: nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor; // exact for doubles
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Number of rows in `split[0%:percent%]` of a split with `total` rows, exactly as `datasets`
 * computes it: int(round(percent * total / 100)) with round-half-to-even, evaluated in the same
 * floating-point order. E.g. 5% of 23,110 = 1155.5 → 1156; 5% of 207,865 = 10393.25 → 10393.
 *
 * `datasets` only parses whole-number percentages in split strings; a fractional percent is
 * accepted here and follows the same formula.
 */
export function sliceRowCount(total: number, percent: number): number {
  if (!Number.isSafeInteger(total) || total < 0) {
    throw new RangeError(`row count must be a non-negative integer, got ${total}`);
  }
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new RangeError(`split percentage must be between 0 and 100, got ${percent}`);
  }
  return roundHalfEven((percent * total) / 100);
}

/** The HF split string the notebook builds, e.g. `train_sft[0%:5%]` (for labels and logs). */
export function sliceSpec(split: string, percent: number): string {
  return `${split}[0%:${percent}%]`;
}
