// The documented examples for the CLI and the typed client (the blocks marked `<!-- readme-test: cli -->`
// and `<!-- readme-test: client -->` in README.md and docs/*.md, in that reading order), run as they
// are written, against the stack.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { PROJECT_ROOT } from '../../devstack/stack/paths';
import { startHarness, type TestHarness } from '../helpers/localStack';
import { cliWorkspace, readmeBlocks, runBash, runProcess } from '../helpers/frontEnds';

describe("the README's and docs/' examples", () => {
  let h: TestHarness;
  let work: { dir: string; bin: string };
  beforeAll(async () => {
    h = await startHarness();
    work = cliWorkspace();
  });
  afterAll(async () => {
    await h?.stop();
    fs.rmSync(work.dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, PATH: `${work.bin}:${process.env.PATH ?? ''}`, FTFLOW_TASK_QUEUE: h.taskQueue });

  test('the CLI examples run as written', async () => {
    const blocks = readmeBlocks('cli');
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) {
      const ran = await runBash(block, { cwd: work.dir, env: env() });
      if (ran.code !== 0)
        throw new Error(
          `documented CLI block failed (exit ${ran.code}):\n${block}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`,
        );
    }
    expect((await h.client.get('ft-phi3-readme')).status).toBe('succeeded');
    expect((await h.client.get('ft-phi3-cancel-readme')).status).toBe('succeeded');
    const events = (await h.client.events('ft-phi3-cancel-readme', { limit: 500 })).data.map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['run.cancelled', 'run.resumed', 'run.succeeded']));
  });

  test('the typed client example runs as written (importing the package by its name)', async () => {
    // The one client block (in README.md, which the package ships): test/package/consumer.stack.test.ts type-checks
    // the same block(s) against the packed package.
    const blocks = readmeBlocks('client');
    expect(blocks).toHaveLength(1);
    const [block] = blocks;
    expect(block).toContain("from 'finetune-flow'");
    const js = ts.transpileModule(block, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    const dir = path.join(work.dir, 'client-example');
    fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
    fs.symlinkSync(PROJECT_ROOT, path.join(dir, 'node_modules', 'finetune-flow'));
    fs.writeFileSync(path.join(dir, 'example.js'), js);
    const ran = await runProcess(process.execPath, ['example.js'], { cwd: dir, env: env() });
    if (ran.code !== 0)
      throw new Error(`documented client example failed (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`);
    expect(ran.stdout).toContain('ft-phi3-client-readme true false');
  });
});
