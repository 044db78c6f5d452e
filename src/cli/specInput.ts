// A run spec from a YAML or JSON file (or stdin, "-") plus flags. The flags are shorthands for spec
// fields; the shared schema validates the result, so the CLI never judges a spec itself.
import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CliInputError } from './exitCodes';

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

function readSpecFile(file: string): unknown {
  let text: string;
  try {
    text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliInputError(`cannot read the run spec ${file}: ${(err as Error).message}`);
  }
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
  if (parts.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype'))
    throw new CliInputError(`--set ${path}: not a field path`);
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
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

/** The spec the file says, with the flags applied on top (unvalidated: the client validates). */
export function loadSpec(file: string | undefined, flags: SpecFlags): unknown {
  const base = file !== undefined ? readSpecFile(file) : {};
  if (base === null || typeof base !== 'object' || Array.isArray(base))
    throw new CliInputError(`the run spec${file ? ` in ${file}` : ''} must be a mapping of fields`);
  const spec = structuredClone(base) as Json;
  if (flags.model !== undefined) {
    const [registry, name] = flags.model.includes('/') ? flags.model.split('/', 2) : [undefined, flags.model];
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
  return spec;
}
