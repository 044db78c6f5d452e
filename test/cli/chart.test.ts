// The text charts of `ftflow metrics` and the live display (src/cli/chart.ts).
import { lineChart, resample, sparkline } from '../../src/cli/chart';

test('resample keeps short series and averages long ones into buckets', () => {
  expect(resample([1, 2, 3], 10)).toEqual([1, 2, 3]);
  expect(resample([1, 3, 5, 7], 2)).toEqual([2, 6]);
  expect(resample([1, NaN, 3], 10)).toEqual([1, 3]);
  expect(resample([1, 2], 0)).toEqual([]);
});

test('sparkline: lowest value is the shortest bar, highest the tallest; flat is mid-height', () => {
  expect(sparkline([3, 2, 1])).toBe('█▅▁');
  expect(sparkline([5, 5, 5])).toBe('▄▄▄');
  expect(sparkline([])).toBe('');
  expect([
    ...sparkline(
      Array.from({ length: 500 }, (_, i) => i),
      40,
    ),
  ]).toHaveLength(40);
});

test('lineChart: labelled y axis, one point per column, the first and last step under the x axis', () => {
  const points = Array.from({ length: 30 }, (_, i) => ({ x: (i + 1) * 10, y: 1.7 - i * 0.03 }));
  const lines = lineChart(points, { width: 30, height: 6, title: 'loss by step' });
  expect(lines[0]).toBe('loss by step');
  const rows = lines.slice(1, 7);
  expect(rows[0]).toMatch(/^ *1\.7 ┤•/);
  expect(rows[5]).toMatch(/^ *0\.83 ┤ +.*•$/);
  expect(rows.every((r) => r.includes('┤'))).toBe(true);
  expect(lines[7]).toMatch(/└─{30}$/);
  expect(lines[8].trim()).toMatch(/^10 +300$/);
  // Every column has its point.
  const cols = rows.map((r) => r.slice(r.indexOf('┤') + 1));
  for (let c = 0; c < 30; c++) expect(cols.some((r) => r[c] === '•')).toBe(true);
});

test('lineChart with no points, or a flat series', () => {
  expect(lineChart([], { title: 't' })).toEqual(['t', '(no points yet)']);
  const flat = lineChart(
    [
      { x: 1, y: 2 },
      { x: 2, y: 2 },
    ],
    { width: 10, height: 4 },
  );
  expect(flat.filter((l) => l.includes('•'))).toHaveLength(1);
});
