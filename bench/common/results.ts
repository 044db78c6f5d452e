// How every bench reports: a table on stdout for people, then exactly one JSON line (the last line of
// stdout, starting with {"bench":...}) for scripts and the smoke tests, and the same object saved to
// bench/results/<name>.json (committed, so figures can be compared across changes).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';
import { machineInfo, type MachineInfo } from './machine';

export const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench', 'results');

/** What every result line carries besides the bench's own figures. */
export interface ResultHeader {
  bench: string;
  /** ISO time the bench finished. */
  at: string;
  /** true when run with --smoke (tiny sizes; figures only check that the bench works). */
  smoke: boolean;
  machine: MachineInfo;
}

/**
 * Prints the JSON line and, unless this is a smoke run, writes bench/results/<file>.json (<bench>.json by
 * default). Returns the object.
 */
export function reportResult<T extends object>(
  bench: string,
  smoke: boolean,
  figures: T,
  write: (text: string) => void = (text) => process.stdout.write(text),
  file: string = bench,
): ResultHeader & T {
  const result = { bench, at: new Date().toISOString(), smoke, machine: machineInfo(), ...figures };
  write(JSON.stringify(result) + '\n');
  // Smoke runs (make test) must not overwrite the committed figures of a real run.
  if (!smoke) writeResultFile(file, result);
  return result;
}

/** Writes bench/results/<name>.json atomically (a .tmp file renamed into place; *.tmp is git-ignored). */
export function writeResultFile(name: string, value: unknown): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

/** The last stdout line that parses as a bench result (for tests that run a bench as a child process). */
export function parseResultLine(stdout: string): (ResultHeader & Record<string, unknown>) | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    if (!line.startsWith('{"bench":')) continue;
    try {
      return JSON.parse(line) as ResultHeader & Record<string, unknown>;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
