// The repository stands alone: a user clones it with nothing beside it. No code, test, script or
// build configuration may reach outside it for reference data or for the design page (the data is
// vendored in reference/, the design is docs/design.md), and docs/design.md has the five invariants
// the code cites by number.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** What the scan covers: code, tests, benchmarks, scripts and the build and CI configuration. */
const SCANNED = ['src', 'test', 'bench', 'scripts', '.ci', 'Makefile', 'package.json', 'jest.config.js'];

/**
 * What no scanned file may contain: a path to a folder beside the repository (any sibling folder, read
 * from the disk, in `../name` or `join(..., '..', 'name')` form), and the design page that lives outside.
 * Built from the disk and by concatenation, so that this file names no folder and matches no pattern.
 */
const PARENT = '..';
const SIBLINGS = fs
  .readdirSync(path.dirname(ROOT), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== path.basename(ROOT))
  .map((entry) => entry.name);
const FORBIDDEN: ReadonlyArray<{ text: string; why: string }> = [
  ...SIBLINGS.flatMap((name) => [
    { text: `${PARENT}/${name}/`, why: 'a folder beside the repository (vendor what is needed into reference/)' },
    { text: `'${PARENT}', '${name}'`, why: 'a folder beside the repository (vendor what is needed into reference/)' },
  ]),
  { text: 'DESIGN' + '.md', why: 'a design page that is not in the repository (cite docs/design.md)' },
  { text: 'DESIGN' + ' invariant', why: 'a design page that is not in the repository (cite docs/design.md)' },
];

/** The five invariants, numbered as docs/design.md and the code's citations number them. */
const INVARIANTS: ReadonlyArray<{ n: number; title: RegExp }> = [
  { n: 1, title: /billing safety/i },
  { n: 2, title: /pay once/i },
  { n: 3, title: /secrets stay out of history/i },
  { n: 4, title: /bad input fails before money is spent/i },
  { n: 5, title: /determinism/i },
];

/** Every file git knows under SCANNED (tracked, plus new files not ignored), or a walk when there is no git. */
function scannedFiles(): string[] {
  let listed: string[];
  try {
    const out = execFileSync(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...SCANNED],
      {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    listed = out.split('\0').filter((f) => f !== '');
  } catch {
    listed = SCANNED.flatMap((entry) => walk(entry));
  }
  return [...new Set(listed)].filter((f) => fs.existsSync(path.join(ROOT, f))).sort();
}

/** Files under a repository path, for a copy without git (skips installed and generated folders). */
function walk(rel: string): string[] {
  const abs = path.join(ROOT, rel);
  if (!fs.existsSync(abs)) return [];
  if (!fs.statSync(abs).isDirectory()) return [rel];
  return fs
    .readdirSync(abs)
    .filter((name) => !['node_modules', 'dist', '.data', '.tools', 'coverage'].includes(name))
    .flatMap((name) => walk(path.posix.join(rel, name)));
}

/** "file:line: text (why)" for every forbidden string in the file. */
function offencesIn(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { text: needle, why } of FORBIDDEN) {
      if (line.includes(needle)) found.push(`${file}:${i + 1}: "${needle}" (${why}): ${line.trim().slice(0, 160)}`);
    }
  });
  return found;
}

describe('the repository is self-contained', () => {
  test('no code, test, script or build file reaches outside the repository', () => {
    const files = scannedFiles();
    // The scan must see the repository, not an empty list (e.g. a git that answered nothing).
    expect(files).toContain('package.json');
    expect(files).toContain('test/repository/selfContained.test.ts');
    const offences = files.flatMap(offencesIn);
    if (offences.length > 0) {
      throw new Error(
        `${offences.length} reference(s) to files outside the repository:\n  ${offences.join('\n  ')}\n` +
          'Reference data is vendored in reference/ (see reference/README.md); the design and its ' +
          'invariants are docs/design.md (cite it as "docs/design.md, invariant N").',
      );
    }
  });

  test('the vendored reference folders are present', () => {
    const missing = [
      'azure-ml-rest',
      'azureml-assets',
      'azure-prices',
      'README.md',
      'LICENSE-MIT-Microsoft.txt',
    ].filter((name) => !fs.existsSync(path.join(ROOT, 'reference', name)));
    expect(missing.map((name) => `reference/${name} is missing (it is vendored in the repository)`)).toEqual([]);
  });

  test('docs/design.md exists and has a section for each of invariants 1 to 5', () => {
    const file = path.join(ROOT, 'docs', 'design.md');
    if (!fs.existsSync(file)) throw new Error(`Missing ${file}: the design page the code cites`);
    const headings = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^#{2,4} /.test(line));
    const problems = INVARIANTS.flatMap(({ n, title }) => {
      const heading = headings.find((h) => new RegExp(`^#{2,4} Invariant ${n}\\b`).test(h));
      if (!heading) return [`no "## Invariant ${n}: ..." section`];
      return title.test(heading) ? [] : [`"${heading}" should be ${title.source}`];
    });
    expect(problems).toEqual([]);
  });

  test('every citation of an invariant names one that docs/design.md has', () => {
    const cited = scannedFiles().flatMap((file) =>
      [...fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/docs\/design\.md, invariant (\d+)/g)].map((m) => ({
        file,
        n: Number(m[1]),
      })),
    );
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.filter(({ n }) => !INVARIANTS.some((inv) => inv.n === n))).toEqual([]);
  });
});
