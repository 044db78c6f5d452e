// A run spec from a YAML or JSON file (or stdin, "-") plus flags. The flags are shorthands for spec
// fields; the shared schema validates the result, so the CLI never judges a spec itself. The input is
// bounded: a regular file (or stdin) of at most 1 MiB, read with a cap, so /dev/zero, a FIFO or an
// endless pipe is refused instead of read until the process dies.
import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CliInputError } from './exitCodes';
import { FORBIDDEN_KEYS, forbiddenKeyMessage, specShapeIssues } from '../runSpec/limits';
import { RunSpecError, parseRunSpec } from '../runSpec/schema';

/** Largest run spec the CLI reads (the API's body limit is the same). */
export const MAX_SPEC_BYTES = 1024 * 1024;

export interface SpecFlags {
  model?: string;
  modelVersion?: string;
  compute?: string;
  vmSize?: string;
  dataset?: string;
  percent?: string;
  instanceType?: string;
  keepAlive?: string;
  /** path=value pairs, e.g. training.learning_rate=0.0002 (the value is JSON when it parses as JSON). */
  set?: string[];
}

type Json = Record<string, unknown>;

/** What a file that is not a regular file is, for the message. */
function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads at most MAX_SPEC_BYTES + 1 bytes of `fd` (one more than allowed, to know it is too large).
 * A non-blocking descriptor (some shells' stdin) that has nothing yet is waited on, 10 ms at a time.
 */
function readCapped(fd: number): Buffer {
  const buffer = Buffer.alloc(MAX_SPEC_BYTES + 1);
  let length = 0;
  while (length < buffer.length) {
    let n: number;
    try {
      n = fs.readSync(fd, buffer, length, buffer.length - length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 10);
      continue;
    }
    if (n === 0) break;
    length += n;
  }
  return buffer.subarray(0, length);
}

/** The spec's bytes: stdin ("-") or a regular file, at most MAX_SPEC_BYTES, read with a cap. */
function readSpecBytes(file: string): Buffer {
  const what = file === '-' ? 'the run spec on stdin' : `the run spec ${file}`;
  const tooLarge = () =>
    new CliInputError(`${what} is larger than 1 MiB (${MAX_SPEC_BYTES} bytes), the limit for a run spec`);
  let fd: number | undefined;
  try {
    if (file === '-') {
      const bytes = readCapped(0);
      if (bytes.length > MAX_SPEC_BYTES) throw tooLarge();
      return bytes;
    }
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile())
      throw new CliInputError(
        `${what} is not a regular file (${kindOf(stat)}): give a YAML or JSON file, or "-" for stdin`,
      );
    if (stat.size > MAX_SPEC_BYTES) throw tooLarge();
    const bytes = readCapped(fd);
    if (bytes.length > MAX_SPEC_BYTES) throw tooLarge();
    return bytes;
  } catch (err) {
    if (err instanceof CliInputError) throw err;
    throw new CliInputError(`cannot read ${what}: ${(err as Error).message}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function readSpecFile(file: string): unknown {
  const text = readSpecBytes(file).toString('utf8');
  try {
    // YAML is a superset of JSON: one parser for both.
    return text.trim() === '' ? {} : (parseYaml(text) as unknown);
  } catch (err) {
    throw new CliInputError(`${file} is not valid YAML or JSON: ${(err as Error).message}`);
  }
}

function number(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new CliInputError(`${flag} must be a number (got "${value}")`);
  return n;
}

function setPath(target: Json, path: string, value: unknown): void {
  const parts = path.split('.');
  if (parts.some((p) => p === '')) throw new CliInputError(`--set ${path}: not a field path`);
  const forbidden = parts.find((p) => FORBIDDEN_KEYS.has(p));
  if (forbidden !== undefined)
    throw new CliInputError(`--set ${path}: not a field path: ${forbiddenKeyMessage(forbidden)}`);
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = Object.hasOwn(node, part) ? node[part] : undefined;
    if (next === undefined) node[part] = {};
    else if (next === null || typeof next !== 'object' || Array.isArray(next))
      throw new CliInputError(`--set ${path}: ${part} is not an object in the spec`);
    node = node[part] as Json;
  }
  node[parts[parts.length - 1]] = value;
}

function parseSetValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * The spec the file says, with the flags applied on top. It is validated here too (the client validates
 * it again), so a bad spec exits 2 naming each field (a RunSpecError) before Temporal is even reached.
 */
export function loadSpec(file: string | undefined, flags: SpecFlags): unknown {
  const base = file !== undefined ? readSpecFile(file) : {};
  if (base === null || typeof base !== 'object' || Array.isArray(base))
    throw new CliInputError(`the run spec${file ? ` in ${file}` : ''} must be a mapping of fields`);
  // Before the copy: a spec nested 100,000 levels deep, or with a prototype key, is refused by name.
  const shape = specShapeIssues(base);
  if (shape.length > 0) throw new RunSpecError(shape);
  const spec = structuredClone(base) as Json;
  if (flags.model !== undefined) {
    const parts = flags.model.split('/');
    if (parts.length > 2)
      throw new CliInputError(
        `--model "${flags.model}": give <name> or <registry>/<name> (one "/" at most), e.g. Phi-3-mini-4k-instruct or azureml/Phi-3-mini-4k-instruct`,
      );
    const [registry, name] = parts.length === 2 ? parts : [undefined, flags.model];
    if (registry !== undefined) setPath(spec, 'model.registry', registry);
    setPath(spec, 'model.name', name);
  }
  if (flags.modelVersion !== undefined) setPath(spec, 'model.version', flags.modelVersion);
  if (flags.compute !== undefined) setPath(spec, 'compute.name', flags.compute);
  if (flags.vmSize !== undefined) setPath(spec, 'compute.vmSize', flags.vmSize);
  if (flags.dataset !== undefined) setPath(spec, 'dataset.source', flags.dataset);
  if (flags.percent !== undefined) setPath(spec, 'dataset.percent', number('--percent', flags.percent));
  if (flags.instanceType !== undefined) setPath(spec, 'deployment.instanceType', flags.instanceType);
  if (flags.keepAlive !== undefined)
    setPath(spec, 'deployment.keepAliveMinutes', number('--keep-alive', flags.keepAlive));
  for (const pair of flags.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliInputError(`--set needs path=value (got "${pair}")`);
    setPath(spec, pair.slice(0, eq), parseSetValue(pair.slice(eq + 1)));
  }
  parseRunSpec(spec);
  return spec;
}
