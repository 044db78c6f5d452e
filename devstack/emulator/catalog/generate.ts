// Regenerates catalog.generated.json from the reference specs:
//   make build && node devstack/dist/emulator/catalog/generate.js [reference/azureml-assets]
// (run from the repository root; reference/ is vendored in the repository, see reference/README.md).
// The output is committed; test/devstack/emulator/catalog.test.ts checks it against the reference.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deriveCatalog } from './derive';
import type { CatalogData } from './types';

export const DEFAULT_REFERENCE_DIR = 'reference/azureml-assets';
/** The committed output, relative to the repository root; data.ts loads it when the emulator starts. */
export const CATALOG_FILE = 'devstack/emulator/catalog/catalog.generated.json';

/** Plain JSON, two-space indented: data, not code (no header comment: JSON has none; see data.ts). */
export function renderCatalog(data: CatalogData): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

function main(): void {
  const referenceDir = resolve(process.argv[2] ?? DEFAULT_REFERENCE_DIR);
  const data = deriveCatalog(referenceDir);
  const out = resolve(CATALOG_FILE);
  writeFileSync(out, renderCatalog(data));
  console.log(`catalog: wrote ${out}`);
}

if (require.main === module) main();
