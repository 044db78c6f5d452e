// A real HTTPS webhook receiver on loopback for the stack tests: the local stack's server certificate (issued
// by .data/certs/ca.pem, which the worker trusts through NODE_EXTRA_CA_CERTS), every request recorded with its
// raw body and the time it arrived, and an answer chosen per request by the test (a status, or no answer).
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** What to answer: a status code, or 'hold' (never answer; the connection stays open until closed). */
export type Answer = number | 'hold';

export interface WebhookReceiver {
  url(pathname: string): string;
  received: ReceivedWebhook[];
  /** The requests to one path. */
  at(pathname: string): ReceivedWebhook[];
  /** Decides each request's answer (default 200); `sameIdBefore`: earlier requests to its path with its webhook-id. */
  answer: (request: ReceivedWebhook, sameIdBefore: number) => Answer;
  /** Resolves when a request matching `test` has arrived. */
  waitFor(what: string, test: (r: ReceivedWebhook) => boolean, timeoutMs?: number): Promise<ReceivedWebhook>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const certs = path.join(PROJECT_ROOT, '.data', 'certs');
  const received: ReceivedWebhook[] = [];
  const waiters: { test: (r: ReceivedWebhook) => boolean; resolve: (r: ReceivedWebhook) => void }[] = [];
  const server = https.createServer(
    { cert: fs.readFileSync(path.join(certs, 'server.pem')), key: fs.readFileSync(path.join(certs, 'server-key.pem')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
        );
        const r: ReceivedWebhook = {
          path: req.url ?? '/',
          headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        const sameIdBefore = received.filter(
          (x) => x.path === r.path && x.headers['webhook-id'] === headers['webhook-id'],
        ).length;
        received.push(r);
        for (const w of [...waiters]) {
          if (w.test(r)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(r);
          }
        }
        const answer = receiver.answer(r, sameIdBefore);
        if (answer === 'hold') return;
        res.writeHead(answer, { 'content-type': 'text/plain' });
        res.end('receiver says hello (not to be stored)');
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const receiver: WebhookReceiver = {
    url: (pathname) => `https://127.0.0.1:${port}${pathname}`,
    received,
    at: (pathname) => received.filter((r) => r.path === pathname),
    answer: () => 200,
    waitFor(what, test, timeoutMs = 90_000) {
      const found = received.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver: no ${what} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          test,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/** The event type of a received delivery. */
export function typeOf(r: ReceivedWebhook): string {
  return (JSON.parse(r.body) as { type: string }).type;
}
