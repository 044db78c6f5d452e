// Regenerates contract.generated.json from Azure's swagger files and the api-version table
// (apiVersionTable.ts: which api-versions are accepted, per resource type, checked against which swagger):
//   make build && node devstack/dist/emulator/contract/generate.js [reference/azure-ml-rest]
// (run from the repository root; reference/ is vendored in the repository, see reference/README.md).
// The output is committed; test/devstack/emulator/contractSpec.test.ts checks it against the reference folder.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deriveContract } from './derive';
import type { ContractData } from './types';

export const DEFAULT_REFERENCE_DIR = 'reference/azure-ml-rest';

/** The committed output, relative to the repository root; data.ts loads it when the emulator starts. */
export const CONTRACT_FILE = 'devstack/emulator/contract/contract.generated.json';

/** JSON with one api-version row, one operation and one definition per line, so a regeneration diffs readably. */
export function renderContract(data: ContractData): string {
  const apiVersions = data.apiVersions.map((row) => `    ${JSON.stringify(row)}`).join(',\n');
  const versions = Object.entries(data.versions).map(([version, v]) => {
    const operations = v.operations.map((op) => `        ${JSON.stringify(op)}`).join(',\n');
    const definitions = Object.entries(v.definitions)
      .map(([key, schema]) => `        ${JSON.stringify(key)}: ${JSON.stringify(schema)}`)
      .join(',\n');
    return [
      `    ${JSON.stringify(version)}: {`,
      `      "files": ${JSON.stringify(v.files)},`,
      `      "operations": [\n${operations}\n      ],`,
      `      "definitions": {\n${definitions}\n      }`,
      '    }',
    ].join('\n');
  });
  return ['{', '  "apiVersions": [', apiVersions, '  ],', '  "versions": {', versions.join(',\n'), '  }', '}', ''].join(
    '\n',
  );
}

function main(): void {
  const referenceDir = resolve(process.argv[2] ?? DEFAULT_REFERENCE_DIR);
  const out = resolve(CONTRACT_FILE);
  writeFileSync(out, renderContract(deriveContract(referenceDir)));
  console.log(`contract: wrote ${out}`);
}

if (require.main === module) main();
