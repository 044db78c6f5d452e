// Helpers for the front-end tests: run the built CLI as a process, run shell snippets with `ftflow` on
// the PATH, and read the tested code blocks of the README and the pages under docs/.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';

export const CLI_MAIN = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
export const API_MAIN = path.join(PROJECT_ROOT, 'dist', 'api', 'main.js');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function runProcess(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** `ftflow ...` as a process, against the test stack and the given task queue. */
export function ftflow(
  args: string[],
  taskQueue: string,
  opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Ran> {
  return runProcess(process.execPath, [CLI_MAIN, ...args], {
    env: { ...process.env, FTFLOW_TASK_QUEUE: taskQueue, ...opts.env },
    cwd: opts.cwd,
    input: opts.input,
  });
}

/** A temporary folder with an `ftflow` executable (the built CLI), for shell snippets. */
export function cliWorkspace(): { dir: string; bin: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-readme-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'ftflow'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_MAIN}" "$@"\n`, {
    mode: 0o755,
  });
  return { dir, bin };
}

export function runBash(
  script: string,
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Ran> {
  return runProcess('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: opts.cwd,
    env: opts.env,
    timeoutMs: opts.timeoutMs ?? 120_000,
  });
}

/**
 * The block kinds the tests run (webhook-receiver: type-checked against the packed package by
 * test/package/consumer.stack.test.ts): `<!-- readme-test: <kind> -->` before a fenced code block.
 */
export const TESTED_BLOCK_KINDS = ['cli', 'client', 'api', 'webhook-receiver'] as const;

/** The documentation a person reads, relative to the project root: README.md, then docs/*.md by name. */
export function documentationFiles(): string[] {
  const docs = path.join(PROJECT_ROOT, 'docs');
  const pages = fs.existsSync(docs)
    ? fs
        .readdirSync(docs)
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => `docs/${name}`)
    : [];
  return ['README.md', ...pages];
}

export interface TaggedBlock {
  /** The file it is in, relative to the project root. */
  file: string;
  /** The kind after `readme-test:`. */
  tag: string;
  code: string;
}

/**
 * Every code block marked `<!-- readme-test: <kind> -->` in the documentation, in reading order:
 * README.md first, then docs/*.md by name (so a block in docs/ may use a file the README's blocks made).
 */
export function taggedBlocks(): TaggedBlock[] {
  const blocks: TaggedBlock[] = [];
  const pattern = /<!-- readme-test: ([\w-]+) -->\n```[\w-]*\n([\s\S]*?)\n```/g;
  for (const file of documentationFiles()) {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) blocks.push({ file, tag: m[1], code: m[2] });
  }
  return blocks;
}

/**
 * The code of the blocks marked `<!-- readme-test: <tag> -->` in README.md and docs/*.md, in reading
 * order. Throws when no file has one: a test that expects a kind must not pass on zero blocks.
 */
export function readmeBlocks(tag: string): string[] {
  const blocks = taggedBlocks()
    .filter((b) => b.tag === tag)
    .map((b) => b.code);
  if (blocks.length === 0)
    throw new Error(
      `no code block marked <!-- readme-test: ${tag} --> in ${documentationFiles().join(', ')}: ` +
        'a tested example was removed or its marker changed',
    );
  return blocks;
}
