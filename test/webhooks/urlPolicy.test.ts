// Where a webhook may go: https to public addresses, judged on the URL and again on every address its host
// resolves to (DNS is played here by an injected resolver), plain http only to loopback in local mode, and the
// operator's allowances. A delivery attempt re-checks and connects only to the checked addresses, so a host
// that resolved to a public address at registration and to a private one later (DNS rebinding) is refused.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from '../../src/webhooks/deliver';
import {
  checkWebhookUrl,
  webhookUrlPolicy,
  webhookUrlRefusal,
  type ResolvedAddress,
  type Resolver,
} from '../../src/webhooks/urlPolicy';
import { loadWebhookSettings } from '../../src/webhooks/settings';

const STRICT = webhookUrlPolicy(false, '');
const LOCAL = webhookUrlPolicy(true, '');

const answers =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('the URL alone', () => {
  test.each([
    ['http://hooks.example.com/x', /must be https/],
    ['ftp://hooks.example.com/x', /must be an https URL \(got ftp\)/],
    ['https://user:pw@hooks.example.com/x', /user name or password/],
    ['https://hooks.example.com/x#frag', /fragment/],
    ['hooks.example.com/x', /absolute URL/],
    [`https://hooks.example.com/${'x'.repeat(2100)}`, /at most 2048/],
    ['https://metadata.google.internal/x', /cloud metadata service/],
  ])('%s is refused', (url, message) => {
    expect(webhookUrlRefusal(url, STRICT)).toMatch(message);
  });

  test.each([
    '10.0.0.1',
    '10.255.1.2',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.1.1',
    '169.254.1.1',
    '169.254.169.254',
    '127.0.0.1',
    '127.8.9.10',
    '[::1]',
    '[fd00::1]',
    '[fd12:3456::1]',
    '[fe80::1]',
    '[::ffff:10.0.0.1]',
    '0.0.0.0',
  ])('https://%s is refused: a private, link-local, loopback or metadata address', (host) => {
    expect(webhookUrlRefusal(`https://${host}/hook`, STRICT)).toMatch(
      /is an? (private network|link-local|loopback|cloud metadata|unspecified)/,
    );
  });

  test('a public address is fine; 172.32.0.1 is outside 172.16/12', () => {
    expect(webhookUrlRefusal('https://93.184.216.34/hook', STRICT)).toBeUndefined();
    expect(webhookUrlRefusal('https://172.32.0.1/hook', STRICT)).toBeUndefined();
  });

  test('local mode admits loopback, over http too; nothing else private', () => {
    expect(webhookUrlRefusal('https://127.0.0.1:9000/hook', LOCAL)).toBeUndefined();
    expect(webhookUrlRefusal('http://127.0.0.1:9000/hook', LOCAL)).toBeUndefined();
    expect(webhookUrlRefusal('http://[::1]:9000/hook', LOCAL)).toBeUndefined();
    expect(webhookUrlRefusal('https://10.0.0.1/hook', LOCAL)).toMatch(/private network/);
    expect(webhookUrlRefusal('http://93.184.216.34/hook', LOCAL)).toMatch(/must be https/);
  });

  test('FTFLOW_WEBHOOK_ALLOW_PRIVATE lets the operator allow addresses, blocks and hosts', () => {
    const policy = webhookUrlPolicy(false, '10.1.0.0/16, hooks.corp.internal');
    expect(webhookUrlRefusal('https://10.1.2.3/hook', policy)).toBeUndefined();
    expect(webhookUrlRefusal('https://10.2.0.1/hook', policy)).toMatch(/FTFLOW_WEBHOOK_ALLOW_PRIVATE/);
    expect(() => webhookUrlPolicy(false, '10.0.0.0/99')).toThrow(/FTFLOW_WEBHOOK_ALLOW_PRIVATE/);
  });
});

describe('after DNS', () => {
  test('every address a name resolves to is checked', async () => {
    expect(await checkWebhookUrl('https://hooks.example.com/x', STRICT, answers('93.184.216.34'))).toMatchObject({
      ok: true,
      addresses: [{ address: '93.184.216.34' }],
    });
    const mixed = await checkWebhookUrl('https://hooks.example.com/x', STRICT, answers('93.184.216.34', '10.0.0.7'));
    expect(mixed).toMatchObject({ ok: false, retryable: false });
    expect(mixed.ok ? '' : mixed.refusal).toMatch(
      /resolves to an address that is a private network address \(10\.0\.0\.7\)/,
    );
    const meta = await checkWebhookUrl('https://hooks.example.com/x', STRICT, answers('169.254.169.254'));
    expect(meta.ok ? '' : meta.refusal).toMatch(/cloud metadata/);
  });

  test('a name that does not resolve now is not refused for good', async () => {
    const failing: Resolver = async () => {
      throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect(await checkWebhookUrl('https://nowhere.example/x', STRICT, failing)).toMatchObject({
      ok: false,
      retryable: true,
    });
  });

  test('plain http to a name: only when it resolves to loopback in local mode', async () => {
    expect((await checkWebhookUrl('http://localhost:9/x', LOCAL, answers('127.0.0.1'))).ok).toBe(true);
    expect((await checkWebhookUrl('http://sneaky.example/x', LOCAL, answers('93.184.216.34'))).ok).toBe(false);
  });
});

describe('a delivery attempt', () => {
  let server: http.Server;
  let port: number;
  let hits = 0;
  let lastBody = '';
  let status = 200;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        lastBody = body;
        if (status === 302) res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
        else res.writeHead(status);
        res.end('a body the service must not keep');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (url: string, policy = LOCAL, resolve?: Resolver) =>
    postWebhook({
      url,
      headers: { 'webhook-id': 'msg_1' },
      body: '{"a":1}',
      policy,
      timeoutMs: 2000,
      resolve,
      signatures: 1,
    });

  test('2xx is delivered: the status and the duration are kept, not the body', async () => {
    status = 204;
    const attempt = await post(`http://127.0.0.1:${port}/hook`);
    expect(attempt).toMatchObject({ outcome: 'delivered', status: 204, signatures: 1 });
    expect(JSON.stringify(attempt)).not.toContain('must not keep');
    expect(lastBody).toBe('{"a":1}');
  });

  test('a 500 fails (tried again later); a redirect is not followed', async () => {
    status = 500;
    expect(await post(`http://127.0.0.1:${port}/hook`)).toMatchObject({ outcome: 'failed', status: 500 });
    status = 302;
    const before = hits;
    expect(await post(`http://127.0.0.1:${port}/hook`)).toMatchObject({
      outcome: 'failed',
      status: 302,
      error: expect.stringMatching(/redirects are not followed/),
    });
    expect(hits).toBe(before + 1);
  });

  test('DNS rebinding: a name that now resolves to a private address is refused, and nothing is sent', async () => {
    let call = 0;
    const rebinding: Resolver = async () => [{ address: call++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    expect((await checkWebhookUrl(`https://hooks.example.com:${port}/x`, STRICT, rebinding)).ok).toBe(true);
    const before = hits;
    const attempt = await post(`https://hooks.example.com:${port}/x`, STRICT, rebinding);
    expect(attempt).toMatchObject({ outcome: 'refused', error: expect.stringMatching(/loopback/) });
    expect(hits).toBe(before);
  });

  test('the connection goes to the checked address, not to a second lookup', async () => {
    status = 200;
    const pinned: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const attempt = await post(`http://rebind.test:${port}/x`, LOCAL, pinned);
    expect(attempt).toMatchObject({ outcome: 'delivered', status: 200 });
  });

  test('a receiver that does not answer in time fails the attempt', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    try {
      const attempt = await postWebhook({
        url: `http://127.0.0.1:${silentPort}/x`,
        headers: {},
        body: '{}',
        policy: LOCAL,
        timeoutMs: 300,
        signatures: 1,
      });
      expect(attempt).toMatchObject({ outcome: 'failed', error: 'no answer within 0.3 s' });
      expect(attempt.durationMs).toBeGreaterThanOrEqual(290);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('settings', () => {
  test('defaults, and bad values named', () => {
    const s = loadWebhookSettings({});
    expect(s).toMatchObject({ attemptTimeoutMs: 15_000, maxEndpoints: 20 });
    expect(s.secrets).toBeUndefined();
    expect(s.policy.allowLoopback).toBe(false);
    expect(loadWebhookSettings({ FTFLOW_ARM_ENDPOINT: 'https://127.0.0.1:8443' }).policy.allowLoopback).toBe(true);
    expect(() => loadWebhookSettings({ FTFLOW_WEBHOOK_TIMEOUT_SECONDS: '0' })).toThrow(
      /FTFLOW_WEBHOOK_TIMEOUT_SECONDS must be a number of seconds from 1 to 120/,
    );
    expect(() => loadWebhookSettings({ FTFLOW_WEBHOOK_RETRY_HOURS: '100' })).toThrow(/FTFLOW_WEBHOOK_RETRY_HOURS/);
  });
});
