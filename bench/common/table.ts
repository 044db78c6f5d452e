// Plain-text tables for a bench's human-readable output: a header row, then one row per line,
// columns padded to the widest cell (first column left-aligned, the others right-aligned).

export type Cell = string | number | null | undefined;

/** Formats a number for a table: integers as is, others with `digits` decimals; null/undefined as "n/a". */
export function fmt(value: Cell, digits = 1): string {
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return 'n/a';
  if (typeof value === 'string') return value;
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** The table as lines of text (no trailing newline). */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map((c) => fmt(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === 0 ? (c ?? '').padEnd(widths[i]) : (c ?? '').padStart(widths[i]))).join('  '))
    .join('\n');
}

/** The same table in Markdown (for bench/README.md). */
export function markdownTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const line = (r: readonly string[]) => `| ${r.join(' | ')} |`;
  return [
    line(headers.map(String)),
    line(headers.map(() => '---')),
    ...rows.map((r) => line(r.map((c) => fmt(c)))),
  ].join('\n');
}
