// Charts drawn with text, for `ftflow metrics` and the live display: a one-line sparkline and a small
// line chart with a y axis. No terminal chart library is in the dependency tree, and these take a page.

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** Picks `width` values spread evenly over `values` (each the mean of its bucket); fewer stay as they are. */
export function resample(values: number[], width: number): number[] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (width < 1) return [];
  if (finite.length <= width) return finite;
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * finite.length) / width);
    const to = Math.max(from + 1, Math.floor(((i + 1) * finite.length) / width));
    const bucket = finite.slice(from, to);
    out.push(bucket.reduce((a, b) => a + b, 0) / bucket.length);
  }
  return out;
}

/** "▇▆▅▄▃▂▂▁": one character per value (resampled to at most `width`), low to high. */
export function sparkline(values: number[], width = 40): string {
  const v = resample(values, width);
  if (v.length === 0) return '';
  const min = Math.min(...v);
  const max = Math.max(...v);
  const span = max - min;
  return v.map((x) => BARS[span === 0 ? 3 : Math.round(((x - min) / span) * (BARS.length - 1))]).join('');
}

function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.001) return v.toExponential(2);
  return v
    .toPrecision(4)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

/**
 * A line chart of `height` rows and at most `width` columns: the y axis labelled with the top, middle and
 * bottom values, one `•` per column at its value, and the x axis with the first and last x (steps).
 */
export function lineChart(
  points: { x: number; y: number }[],
  opts: { width?: number; height?: number; title?: string } = {},
): string[] {
  const width = Math.max(2, opts.width ?? 60);
  const height = Math.max(2, opts.height ?? 10);
  const pts = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const title = opts.title ? [opts.title] : [];
  if (pts.length === 0) return [...title, '(no points yet)'];
  const ys = resample(
    pts.map((p) => p.y),
    width,
  );
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  const span = max - min || 1;
  const rowOf = (y: number) => (max === min ? Math.floor(height / 2) : Math.round(((max - y) / span) * (height - 1)));
  const grid = Array.from({ length: height }, () => Array<string>(ys.length).fill(' '));
  ys.forEach((y, col) => {
    const row = rowOf(y);
    grid[row][col] = '•';
    // Join a column to the next one when the line jumps more than a row.
    const next = ys[col + 1];
    if (next !== undefined) {
      const to = rowOf(next);
      for (let r = Math.min(row, to) + 1; r < Math.max(row, to); r++) if (grid[r][col] === ' ') grid[r][col] = '│';
    }
  });
  const labels = grid.map((_, r) =>
    r === 0
      ? label(max)
      : r === height - 1
        ? label(min)
        : r === Math.floor((height - 1) / 2)
          ? label((max + min) / 2)
          : '',
  );
  const pad = Math.max(...labels.map((l) => l.length));
  const lines = grid.map((row, r) => `${labels[r].padStart(pad)} ┤${row.join('')}`.trimEnd());
  const first = String(pts[0].x);
  const last = String(pts[pts.length - 1].x);
  const axis = `${' '.repeat(pad)} └${'─'.repeat(ys.length)}`;
  const xs = `${' '.repeat(pad + 2)}${first}${last.padStart(Math.max(1, ys.length - first.length))}`;
  return [...title, ...lines, axis, xs];
}
