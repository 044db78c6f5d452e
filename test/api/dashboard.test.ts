// The dashboard's files under /ui (src/api/dashboard.ts), without a stack: only the four built files are
// served, each with the Content-Security-Policy and the other security headers, revalidated by ETag; an
// unbuilt dashboard answers 503 naming the build. The browser tests are test/ui/dashboard.stack.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { DASHBOARD_CSP, DASHBOARD_FILES, registerDashboard } from '../../src/api/dashboard';

const apps: FastifyInstance[] = [];

/** A server with the dashboard's routes only, listening on a free port; a GET to it. */
async function serve(dir: string): Promise<(url: string, headers?: Record<string, string>) => Promise<Response>> {
  const app = Fastify();
  registerDashboard(app, dir);
  apps.push(app);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return (url, headers = {}) => fetch(`${base}${url}`, { headers, redirect: 'manual' });
}

describe('the dashboard files under /ui', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-ui-'));
    for (const name of Object.keys(DASHBOARD_FILES)) fs.writeFileSync(path.join(dir, name), `content of ${name}`);
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'not served');
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('serves the page and its three files with their types, the CSP and no-sniff; nothing else', async () => {
    const get = await serve(dir);
    const page = await get('/ui/');
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('content of index.html');
    expect(Object.fromEntries(page.headers)).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    expect(DASHBOARD_CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    for (const [name, type] of Object.entries(DASHBOARD_FILES)) {
      if (name === 'index.html') continue;
      const res = await get(`/ui/${name}`);
      expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([
        200,
        type,
        `content of ${name}`,
      ]);
      expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    }
    const redirect = await get('/ui');
    expect([redirect.status, redirect.headers.get('location')]).toEqual([308, '/ui/']);
    for (const url of ['/ui/secret.txt', '/ui/index.html', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json'])
      expect((await get(url)).status).toBe(404);
  });

  test('answers 304 to a request that has the current ETag', async () => {
    const get = await serve(dir);
    const etag = (await get('/ui/app.js')).headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get('/ui/app.js', { 'if-none-match': etag });
    expect([again.status, await again.text()]).toEqual([304, '']);
    expect((await get('/ui/app.js', { 'if-none-match': '"old"' })).status).toBe(200);
  });

  test('a dashboard that was not built answers 503 naming the build', async () => {
    const get = await serve(path.join(dir, 'missing'));
    const res = await get('/ui/');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: { type: 'unavailable_error', message: expect.stringMatching(/not built .*make build/) },
    });
  });
});
