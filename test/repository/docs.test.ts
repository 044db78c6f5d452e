// The documentation a person reads: a short README that links every page under docs/, pages that
// link back to it, relative links that lead to files of the repository, and the tested code blocks
// (`<!-- readme-test: <kind> -->`) where the tests that run them can find them.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { documentationFiles, TESTED_BLOCK_KINDS, taggedBlocks } from '../helpers/frontEnds';

const ROOT = path.resolve(__dirname, '..', '..');
const README_MAX_LINES = 320;

/** Every file git knows (tracked, plus new files not ignored), or null when there is no git. */
function repositoryFiles(): Set<string> | null {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const files = out.split('\0').filter((f) => f !== '' && fs.existsSync(path.join(ROOT, f)));
    return files.length > 0 ? new Set(files) : null;
  } catch {
    return null;
  }
}

/** The text without fenced code blocks and inline code, where a `[x](y)` is an example, not a link. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Link targets: inline links and images `[text](target "title")` and reference definitions `[x]: target`. */
function linkTargets(text: string): string[] {
  const body = prose(text);
  const inline = [...body.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const defined = [...body.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]);
  return [...inline, ...defined];
}

/** A link that leaves the repository (a URL scheme such as https: or mailto:) or stays on the page (#anchor). */
function isExternalOrAnchor(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#');
}

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const pages = documentationFiles().filter((f) => f !== 'README.md');

describe('the documentation', () => {
  test('covers README.md and the pages under docs/', () => {
    expect(documentationFiles()[0]).toBe('README.md');
    expect(pages).toEqual(expect.arrayContaining(['docs/design.md', 'docs/configuration.md', 'docs/usage.md']));
  });

  test(`README.md has at most ${README_MAX_LINES} lines`, () => {
    const lines = read('README.md').split('\n').length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  test('every relative link in README.md and docs/*.md points at a file of the repository (anchors aside)', () => {
    const known = repositoryFiles();
    const exists = (rel: string): boolean => {
      if (rel === '' || rel.startsWith('..')) return false; // outside the repository
      if (known === null) return fs.existsSync(path.join(ROOT, rel));
      return known.has(rel) || [...known].some((f) => f.startsWith(`${rel.replace(/\/$/, '')}/`));
    };
    let checked = 0;
    const broken = documentationFiles().flatMap((file) =>
      linkTargets(read(file))
        .filter((target) => !isExternalOrAnchor(target))
        .flatMap((target) => {
          checked++;
          const withoutAnchor = decodeURI(target.split('#')[0].split('?')[0]);
          const rel = path.posix.normalize(path.posix.join(path.posix.dirname(file), withoutAnchor));
          return exists(rel) ? [] : [`${file}: (${target}) -> ${rel} is not a file of the repository`];
        }),
    );
    expect(checked).toBeGreaterThan(pages.length); // the scan saw links, not an empty list
    expect(broken).toEqual([]);
  });

  test('README.md links every page under docs/, and every page links back to the README', () => {
    const readmeLinks = new Set(
      linkTargets(read('README.md'))
        .filter((t) => !isExternalOrAnchor(t))
        .map((t) => path.posix.normalize(t.split('#')[0])),
    );
    expect(pages.filter((page) => !readmeLinks.has(page))).toEqual([]);
    const noWayBack = pages.filter((page) =>
      linkTargets(read(page)).every((t) => path.posix.normalize(t.split('#')[0]) !== '../README.md'),
    );
    expect(noWayBack).toEqual([]);
  });

  test('the tested code blocks: every kind the tests run is found, and no block has a kind no test runs', () => {
    const blocks = taggedBlocks();
    const kinds: readonly string[] = TESTED_BLOCK_KINDS;
    expect(kinds.filter((kind) => !blocks.some((b) => b.tag === kind))).toEqual([]);
    expect(blocks.filter((b) => !kinds.includes(b.tag)).map((b) => `${b.file}: readme-test: ${b.tag}`)).toEqual([]);
    // The package ships README.md alone (package.json "files"), so the client example a package user
    // reads is the one test/package/consumer.stack.test.ts type-checks against the packed package.
    expect(blocks.filter((b) => b.tag === 'client').map((b) => b.file)).toEqual(['README.md']);
    // The first CLI block writes retrain.yaml, which the later ones use: it must come first in reading order.
    const cli = blocks.filter((b) => b.tag === 'cli');
    expect(cli[0]?.code).toContain('cat > retrain.yaml');
  });

  test('a tagged marker is always directly followed by a fenced code block (else the tests would skip it)', () => {
    const loose = documentationFiles().flatMap((file) =>
      [...read(file).matchAll(/<!-- readme-test: ([\w-]+) -->\n(?!```)/g)].map((m) => `${file}: readme-test: ${m[1]}`),
    );
    expect(loose).toEqual([]);
  });
});
