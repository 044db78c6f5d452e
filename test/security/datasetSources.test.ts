// Issue 13 items 6 and 7, below the workflow: what a dataset URL may reach (addresses judged after DNS
// resolution, on every redirect hop, the connection pinned to the checked address), what a failure
// says (the status code, never the server's text), and the connect, response and idle timeouts.
import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  AllowList,
  classifyAddress,
  fetchWithRetry,
  guardedFetch,
  httpByteSource,
  HttpStatusError,
  refusalBeforeLookup,
  SourceRefused,
  SourceUnreachable,
  type SourceAccessPolicy,
} from '../../src/dataset';
import { isLoopbackUrl, loadDatasetSourceSettings } from '../../src/dataset/sourceSettings';

const NAMES = {
  allowHosts: 'FTFLOW_DATASET_ALLOW_HOSTS',
  connectTimeout: 'FTFLOW_DATASET_CONNECT_TIMEOUT_SECONDS',
  responseTimeout: 'FTFLOW_DATASET_RESPONSE_TIMEOUT_SECONDS',
  idleTimeout: 'FTFLOW_DATASET_IDLE_TIMEOUT_SECONDS',
};

function policy(over: Partial<SourceAccessPolicy> = {}): SourceAccessPolicy {
  return {
    allowLoopback: false,
    allow: AllowList.EMPTY,
    timeouts: { connectMs: 1000, responseMs: 1000, idleMs: 1000 },
    maxRedirects: 5,
    names: NAMES,
    ...over,
  };
}

async function failureOf(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('address classes', () => {
  test.each([
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['64:ff9b::a00:1', 'private'], // NAT64 of 10.0.0.1
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });
});

describe('the operator allow list', () => {
  test('names, *.domains, addresses and CIDR blocks; a bad entry is refused', () => {
    const list = AllowList.parse('data.corp.example, *.lake.example 10.20.0.0/16 127.0.0.1 fd12::/48');
    expect(list.allowsHost('DATA.corp.example')).toBe(true);
    expect(list.allowsHost('other.corp.example')).toBe(false);
    expect(list.allowsHost('a.b.lake.example')).toBe(true);
    expect(list.allowsHost('lake.example')).toBe(false);
    expect(list.allowsHost('10.20.3.4')).toBe(true);
    expect(list.allowsAddress('10.21.0.1')).toBe(false);
    expect(list.allowsAddress('127.0.0.1')).toBe(true);
    expect(list.allowsAddress('127.0.0.2')).toBe(false);
    expect(list.allowsAddress('fd12::9')).toBe(true);
    expect(list.allowsAddress('::ffff:10.20.0.9')).toBe(true);
    expect(() => AllowList.parse('10.0.0.0/40')).toThrow(/prefix length/);
    expect(() => AllowList.parse('http://host/')).toThrow(/not a host name/);
  });

  test('settings from the environment: local mode from a loopback ARM endpoint, defaults, bad values named', () => {
    expect(isLoopbackUrl('https://127.0.0.1:8443')).toBe(true);
    expect(isLoopbackUrl('https://localhost:8443/')).toBe(true);
    expect(isLoopbackUrl('https://management.azure.com')).toBe(false);
    const prod = loadDatasetSourceSettings({});
    expect(prod.localMode).toBe(false);
    expect(prod.dataRoots).toBeUndefined();
    expect(prod.access.timeouts).toEqual({ connectMs: 10_000, responseMs: 30_000, idleMs: 60_000 });
    const local = loadDatasetSourceSettings({ FTFLOW_ARM_ENDPOINT: 'https://127.0.0.1:9443' });
    expect(local.localMode).toBe(true);
    expect(local.access.allowLoopback).toBe(true);
    expect(local.dataRoots?.origin).toBe('local-default');
    const set = loadDatasetSourceSettings({
      FTFLOW_DATA_ROOT: '/srv/data:/mnt/shared',
      FTFLOW_DATASET_ALLOW_HOSTS: '10.0.0.0/8',
      FTFLOW_DATASET_RESPONSE_TIMEOUT_SECONDS: '2.5',
    });
    expect(set.dataRoots).toMatchObject({ dirs: ['/srv/data', '/mnt/shared'], origin: 'env' });
    expect(set.access.allow.allowsAddress('10.9.9.9')).toBe(true);
    expect(set.access.timeouts.responseMs).toBe(2500);
    expect(() => loadDatasetSourceSettings({ FTFLOW_DATA_ROOT: 'data' })).toThrow(
      /FTFLOW_DATA_ROOT must list absolute/,
    );
    expect(() => loadDatasetSourceSettings({ FTFLOW_DATASET_ALLOW_HOSTS: 'a b/c' })).toThrow(
      /FTFLOW_DATASET_ALLOW_HOSTS: "b\/c"/,
    );
    expect(() => loadDatasetSourceSettings({ FTFLOW_DATASET_IDLE_TIMEOUT_SECONDS: '0' })).toThrow(
      /FTFLOW_DATASET_IDLE_TIMEOUT_SECONDS must be/,
    );
  });
});

describe('what a URL may reach before any lookup', () => {
  const refusal = (url: string, p = policy()) => refusalBeforeLookup(new URL(url), p);

  test.each([
    ['http://93.184.215.14/x.jsonl', /plain http is not accepted/],
    ['https://127.0.0.1/x.jsonl', /loopback/],
    ['https://[::1]/x.jsonl', /loopback/],
    ['https://10.0.0.7/x.jsonl', /private network/],
    ['https://2130706433/x.jsonl', /loopback/], // 127.0.0.1 as one number
    ['https://0x7f.1/x.jsonl', /loopback/],
    ['https://169.254.169.254/latest/x.jsonl', /metadata/],
    ['https://[fd00:ec2::254]/x.jsonl', /metadata/],
    ['https://metadata.google.internal/x.jsonl', /metadata service/],
    ['https://[::ffff:192.168.0.1]/x.jsonl', /private network/],
  ])('%s is refused', (url, why) => {
    const text = refusal(url);
    expect(text).toMatch(why);
    expect(text).toContain('FTFLOW_DATASET_ALLOW_HOSTS');
  });

  test('public https passes; loopback only in local mode; the allow list opens hosts, blocks and plain http', () => {
    expect(refusal('https://93.184.215.14/x.jsonl')).toBeUndefined();
    expect(refusal('https://data.example.org/x.jsonl')).toBeUndefined(); // judged again after DNS
    const local = policy({ allowLoopback: true });
    expect(refusal('http://127.0.0.1:8080/x.jsonl', local)).toBeUndefined();
    expect(refusal('http://localhost:8080/x.jsonl', local)).toBeUndefined();
    expect(refusal('https://10.0.0.7/x.jsonl', local)).toMatch(/private/);
    expect(refusal('http://data.example.org/x.jsonl', local)).toBeUndefined(); // only loopback answers will do
    expect(refusal('http://data.example.org/x.jsonl')).toMatch(/plain http/);
    const allowed = policy({ allow: AllowList.parse('10.0.0.0/8 files.corp.example') });
    expect(refusal('http://10.0.0.7/x.jsonl', allowed)).toBeUndefined();
    expect(refusal('http://files.corp.example/x.jsonl', allowed)).toBeUndefined();
    expect(refusal('ftp://example.org/x.jsonl')).toMatch(/ftp: URLs are not read: give an https URL/);
  });
});

describe('guardedFetch over real sockets', () => {
  let server: http.Server;
  let base: string;
  let port: number;
  const hits: { path: string; host?: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push({ path: req.url ?? '', ...(req.headers.host ? { host: req.headers.host } : {}) });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/ok.jsonl') return res.end('{"a":1}\n');
      if (url.pathname === '/to-private') return res.writeHead(302, { location: 'http://10.0.0.1/x.jsonl' }).end();
      if (url.pathname === '/to-metadata')
        return res.writeHead(307, { location: 'https://169.254.169.254/latest/meta-data' }).end();
      if (url.pathname === '/to-ok') return res.writeHead(301, { location: '/ok.jsonl' }).end();
      if (url.pathname === '/loop') return res.writeHead(302, { location: '/loop' }).end();
      if (url.pathname === '/stall-body') {
        res.writeHead(200, { 'content-type': 'application/jsonl' });
        res.write('{"a":1}\n');
        return; // and nothing more
      }
      if (url.pathname === '/denied')
        return res
          .writeHead(403, { 'x-error-code': 'SecretInternalCode', 'x-error-message': 'db01.internal:5432 refused' })
          .end('internal stack trace at db01.internal');
      if (url.pathname === '/hang') return; // never answers
      res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const local = () => policy({ allowLoopback: true });

  test('loopback is refused outside local mode, and reached in it', async () => {
    const refused = await failureOf(guardedFetch(policy())(`${base}/ok.jsonl`));
    expect(refused).toBeInstanceOf(SourceRefused);
    const res = await guardedFetch(local())(`${base}/ok.jsonl`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"a":1}\n');
  });

  test('a name that resolves to loopback is refused after the lookup (every address is checked)', async () => {
    const err = await failureOf(guardedFetch(policy())(`http://localhost:${port}/ok.jsonl`));
    expect(err).toBeInstanceOf(SourceRefused);
    const https = await failureOf(guardedFetch(policy())(`https://localhost:${port}/ok.jsonl`));
    expect(https.message).toMatch(/localhost resolves to a loopback address/);
  });

  test('the connection goes to the address that was checked: no second lookup can swap it (DNS rebinding)', async () => {
    // The resolver answers loopback (allowed here) for the check; a second lookup would answer a
    // private address. The socket must use the first answer and never ask again.
    const answers = [[{ address: '127.0.0.1', family: 4 }], [{ address: '10.0.0.1', family: 4 }]];
    const lookup = jest
      .spyOn(dnsPromises, 'lookup')
      .mockImplementation((async () => answers.shift() ?? []) as unknown as typeof dnsPromises.lookup);
    const callbackLookup = jest.spyOn(dns, 'lookup');
    try {
      const before = hits.length;
      const res = await guardedFetch(local())(`http://rebind.example:${port}/ok.jsonl`);
      expect(await res.text()).toBe('{"a":1}\n');
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(callbackLookup).not.toHaveBeenCalled();
      expect(hits.slice(before)).toEqual([{ path: '/ok.jsonl', host: `rebind.example:${port}` }]);

      // and when any of the answers is refused, nothing is connected at all
      answers.splice(0, answers.length, [
        { address: '127.0.0.1', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ]);
      const err = await failureOf(guardedFetch(local())(`http://rebind.example:${port}/ok.jsonl`));
      expect(err.message).toMatch(/rebind\.example resolves to a cloud metadata service's address/);
      expect(hits.length).toBe(before + 1);
    } finally {
      lookup.mockRestore();
      callbackLookup.mockRestore();
    }
  });

  test('plain http in local mode: only when every address the name resolves to is loopback', async () => {
    const lookup = jest.spyOn(dnsPromises, 'lookup').mockImplementation((async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '93.184.215.14', family: 4 },
    ]) as unknown as typeof dnsPromises.lookup);
    try {
      const err = await failureOf(guardedFetch(local())(`http://mixed.example:${port}/ok.jsonl`));
      expect(err).toBeInstanceOf(SourceRefused);
      expect(err.message).toMatch(/plain http is not accepted/);
    } finally {
      lookup.mockRestore();
    }
  });

  test('every redirect hop is checked; a redirect chain is capped', async () => {
    const f = guardedFetch(local());
    expect((await failureOf(f(`${base}/to-private`))).message).toMatch(/private network address/);
    expect((await failureOf(f(`${base}/to-metadata`))).message).toMatch(/metadata/);
    const ok = await f(`${base}/to-ok`);
    expect(await ok.text()).toBe('{"a":1}\n');
    const loop = await failureOf(f(`${base}/loop`));
    expect(loop).toBeInstanceOf(SourceRefused);
    expect(loop.message).toMatch(/redirected more than 5 times/);
  });

  test('an error answer is reported by its status only: no header or body text of the server', async () => {
    const source = httpByteSource(`${base}/denied`, {
      fetch: guardedFetch(local()),
    });
    const err = await failureOf(source.info());
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.message).toMatch(/HTTP 403/);
    expect(err.message).not.toMatch(/SecretInternalCode|db01|5432|stack trace/);
  });

  test('a server that accepts and never answers: response timeout, two attempts, then SourceUnreachable', async () => {
    const t0 = Date.now();
    const err = await failureOf(fetchWithRetry(`${base}/hang`, {}, { fetch: guardedFetch(local()) }, 'reading /hang'));
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(SourceUnreachable);
    expect(err.message).toBe(
      'reading /hang: the server sent no response within 1 s (FTFLOW_DATASET_RESPONSE_TIMEOUT_SECONDS) (2 attempts)',
    );
    expect(ms).toBeGreaterThanOrEqual(2000);
    expect(ms).toBeLessThan(5000);
  });

  test('a body that stops: the idle timeout fails the read (not retried: the server answered, then hung)', async () => {
    const res = await guardedFetch(local())(`${base}/stall-body`);
    expect(res.status).toBe(200);
    const err = await failureOf(res.text());
    expect(err).toBeInstanceOf(SourceUnreachable);
    expect(err.message).toMatch(/stopped sending data within 1 s \(FTFLOW_DATASET_IDLE_TIMEOUT_SECONDS\)/);
    expect((err as SourceUnreachable).retryable).toBe(false);
  });

  test('TLS that never completes: the connect timeout', async () => {
    const silent = net.createServer(() => undefined); // accepts, never speaks TLS
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const sockets = new Set<net.Socket>();
    silent.on('connection', (s) => sockets.add(s));
    try {
      const t0 = Date.now();
      const err = await failureOf(
        guardedFetch(local())(`https://127.0.0.1:${(silent.address() as AddressInfo).port}/x.jsonl`),
      );
      expect(err).toBeInstanceOf(SourceUnreachable);
      expect(err.message).toMatch(/could not connect within 1 s \(FTFLOW_DATASET_CONNECT_TIMEOUT_SECONDS\)/);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('a closed port: connection refused, retried by the reader, then SourceUnreachable', async () => {
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const t0 = Date.now();
    const err = await failureOf(
      fetchWithRetry(`http://127.0.0.1:${closedPort}/x.jsonl`, {}, { fetch: guardedFetch(local()) }, 'reading x'),
    );
    expect(err).toBeInstanceOf(SourceUnreachable);
    expect(err.message).toBe('reading x: the connection was refused (4 attempts)');
    expect((err as SourceUnreachable).retryable).toBe(false); // final: the reader's attempts are spent
    expect(Date.now() - t0).toBeLessThan(6000);
  });

  test('a name that does not resolve is not retried', async () => {
    const err = await failureOf(
      fetchWithRetry('https://no-such-host.invalid/x.jsonl', {}, { fetch: guardedFetch(policy()) }, 'reading x'),
    );
    expect(err).toBeInstanceOf(SourceUnreachable);
    expect(err.message).toMatch(/^reading x: the host name no-such-host\.invalid does not resolve \(check the URL\)$/);
  });
});
