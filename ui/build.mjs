// Builds the dashboard into dist/ui/ (run by `make build` and `npm run build`): esbuild bundles
// ui/src/main.ts with uPlot into app.js and ui/app.css with uPlot's style into app.css, both minified;
// index.html and favicon.svg are copied. Nothing is fetched when the page runs: the API serves these
// four files (src/api/dashboard.ts) and nothing else under /ui.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ui = path.join(root, 'ui');
const out = path.join(root, 'dist', 'ui');

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, logLevel: 'warning', legalComments: 'eof', absWorkingDir: root };
await build({
  ...common,
  entryPoints: [path.join(ui, 'src', 'main.ts')],
  outfile: path.join(out, 'app.js'),
  format: 'iife',
  target: ['es2022'],
  platform: 'browser',
  tsconfig: path.join(ui, 'tsconfig.json'),
});
await build({ ...common, entryPoints: [path.join(ui, 'app.css')], outfile: path.join(out, 'app.css') });
for (const file of ['index.html', 'favicon.svg']) fs.copyFileSync(path.join(ui, file), path.join(out, file));

const sizes = fs
  .readdirSync(out)
  .sort()
  .map((f) => `${f} ${(fs.statSync(path.join(out, f)).size / 1024).toFixed(1)} KiB`);
process.stdout.write(`build: dist/ui/ (the dashboard): ${sizes.join(', ')}\n`);
