// `ftflow --version` / `-V`: the package version read at run time and the commit dist/ was built from,
// in this checkout and in an installed copy without .git (needs `make build`).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';
import { CLI_MAIN, runProcess } from '../helpers/frontEnds';

const pkgVersion = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('ftflow --version', () => {
  let copy: string;
  beforeAll(() => {
    if (!fs.existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`make build\` first`);
    // An installed package: package.json and dist/, dependencies beside it, no .git anywhere above.
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-installed-'));
    fs.copyFileSync(path.join(PROJECT_ROOT, 'package.json'), path.join(copy, 'package.json'));
    fs.cpSync(path.join(PROJECT_ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true });
    fs.rmSync(path.join(copy, 'dist', 'cli', 'build-info.json'), { force: true });
    fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  });
  afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

  const ftflowAt = (root: string, ...args: string[]) =>
    runProcess(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), ...args], { cwd: os.tmpdir() });

  test('in this checkout: the package version and a commit of this repository', async () => {
    for (const flag of ['--version', '-V']) {
      const ran = await runProcess(process.execPath, [CLI_MAIN, flag]);
      expect(ran).toMatchObject({ code: 0, stderr: '' });
      const m = new RegExp(`^ftflow ${escape(pkgVersion)} \\(commit ([0-9a-f]{7})(-dirty)?\\)\\n$`).exec(ran.stdout);
      expect(m).not.toBeNull();
      // A real commit of this repository (the build stamp's, or HEAD's when dist/ was not stamped).
      expect(() =>
        execFileSync('git', ['-C', PROJECT_ROOT, 'cat-file', '-e', `${m![1]}^{commit}`], { stdio: 'ignore' }),
      ).not.toThrow();
    }
    const json = await runProcess(process.execPath, [CLI_MAIN, '--version', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ version: pkgVersion, commit: expect.stringMatching(/^[0-9a-f]{7}/) });
  });

  test('installed (no .git): the commit recorded at build time, else "commit unknown"', async () => {
    expect(fs.existsSync(path.join(copy, '.git'))).toBe(false);
    expect((await ftflowAt(copy, '--version')).stdout).toBe(`ftflow ${pkgVersion} (commit unknown)\n`);

    // The build step records the commit (FTFLOW_BUILD_COMMIT stands in for git here).
    const stamp = await runProcess(process.execPath, [path.join(copy, 'dist', 'cli', 'stampBuild.js')], {
      env: { ...process.env, FTFLOW_BUILD_COMMIT: '0123456789abcdef0123456789abcdef01234567' },
      cwd: copy,
    });
    expect(stamp).toMatchObject({ code: 0, stdout: 'build: dist/cli/build-info.json records commit 0123456\n' });
    expect((await ftflowAt(copy, '-V')).stdout).toBe(`ftflow ${pkgVersion} (commit 0123456)\n`);

    // The version is read from the installed package.json, not compiled in.
    const pkg = JSON.parse(fs.readFileSync(path.join(copy, 'package.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ ...pkg, version: '9.8.7-test' }));
    expect((await ftflowAt(copy, '--version')).stdout).toBe('ftflow 9.8.7-test (commit 0123456)\n');

    // A stamp older than the code next to it is a later build's leftover (`npm run build` does not stamp): ignored.
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(copy, 'dist', 'cli', 'build-info.json'), old, old);
    expect((await ftflowAt(copy, '--version')).stdout).toBe('ftflow 9.8.7-test (commit unknown)\n');
  });
});
