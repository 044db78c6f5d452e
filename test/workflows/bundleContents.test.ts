// What the workflow bundle holds. A worker that reuses its V8 context still evaluates the bundle's modules
// once per cached run, so every package in it costs memory in each of the (up to 1,000) runs a worker keeps:
// zod alone took about 0.6 MiB per cached run at 1,000 runs (the webhook event names pulled it in through
// src/runSpec/notifications.ts). The bundle may hold the SDK, OpenTelemetry (loaded only in traced runs:
// src/workflows/tracingInterceptors.ts) and their small dependencies, and the product's pure modules.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleWorkflows } from '../../src/scripts/bundleWorkflows';

/** The packages a bundle's module ids name (webpack's `/***\/ "./node_modules/<pkg>/..."` headers). */
function bundledPackages(code: string): { packages: Set<string>; productModules: string[] } {
  const packages = new Set<string>();
  const productModules: string[] = [];
  for (const match of code.matchAll(/^\/\*{3}\/ "([^"]+)"/gm)) {
    const id = match[1] ?? '';
    const parts = id.split('/');
    const at = parts.lastIndexOf('node_modules');
    if (at < 0) {
      productModules.push(id);
      continue;
    }
    const name = parts[at + 1] ?? '';
    packages.add(name.startsWith('@') ? `${name}/${parts[at + 2] ?? ''}` : name);
  }
  return { packages, productModules };
}

const ALLOWED = [/^@temporalio\//, /^@opentelemetry\//, /^nexus-rpc$/, /^long$/, /^ms$/];

describe('the workflow bundle', () => {
  let code = '';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bundle-'));

  beforeAll(async () => {
    const bundle = await bundleWorkflows(path.join(dir, 'workflow-bundle.js'));
    code = fs.readFileSync(bundle.path, 'utf8');
  }, 120_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('holds no package beyond the SDK, OpenTelemetry and their small dependencies (no zod)', () => {
    const { packages } = bundledPackages(code);
    expect(packages.has('@temporalio/workflow')).toBe(true);
    expect([...packages].filter((p) => !ALLOWED.some((re) => re.test(p)))).toEqual([]);
    expect(packages.has('zod')).toBe(false);
  });

  it('holds the workflows and the pure modules they import, none of the schemas', () => {
    const { productModules } = bundledPackages(code);
    expect(productModules.some((m) => /workflows\/fineTune\.[jt]s$/.test(m))).toBe(true);
    expect(productModules.some((m) => /runSpec\/webhookEventTypes\.[jt]s$/.test(m))).toBe(true);
    expect(productModules.filter((m) => /runSpec\/(notifications|schema|dataset)\.[jt]s$/.test(m))).toEqual([]);
  });

  it('reads the module headers it is given', () => {
    const sample = [
      '/***/ "./node_modules/zod/v4/index.js"',
      '/***/ "./node_modules/@temporalio/workflow/lib/index.js"',
      '/***/ "./src/workflows/fineTune.ts"',
    ].join('\n');
    const { packages, productModules } = bundledPackages(sample);
    expect([...packages].sort()).toEqual(['@temporalio/workflow', 'zod']);
    expect(productModules).toEqual(['./src/workflows/fineTune.ts']);
  });
});
