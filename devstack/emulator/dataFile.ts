// The emulator's committed data files (JSON written by the generators under catalog/ and contract/) are read
// from the source tree when the emulator starts: under ts-jest this module runs from devstack/emulator/, when
// built from devstack/dist/emulator/, and the build does not copy data. JSON.parse, not `import`: a 300 KB
// literal type is slow to check and says less than the declared shape the tests hold the file to.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The emulator's source folder: this file's folder under ts-jest, devstack/emulator/ from the build. */
function emulatorSourceDir(): string {
  const candidates = [__dirname, resolve(__dirname, '..', '..', 'emulator')];
  const found = candidates.find((dir) => existsSync(join(dir, 'dataFile.ts')));
  if (found === undefined) {
    throw new Error(
      `the emulator's source folder (devstack/emulator/) is not beside ${__dirname}: run from a checkout`,
    );
  }
  return found;
}

/** Parses `relativePath` (e.g. 'catalog/catalog.generated.json') from the emulator's source folder. */
export function loadDataFile(relativePath: string): unknown {
  const file = join(emulatorSourceDir(), relativePath);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new Error(
      `cannot load the emulator's data file ${file}: ${(err as Error).message} (regenerate it: see its generate.ts)`,
    );
  }
}
