// Issue 17, item 5: the dashboard under /ui in a real headless Chromium (Debian's, driven by
// playwright-core). On an emulator of this file's own whose jobs queue for 8 s and train for 25 s: log in
// with a key (kept in sessionStorage only, sent only in the Authorization header), see a run appear in the
// list, open it and watch it train (the Azure job Queued then Running, the loss curve's point count
// growing), see its record when it completes; cancel a running run from the page (and see through the API
// and the emulator that it was); a read-only key has no enabled cancel button and the server refuses its
// cancel anyway. Screenshots: .data/ui-screenshots/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page, Request } from 'playwright-core';
import { buildApi } from '../../src/api/server';
import { DASHBOARD_CSP } from '../../src/api/dashboard';
import { ApiKeyStore, hashKey } from '../../src/api/keys';
import { loadAzureConfig } from '../../src/azure/config';
import { createCredential } from '../../src/azure/credentials';
import { TrainingReader } from '../../src/control/training';
import { SCREENSHOT_DIR, chromiumPath, chromiumVersion, launchChromium } from '../helpers/browser';
import { FAST_TUNING, startHarness, type TestHarness } from '../helpers/localStack';
import {
  emulatorAdmin,
  emulatorEnv,
  startPrivateEmulator,
  type EmulatorAdmin,
  type RestartableServer,
} from '../helpers/privateStack';

const WRITER_KEY = `ftflow_ui-writer-${randomUUID()}`;
const READER_KEY = `ftflow_ui-reader-${randomUUID()}`;
// Heartbeats at most every 1.6 s: the page sees each job state and each training step soon after it happens.
const QUICK = { heartbeatTimeoutSeconds: 2 };
const tag = randomUUID().slice(0, 8);

let server: RestartableServer;
let admin: EmulatorAdmin;
let h: TestHarness;
let app: FastifyInstance;
let base = '';
let browser: Browser;
/** What every page saw that must not happen: CSP violations, script errors, 429s, a key outside the header. */
const problems: string[] = [];

beforeAll(async () => {
  server = await startPrivateEmulator();
  admin = emulatorAdmin(server.address);
  await admin.setClock({ jobPhases: { Queued: 8000, Running: 25000 } } as Parameters<EmulatorAdmin['setClock']>[0]);
  const azureEnv = emulatorEnv(server);
  h = await startHarness({}, { ...azureEnv, FTFLOW_METRICS_POLL_SECONDS: '0.5' });
  const env = { ...process.env, ...FAST_TUNING, ...azureEnv };
  const config = loadAzureConfig(env);
  h.client.useTrainingReader(new TrainingReader(config, createCredential(config, env)));
  app = await buildApi({
    client: h.client,
    keys: ApiKeyStore.fromKeys([
      { id: 'ui-writer', hash: hashKey(WRITER_KEY), scopes: ['fine-tunes:read', 'fine-tunes:write'], revoked: false },
      { id: 'ui-reader', hash: hashKey(READER_KEY), scopes: ['fine-tunes:read'], revoked: false },
    ]),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  const executable = chromiumPath();
  process.stdout.write(`dashboard tests in ${chromiumVersion(executable)} (${executable})\n`);
  browser = await launchChromium();
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await h?.stop();
  await server?.dispose();
});

afterEach(() => {
  expect(problems).toEqual([]);
  problems.length = 0;
});

/** A new tab (its own sessionStorage) that reports what must not happen into `problems`. */
async function openTab(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (r) => {
    if (r.status() === 429) problems.push(`429 from ${r.url()}`);
  });
  page.on('request', (r: Request) => {
    for (const key of [WRITER_KEY, READER_KEY]) if (r.url().includes(key)) problems.push(`key in a URL: ${r.url()}`);
  });
  return page;
}

async function logIn(page: Page, key: string): Promise<void> {
  await page.goto(`${base}/ui/`);
  await page.getByTestId('key').fill(key);
  await page.getByTestId('login').click();
  await page.getByTestId('who').waitFor();
}

/**
 * The text of the element with this test id, once it matches `ready`: an element the page fills after an
 * answer arrives exists (empty) before it, and reading it at once races the answer.
 */
async function textMatching(page: Page, testId: string, ready: RegExp, timeout = 20_000): Promise<string> {
  const shown = page.getByTestId(testId).filter({ hasText: ready });
  await shown.waitFor({ timeout });
  return (await shown.textContent()) ?? '';
}

async function apiGet(path: string, key = READER_KEY): Promise<any> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return res.json();
}

/** Reads an attribute of the page every 100 ms until `done` says so; the distinct values in the order seen. */
async function watch(
  page: Page,
  selector: string,
  attribute: string,
  done: (seen: string[]) => boolean,
  timeoutMs: number,
): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = (await page.locator(selector).first().getAttribute(attribute)) ?? '';
    if (value !== '' && seen[seen.length - 1] !== value) seen.push(value);
    if (done(seen)) return seen;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms watching ${selector}[${attribute}]; saw ${seen.join(' → ')}`);
    await page.waitForTimeout(100);
  }
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });

test('the page: served under /ui with a strict CSP, a login with the key kept in this tab only and sent only in the Authorization header', async () => {
  const redirect = await fetch(`${base}/ui`, { redirect: 'manual' });
  expect(redirect.status).toBe(308);
  expect(redirect.headers.get('location')).toBe('/ui/');
  const index = await fetch(`${base}/ui/`);
  expect(index.status).toBe(200);
  expect(index.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
  expect(DASHBOARD_CSP).toMatch(/script-src 'self';/);
  expect(DASHBOARD_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  expect(index.headers.get('x-content-type-options')).toBe('nosniff');
  const html = await index.text();
  expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
  expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
  const js = await fetch(`${base}/ui/app.js`);
  expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  const etag = js.headers.get('etag') ?? '';
  expect((await fetch(`${base}/ui/app.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  expect((await fetch(`${base}/ui/app.js.map`)).status).toBe(404);
  expect((await fetch(`${base}/ui/../package.json`)).status).toBe(404);

  const page = await openTab();
  const sent: { url: string; authorization?: string }[] = [];
  page.on('request', async (r) => {
    if (new URL(r.url()).pathname.startsWith('/v1/'))
      sent.push({ url: r.url(), authorization: (await r.allHeaders())['authorization'] });
  });
  await page.goto(`${base}/ui/`);
  await page.getByTestId('login-form').waitFor();
  await page.getByTestId('key').fill('ftflow_not-a-key');
  await page.getByTestId('login').click();
  await expect(textMatching(page, 'login-error', /\S/)).resolves.toMatch(/not known/);
  await shot(page, 'login');

  await page.getByTestId('key').fill(WRITER_KEY);
  await page.getByTestId('login').click();
  await page.getByTestId('runs-view').waitFor();
  await expect(textMatching(page, 'who', /\S/)).resolves.toBe('key ui-writer');
  // Evaluated in the page (a string: the test's compiler has no DOM types).
  const storage = await page.evaluate(
    `({ session: sessionStorage.getItem('ftflow.apiKey'), local: localStorage.length, cookie: document.cookie })`,
  );
  expect(storage).toEqual({ session: WRITER_KEY, local: 0, cookie: '' });
  expect(await page.context().cookies()).toEqual([]);
  // A reload keeps the session (same tab); another tab starts at the login form.
  await page.reload();
  await page.getByTestId('runs-view').waitFor();
  const other = await page.context().newPage();
  await other.goto(`${base}/ui/`);
  await other.getByTestId('login-form').waitFor();
  await other.close();

  // A run id that names no run: the page says so (and stops asking).
  await page.goto(`${base}/ui/#/runs/ft-no-such-run-${tag}`);
  await page.getByTestId('not-found').waitFor();
  await expect(textMatching(page, 'run-facts', /\S/)).resolves.toMatch(/no run ft-no-such-run/);

  expect(sent.length).toBeGreaterThan(0);
  for (const r of sent) expect(r.authorization).toMatch(/^Bearer (ftflow_not-a-key|ftflow_ui-writer-)/);
  // Logging out forgets the key.
  await page.locator('#logout').click();
  await page.getByTestId('login-form').waitFor();
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await page.context().close();
});

test('watching a run: it appears in the list, its job goes Queued then Running, the loss curve grows, the record shows when it completes', async () => {
  const page = await openTab();
  // What the page sends to the keep-alive route (answered by the real API).
  const keepAliveCalls: { body: unknown; authorization?: string }[] = [];
  page.on('request', async (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/keep-alive'))
      keepAliveCalls.push({ body: r.postDataJSON(), authorization: (await r.allHeaders())['authorization'] });
  });
  const keepAliveResponses: Promise<{ status: number; body: { expiresAt?: string | null } }>[] = [];
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/keep-alive'))
      keepAliveResponses.push(r.json().then((body) => ({ status: r.status(), body })));
  });
  await logIn(page, WRITER_KEY);
  // Started after the list is open: it appears by itself.
  const run = await h.client.start(
    {
      compute: { name: `ui-${tag}` },
      training: { num_train_epochs: 2 },
      deployment: { keepAliveMinutes: 30 },
    },
    { idempotencyKey: `ui-watch-${tag}`, options: QUICK, dedupe: false, source: 'api' },
  );
  const row = page.locator(`tr[data-run-id="${run.runId}"]`);
  await row.waitFor({ timeout: 20_000 });
  await expect(row.getByTestId('status').getAttribute('data-status')).resolves.toBe('running');
  await row.getByRole('link', { name: run.runId }).click();
  await page.getByTestId('run-view').waitFor();

  // The Azure job, as the page shows it: Queued, then Running.
  const statuses = await watch(
    page,
    '[data-testid=job-status]',
    'data-job-status',
    (s) => s.includes('Running'),
    60_000,
  );
  expect(statuses.indexOf('Queued')).toBeGreaterThanOrEqual(0);
  expect(statuses.indexOf('Queued')).toBeLessThan(statuses.indexOf('Running'));
  await expect(page.locator('[data-step=awaitPipeline]').getAttribute('data-step-status')).resolves.toBe('running');
  // The loss curve's point count, read from the chart while the job trains, grows.
  const counts = await watch(
    page,
    '[data-testid=loss-chart]',
    'data-points',
    (s) => s.filter((c) => Number(c) > 0).length >= 3,
    40_000,
  );
  const growing = counts.map(Number).filter((c) => c > 0);
  expect([...growing].sort((a, b) => a - b)).toEqual(growing);
  expect(await page.locator('[data-testid=loss-chart] canvas').count()).toBeGreaterThan(0);
  await expect(textMatching(page, 'chart-caption', /\S/)).resolves.toMatch(/^loss: \d+ points?, step \d+\.\.\d+/);
  await expect(textMatching(page, 'train-step', /\S/)).resolves.toMatch(/^\d+ of \d+$/);
  // The picture for the docs: later in the training, the first eval_loss point on the curve.
  const later = await watch(
    page,
    '[data-testid=loss-chart]',
    'data-points',
    (s) => Number(s[s.length - 1]) >= 10,
    30_000,
  );
  await expect(page.getByTestId('job-status').getAttribute('data-job-status')).resolves.toBe('Running');
  await shot(page, 'run-training');

  // Kept alive after the smoke test: extend and end through the real keep-alive route.
  await page.getByTestId('endpoint').filter({ hasText: 'kept alive until' }).waitFor({ timeout: 60_000 });
  await expect(page.getByTestId('keep-alive').isVisible()).resolves.toBe(true);
  const servingUntil = Date.parse((await apiGet(`/v1/fine-tunes/${run.runId}`)).endpointExpiresAt);
  expect(servingUntil).toBeGreaterThan(Date.now());
  await page.getByTestId('extend-minutes').fill('5');
  await page.getByTestId('extend').click();
  await page.getByTestId('action-notice').filter({ hasText: 'kept alive 5 more minutes' }).waitFor();
  await page.getByTestId('end-now').click();
  await page.getByTestId('action-notice').filter({ hasText: 'being deleted now' }).waitFor();
  expect(keepAliveCalls).toEqual([
    { body: { extendMinutes: 5 }, authorization: `Bearer ${WRITER_KEY}` },
    { body: { end: true }, authorization: `Bearer ${WRITER_KEY}` },
  ]);
  // The server's answers: first a later expiry (about 5 minutes on), then none (the endpoint is being deleted).
  const answers = await Promise.all(keepAliveResponses);
  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  expect(Date.parse(String(answers[0].body.expiresAt)) - servingUntil).toBe(5 * 60_000);
  expect(answers[1].body.expiresAt).toBeNull();
  // Completed: the record, the events, the whole curve.
  await page.locator('h1 [data-status=succeeded]').waitFor({ timeout: 60_000 });
  await page
    .getByTestId('record-summary')
    .filter({ hasText: /^succeeded after / })
    .waitFor();
  // What it cost, as the record says (estimate before the job, measured after the run).
  const costRecord = (await apiGet(`/v1/fine-tunes/${run.runId}`)).cost;
  expect(costRecord.actualUsd).toEqual(expect.any(Number));
  await expect(textMatching(page, 'record-cost', /actual/)).resolves.toMatch(
    /^cost: estimated \$[\d.]+ · actual \$[\d.]+ \(training \$[\d.]+, endpoint \$[\d.]+\)$/,
  );
  const recordMetrics = await page
    .locator('[data-testid=record-metrics] tr[data-metric]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-metric')));
  expect(recordMetrics).toEqual(expect.arrayContaining(['train_loss', 'eval_loss', 'perplexity']));
  await page.locator('[data-event-type="run.succeeded"]').waitFor();
  expect(await page.locator('[data-step][data-step-status=completed]').count()).toBe(11);
  const api = await apiGet(`/v1/fine-tunes/${run.runId}/metrics?metric=loss&limit=1000`);
  await page.locator(`[data-testid=loss-chart][data-points="${api.data[0].points.length}"]`).waitFor();
  const record = await apiGet(`/v1/fine-tunes/${run.runId}`);
  expect(record.status).toBe('succeeded');
  expect(JSON.parse((await page.getByTestId('record-json').textContent()) ?? '{}')).toMatchObject({
    id: run.runId,
    status: 'succeeded',
    metrics: record.metrics,
  });
  await shot(page, 'run-succeeded');
  // Back to the list: the run is shown succeeded there too. Filters: status and model on the server, text on
  // the page.
  await page.getByRole('link', { name: '← all runs' }).click();
  await row.locator('[data-status=succeeded]').waitFor();
  await page.getByTestId('filter-status').selectOption('running');
  await row.waitFor({ state: 'detached' });
  await page.getByTestId('filter-status').selectOption('succeeded');
  await row.waitFor();
  await page.getByTestId('filter-text').fill('no-such-run-anywhere');
  await row.waitFor({ state: 'detached' });
  await page.getByTestId('filter-text').fill(`ui-watch-${tag}`);
  await row.waitFor();
  await page.getByTestId('filter-model').fill('Phi-4');
  await row.waitFor({ state: 'detached' });
  await page.getByTestId('filter-model').fill('Phi-3-mini-4k-instruct');
  await row.waitFor();
  expect(page.url()).toContain(`status=succeeded&model=Phi-3-mini-4k-instruct&q=ui-watch-${tag}`);
  await shot(page, 'runs-list');
  process.stdout.write(
    `dashboard: job statuses seen ${statuses.join(' → ')}; loss points seen ${[...growing, ...later.slice(1)].join(', ')}; final ${api.data[0].points.length}\n`,
  );
  await page.context().close();
}, 180_000);

describe('a running run, a read-only key and a writer', () => {
  let runId = '';
  beforeAll(async () => {
    // This run's job trains long enough to be running still when the page cancels it, however loaded the
    // machine (the first test's run has ended by now).
    await admin.setClock({ jobPhases: { Queued: 8000, Running: 300_000 } } as Parameters<EmulatorAdmin['setClock']>[0]);
    const run = await h.client.start(
      { compute: { name: `ui-cancel-${tag}` }, training: { num_train_epochs: 2 } },
      { idempotencyKey: `ui-cancel-${tag}`, options: QUICK, dedupe: false, source: 'api' },
    );
    runId = run.runId;
  });

  test('a read-only key sees no enabled cancel button, and the server refuses its cancel anyway', async () => {
    const page = await openTab();
    await logIn(page, READER_KEY);
    await expect(page.locator('.scope').textContent()).resolves.toBe('read-only');
    await page.goto(`${base}/ui/#/runs/${encodeURIComponent(runId)}`);
    await watch(page, '[data-testid=job-status]', 'data-job-status', (s) => s.includes('Running'), 60_000);
    const cancel = page.getByTestId('cancel');
    await expect(cancel.isDisabled()).resolves.toBe(true);
    await expect(cancel.getAttribute('title')).resolves.toMatch(/lacks fine-tunes:write/);
    await expect(page.getByTestId('resume').isDisabled()).resolves.toBe(true);
    await expect(textMatching(page, 'read-only', /\S/)).resolves.toMatch(/ui-reader.*lacks fine-tunes:write/);
    await shot(page, 'run-read-only');

    // A page made to send it anyway (the button forced on) is refused by the server.
    await cancel.evaluate((b) => b.removeAttribute('disabled'));
    await cancel.click();
    await page.getByTestId('confirm-cancel').click();
    await expect(textMatching(page, 'action-error', /^refused/)).resolves.toMatch(
      /^refused \(403\): API key ui-reader lacks the scope fine-tunes:write/,
    );
    const direct = await page.evaluate(async (id) => {
      const key = sessionStorage.getItem('ftflow.apiKey') ?? '';
      const res = await fetch(`/v1/fine-tunes/${encodeURIComponent(id)}/cancel?wait=0`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
      });
      return res.status;
    }, runId);
    expect(direct).toBe(403);
    expect((await apiGet(`/v1/fine-tunes/${runId}`)).status).toBe('running');
    await page.context().close();
  }, 120_000);

  test('cancel from the page: the run ends cancelled, its Azure job cancelled and no endpoint left', async () => {
    const page = await openTab();
    await logIn(page, WRITER_KEY);
    await page.goto(`${base}/ui/#/runs/${encodeURIComponent(runId)}`);
    await page.getByTestId('run-view').waitFor();
    await page.locator('h1 [data-status=running]').waitFor();
    const cancel = page.getByTestId('cancel');
    await expect(cancel.isEnabled()).resolves.toBe(true);
    await cancel.click();
    await page.getByTestId('confirm-cancel').click();
    await page
      .getByTestId('action-notice')
      .filter({ hasText: /cancel/i })
      .waitFor();
    await page.locator('h1 [data-status=cancelled]').waitFor({ timeout: 60_000 });
    await page.locator('[data-event-type="run.cancelled"]').waitFor();
    await expect(page.getByTestId('resume').isEnabled()).resolves.toBe(true);
    await shot(page, 'run-cancelled');

    // Through the API and the emulator's own records: cancelled, the job cancelled, nothing left billing.
    const record = await apiGet(`/v1/fine-tunes/${runId}`);
    expect(record.status).toBe('cancelled');
    const resources = await admin.resources();
    const job = resources.jobs.find((j) => j.name === record.jobName);
    expect(job?.state).toBe('Canceled');
    expect(resources.endpoints.filter((e) => !e.deletedAt)).toEqual([]);
    await page.context().close();
  }, 120_000);
});
