// The package as a TypeScript caller gets it: `npm pack` the built project once, install the tarball
// into a separate consumer project in a temporary folder, and type-check the documented typed-client
// example(s) (the blocks marked `<!-- readme-test: client -->` in README.md and docs/*.md; today one,
// in the README, which the package ships; found with the same helper that test/cli/readme.stack.test.ts
// uses to run them) with a strict tsconfig (strict, module/moduleResolution node16, noEmit,
// skipLibCheck off) and this repository's tsc. It fails on any tsc error, printing them; a negative
// case shows that it can fail (a wrong field type in a run spec must be TS2322).
//
// Needs dist/ built (`make build`, which `make test` runs first); the test does not build.
//
// How the tarball is installed, offline and without touching the npm cache or the registry: the
// tarball is unpacked into node_modules/finetune-flow (what `npm install <tarball>` puts there), and
// each of the packed package.json's `dependencies`, plus @types/node (the consumer's own dev
// dependency), is a symlink to the copy in this repository's node_modules. `npm install --offline
// <tarball>` was the other option, but it resolves the dependency tree afresh (no lock file applies
// to a consumer) and fails with ENOTCACHED as soon as a newer matching version of any transitive
// dependency is not in the local cache; it is also several times slower. Linking only the declared
// dependencies keeps the consumer honest: a declaration file that needs a devDependency (or anything
// not in `dependencies`) does not resolve here, and skipLibCheck is off so that such a miss is an error
// rather than a silent `any`. Symlinked packages resolve their own imports from their real path
// (this repository's hoisted node_modules), as tsc and Node both follow symlinks.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';
import { readmeBlocks, runProcess, type Ran } from '../helpers/frontEnds';

const TSC = path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const PACKAGE_NAME = 'finetune-flow';

interface PackResult {
  filename: string;
  files: { path: string }[];
}

interface Diagnostic {
  file: string;
  line: number;
  code: string;
  message: string;
}

/** npm, run with this Node: the npm next to it when Node's layout has one, else `npm` on the PATH. */
function npm(args: string[], cwd: string): Promise<Ran> {
  const cli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  const env = {
    ...process.env,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  return fs.existsSync(cli)
    ? runProcess(process.execPath, [cli, ...args], { cwd, env, timeoutMs: 60_000 })
    : runProcess('npm', args, { cwd, env, timeoutMs: 60_000 });
}

function ranText(what: string, ran: Ran): string {
  return `${what} exited ${ran.code}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`;
}

/** The consumer's strict compiler options; each project lists its own files. */
const STRICT_OPTIONS = {
  strict: true,
  module: 'node16',
  moduleResolution: 'node16',
  target: 'es2022',
  lib: ['es2023'],
  types: ['node'],
  noEmit: true,
  skipLibCheck: false,
  forceConsistentCasingInFileNames: true,
};

/** Runs the consumer's tsc over one of its tsconfig files; the diagnostics, parsed. */
async function typecheck(
  consumer: string,
  tsconfig: string,
): Promise<{ ran: Ran; output: string; diagnostics: Diagnostic[] }> {
  const ran = await runProcess(process.execPath, [TSC, '-p', tsconfig, '--pretty', 'false'], {
    cwd: consumer,
    timeoutMs: 90_000,
  });
  const output = `${ran.stdout}${ran.stderr}`.trim();
  const diagnostics: Diagnostic[] = [];
  for (const m of output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/gm))
    diagnostics.push({ file: m[1], line: Number(m[2]), code: m[3], message: m[4] });
  return { ran, output, diagnostics };
}

describe('the packed package, type-checked by a separate TypeScript consumer', () => {
  let work: string;
  let consumer: string;
  let packed: PackResult;
  let examples: string[];
  let receivers: string[];

  beforeAll(async () => {
    const built = path.join(PROJECT_ROOT, 'dist', 'client.d.ts');
    if (!fs.existsSync(built))
      throw new Error(`${built} is missing: build first (make build), this test packs dist/ as it is`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-consumer-'));

    // Pack once for the whole file. --ignore-scripts: no lifecycle script may rebuild dist/ under others.
    const pack = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], PROJECT_ROOT);
    if (pack.code !== 0) throw new Error(ranText('npm pack', pack));
    [packed] = JSON.parse(pack.stdout) as PackResult[];
    const tarball = path.join(work, packed.filename);

    consumer = path.join(work, 'consumer');
    const installed = path.join(consumer, 'node_modules', PACKAGE_NAME);
    fs.mkdirSync(installed, { recursive: true });
    const untar = await runProcess('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    if (untar.code !== 0) throw new Error(ranText('tar', untar));

    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      version: string;
      dependencies?: Record<string, string>;
    };
    const typesNode = JSON.parse(
      fs.readFileSync(path.join(PROJECT_ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8'),
    ) as { version: string };
    for (const dep of [...Object.keys(manifest.dependencies ?? {}), '@types/node']) {
      const target = path.join(PROJECT_ROOT, 'node_modules', dep);
      if (!fs.existsSync(target)) throw new Error(`${dep} is not installed in ${PROJECT_ROOT}/node_modules (npm ci)`);
      const link = path.join(consumer, 'node_modules', dep);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(target, link, 'dir');
    }
    fs.writeFileSync(
      path.join(consumer, 'package.json'),
      JSON.stringify(
        {
          name: 'ftflow-consumer',
          version: '1.0.0',
          private: true,
          dependencies: { [PACKAGE_NAME]: `file:../${packed.filename}` },
          devDependencies: { '@types/node': typesNode.version },
        },
        null,
        2,
      ),
    );

    // The documented client examples, each as a CommonJS caller (.ts: the package.json has no "type")
    // and as an ES module caller (.mts).
    examples = readmeBlocks('client');
    // The webhook receiver example of docs/operations.md (Webhooks), against finetune-flow/webhooks.
    receivers = readmeBlocks('webhook-receiver');
    fs.mkdirSync(path.join(consumer, 'src'));
    examples.forEach((block, i) => {
      for (const ext of ['ts', 'mts'])
        fs.writeFileSync(path.join(consumer, 'src', `readme-client-${i + 1}.${ext}`), block);
    });
    receivers.forEach((block, i) => {
      for (const ext of ['ts', 'mts'])
        fs.writeFileSync(path.join(consumer, 'src', `webhook-receiver-${i + 1}.${ext}`), block);
    });
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: STRICT_OPTIONS, include: ['src'] }, null, 2),
    );
  }, 60_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test("npm pack ships dist/ (JavaScript, declarations, maps, JSON data such as cli/build-info.json, the dashboard's built files) and the README, not the sources or local state", () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/client.js',
        'dist/client.d.ts',
        'dist/client.d.ts.map',
        'dist/client.js.map',
        'dist/runSpec/schema.d.ts',
        'dist/control/errors.d.ts',
        'dist/cli/main.js',
        'dist/ui/index.html',
        'dist/ui/app.js',
        'dist/ui/app.css',
        'dist/ui/favicon.svg',
      ]),
    );
    const unexpected = files.filter(
      (f) =>
        !['package.json', 'README.md'].includes(f) &&
        !/^dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map|json)$/.test(f) &&
        !/^dist\/ui\/(index\.html|app\.css|favicon\.svg)$/.test(f),
    );
    expect(unexpected).toEqual([]);
    expect(files).not.toContain('dist/workflow-bundle.js'); // the image's prebuilt bundle (npm run bundle), when built
  });

  test("the README's client example and the webhook receiver example type-check in a strict consumer (CommonJS and ESM)", async () => {
    expect(examples.length).toBeGreaterThanOrEqual(1);
    expect(receivers.join('\n')).toContain("from 'finetune-flow/webhooks'");
    const { ran, output } = await typecheck(consumer, 'tsconfig.json');
    if (ran.code !== 0 || output !== '')
      throw new Error(`tsc reported errors for the README's client example(s) (exit ${ran.code}):\n${output}`);
  });

  test('the exports map resolves at run time: entry point, spec, errors, the old dist/client path; nothing else', async () => {
    const script = `
      const client = require('finetune-flow');
      const spec = require('finetune-flow/spec');
      const errors = require('finetune-flow/errors');
      const old = require('finetune-flow/dist/client');
      const webhooks = require('finetune-flow/webhooks');
      let deep = 'resolved';
      try { require.resolve('finetune-flow/dist/runSpec/schema'); } catch (err) { deep = err.code; }
      console.log(JSON.stringify({
        client: typeof client.FineTuneClient,
        sameClient: old.FineTuneClient === client.FineTuneClient,
        sameErrors: errors.ControlError === client.ControlError,
        parseRunSpec: typeof spec.parseRunSpec,
        runSpecError: typeof spec.RunSpecError,
        verifyWebhook: typeof webhooks.verifyWebhook,
        sameVerify: webhooks.verifyWebhook === client.verifyWebhook,
        deep,
      }));`;
    const ran = await runProcess(process.execPath, ['-e', script], { cwd: consumer });
    if (ran.code !== 0) throw new Error(ranText('node -e require(...)', ran));
    expect(JSON.parse(ran.stdout)).toEqual({
      client: 'function',
      sameClient: true,
      sameErrors: true,
      parseRunSpec: 'function',
      runSpecError: 'function',
      verifyWebhook: 'function',
      sameVerify: true,
      deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });

  test('the installed CLI has no local stack (devstack/ is not packed) and says where it is instead of crashing', async () => {
    const main = path.join(consumer, 'node_modules', PACKAGE_NAME, 'dist', 'cli', 'main.js');
    const ran = await runProcess(process.execPath, [main, 'stack', 'status'], { cwd: consumer, timeoutMs: 30_000 });
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/the local stack is not here .*devstack.*not of the package or the image/s);
    expect(packed.files.some((f) => f.path.includes('devstack'))).toBe(false);
  });

  test('the check can fail: deliberate type errors are reported with their TS codes', async () => {
    const dir = path.join(consumer, 'negative');
    fs.mkdirSync(dir);
    // One deliberate error per line marked `// expect TSxxxx`.
    fs.writeFileSync(
      path.join(dir, 'wrong.ts'),
      [
        "import { FineTuneClient, ControlError } from 'finetune-flow';",
        "import type { RunSpecInput } from 'finetune-flow/spec';",
        "import { RunNotFoundError } from 'finetune-flow/errors';",
        '',
        "const spec: RunSpecInput = { dataset: { percent: '5' } }; // expect TS2322",
        '',
        'export async function main(): Promise<void> {',
        '  const client = await FineTuneClient.connect();',
        '  const run = await client.start(spec);',
        '  const id: number = run.runId; // expect TS2322',
        "  await client.get(id.toString()).catch((err: unknown) => err instanceof ControlError && err.code === 'gone'); // expect TS2367",
        '  if (run.created) throw new RunNotFoundError(run.runId);',
        '}',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'deep.ts'),
      "export { parseRunSpec } from 'finetune-flow/dist/runSpec/schema'; // expect TS2307\n",
    );
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.negative.json'),
      JSON.stringify({ compilerOptions: STRICT_OPTIONS, include: ['negative'] }, null, 2),
    );

    const expected: string[] = [];
    for (const name of ['deep.ts', 'wrong.ts'])
      fs.readFileSync(path.join(dir, name), 'utf8')
        .split('\n')
        .forEach((text, i) => {
          const m = /\/\/ expect (TS\d+)$/.exec(text);
          if (m) expected.push(`negative/${name}:${i + 1} ${m[1]}`);
        });

    const { ran, output, diagnostics } = await typecheck(consumer, 'tsconfig.negative.json');
    expect(ran.code).not.toBe(0);
    const got = diagnostics.map((d) => `${d.file}:${d.line} ${d.code}`).sort();
    if (JSON.stringify(got) !== JSON.stringify(expected.sort()))
      throw new Error(`expected exactly:\n  ${expected.join('\n  ')}\ntsc said:\n${output}`);
    expect(diagnostics.find((d) => d.file === 'negative/wrong.ts' && d.line === 5)?.message).toMatch(
      /Type 'string' is not assignable to type 'number'/,
    );
  });
});
