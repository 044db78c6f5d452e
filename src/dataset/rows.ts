// What every row reader yields, parquet (parquet.ts) and JSONL (lines.ts) alike: a batch of raw rows
// and where they came from. Its own module so that neither reader imports the other for it.
export interface RowBatch {
  /** Index of rows[0] in the whole sequence (across files). */
  startRow: number;
  /** Raw rows, to be checked with validateChatRow (an unparsable JSONL line is an UnparsableLine). */
  rows: unknown[];
  /** The file the rows came from (path or URL without query). */
  file: string;
  /** Position of that file in the list. */
  fileIndex: number;
  /** Row group within the file (parquet), or batch number (JSONL). */
  chunk: number;
  /** JSONL only: for each row, the byte offset just after its line (where the next row's line starts). */
  ends?: number[];
}
