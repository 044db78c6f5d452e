// Committed benchmark results are shareable records: they name files relative to the repository (or
// by content), never by a path of the machine they ran on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';

const RESULTS = path.join(PROJECT_ROOT, 'bench', 'results');

/** Every string value in a JSON document, with its JSON path. */
function strings(value: unknown, at = '$'): { at: string; text: string }[] {
  if (typeof value === 'string') return [{ at, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, `${at}.${k}`));
  return [];
}

const files = fs.readdirSync(RESULTS).filter((f) => f.endsWith('.json'));

test('there are committed results to check', () => {
  expect(files.length).toBeGreaterThan(0);
});

test.each(files)('bench/results/%s records no absolute path of the machine it ran on', (file) => {
  const doc: unknown = JSON.parse(fs.readFileSync(path.join(RESULTS, file), 'utf8'));
  const absolute = strings(doc).filter(
    ({ text }) => /^\/(?:[\w.-]+\/)+[\w.-]*/.test(text) || /^[A-Za-z]:\\/.test(text) || text.includes(PROJECT_ROOT),
  );
  expect(absolute).toEqual([]);
});
