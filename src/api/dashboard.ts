// The dashboard under /ui: the static files `make build` bundles into dist/ui/ (ui/build.mjs), read once
// and served as they are, with a Content-Security-Policy that lets the page load only its own script and
// style and talk only to this origin. The files hold no data and need no key; every figure the page shows
// comes from the /v1 routes with the key the user typed in (docs/operations.md, Dashboard).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { body } from './errors';

/** The files the page is made of, and how each is served. Nothing else under dist/ui/ is served. */
export const DASHBOARD_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
} as const;
type DashboardFile = keyof typeof DASHBOARD_FILES;

/** Self only, no inline script or style, no framing, no form posts elsewhere, no plugins. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Revalidated on every load (the ETag answers 304), so a new build is picked up at once.
  'cache-control': 'no-cache',
};

/**
 * Where the built files are: dist/ui/ beside dist/api/ in a build or an installed package; from the
 * sources (tests under ts-jest run src/api/), the repository's dist/ui/.
 */
export function defaultDashboardDir(): string {
  const candidates = [path.resolve(__dirname, '..', 'ui'), path.resolve(__dirname, '..', '..', 'dist', 'ui')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? candidates[0];
}

interface Asset {
  content: Buffer;
  type: string;
  etag: string;
}

function loadAssets(dir: string): Map<DashboardFile, Asset> | string {
  const assets = new Map<DashboardFile, Asset>();
  for (const [name, type] of Object.entries(DASHBOARD_FILES) as [DashboardFile, string][]) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) return `the dashboard is not built (${file} is missing): run make build or npm run build`;
    const content = fs.readFileSync(file);
    assets.set(name, { content, type, etag: `"${createHash('sha256').update(content).digest('base64url')}"` });
  }
  return assets;
}

export function registerDashboard(app: FastifyInstance, dir: string = defaultDashboardDir()): void {
  const assets = loadAssets(dir);
  const send = (reply: FastifyReply, name: DashboardFile, ifNoneMatch: string | undefined) => {
    reply.headers(SECURITY_HEADERS);
    if (typeof assets === 'string') return reply.code(503).send(body('unavailable_error', assets));
    const asset = assets.get(name);
    if (!asset) return reply.code(404).send(body('not_found_error', `no dashboard file ${name}`));
    reply.header('etag', asset.etag);
    if (ifNoneMatch === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.content);
  };

  // /ui itself redirects, so that the page's relative URLs (app.js, app.css) resolve under /ui/.
  app.get('/ui', async (_request, reply) => reply.redirect('/ui/', 308));
  app.get('/ui/', async (request, reply) => send(reply, 'index.html', request.headers['if-none-match']));
  for (const name of Object.keys(DASHBOARD_FILES) as DashboardFile[]) {
    if (name === 'index.html') continue;
    app.get(`/ui/${name}`, async (request, reply) => send(reply, name, request.headers['if-none-match']));
  }
}
