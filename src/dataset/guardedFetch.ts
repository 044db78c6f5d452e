// fetch for the URLs a run spec gives (dataset.files): the same Response as global fetch, but
//   - https only; plain http only to allow-listed hosts, or to loopback in local mode;
//   - the host name is resolved here, every address it resolves to is checked (no loopback, private,
//     link-local, metadata or other non-public address unless the operator allows it), and the
//     connection goes to exactly the checked addresses (a lookup hook hands them to the socket), so a
//     second, different DNS answer (rebinding) cannot swap them;
//   - redirects are followed here, at most `maxRedirects`, each hop checked like the first URL;
//   - a connect timeout (DNS + TCP + TLS), a response timeout (request sent → headers) and an idle
//     timeout (between body chunks, counted only while the reader waits for data).
// Failures are SourceRefused (the spec must change) or SourceUnreachable (the server cannot be
// reached or stopped answering); their messages never carry what the server sent.
import { lookup as dnsLookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { ADDRESS_CLASS_TEXT, classifyAddress, isMetadataHostName, type AllowList } from './addresses';
import { SourceRefused, SourceUnreachable } from './util';

/** A fetch the dataset readers can be given (global fetch fits). */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface FetchTimeouts {
  /** DNS lookup, then TCP and TLS connect. */
  connectMs: number;
  /** From the request being sent to the response headers. */
  responseMs: number;
  /** Between two chunks of the body, while the reader waits for one. */
  idleMs: number;
}

export const DEFAULT_FETCH_TIMEOUTS: FetchTimeouts = { connectMs: 10_000, responseMs: 30_000, idleMs: 60_000 };

export interface SourceAccessPolicy {
  /** Loopback addresses may be reached, over http or https (local mode). */
  allowLoopback: boolean;
  /** What the operator allows whatever its address (and over http). */
  allow: AllowList;
  timeouts: FetchTimeouts;
  maxRedirects: number;
  /** The environment variables behind the settings, for messages that say what to change. */
  names: { allowHosts: string; connectTimeout: string; responseTimeout: string; idleTimeout: string };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([204, 205, 304]);

interface Resolved {
  address: string;
  family: number;
}

function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function allowHint(policy: SourceAccessPolicy): string {
  return `serve the file from a public https URL or copy it to the workspace datastore (azureml://datastores/<name>/paths/<path>); an operator can allow a host in ${policy.names.allowHosts}`;
}

/**
 * What can be judged without a DNS lookup: the scheme, credentials, metadata host names, IP literals,
 * and plain http to a name that only the allow list could permit. Undefined: nothing refused yet.
 * `who` names the host in messages: the URL's own host, or a neutral phrase for a redirect target
 * (the server chose that one, and its text does not go into messages).
 */
export function refusalBeforeLookup(url: URL, policy: SourceAccessPolicy, who = bareHost(url)): string | undefined {
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `${url.protocol} URLs are not read: give an https URL`;
  if (url.username || url.password) return 'the URL carries a user name or password: serve the file without them';
  const host = bareHost(url);
  if (policy.allow.allowsHost(host)) return undefined;
  if (isMetadataHostName(host)) return `${who} is a cloud metadata service: ${allowHint(policy)}`;
  if (isIP(host) !== 0) {
    const cls = classifyAddress(host);
    if (cls === 'loopback' && policy.allowLoopback) return undefined;
    if (cls !== 'public') return `${who} is ${ADDRESS_CLASS_TEXT[cls]}: ${allowHint(policy)}`;
  }
  if (url.protocol === 'http:') {
    // Plain http only to what is trusted: allow-listed addresses, or loopback in local mode. A name is
    // judged by what it resolves to, unless nothing but a host-name entry could make it trusted.
    const trusted =
      isIP(host) !== 0
        ? policy.allow.allowsAddress(host) || (policy.allowLoopback && classifyAddress(host) === 'loopback')
        : policy.allowLoopback || policy.allow.hasAddresses;
    if (!trusted) return `plain http is not accepted for dataset files: give an https URL (${allowHint(policy)})`;
  }
  return undefined;
}

/** Refusal for the addresses a host name resolved to (every one is checked), or undefined. */
function refusalAfterLookup(
  url: URL,
  addresses: readonly Resolved[],
  policy: SourceAccessPolicy,
  who: string,
): string | undefined {
  const host = bareHost(url);
  if (policy.allow.allowsHost(host)) return undefined;
  if (addresses.length === 0) return `${who} resolves to no address`;
  for (const { address } of addresses) {
    if (policy.allow.allowsAddress(address)) continue;
    const cls = classifyAddress(address);
    if (cls === 'public') continue;
    if (cls === 'loopback' && policy.allowLoopback) continue;
    return `${who} resolves to ${ADDRESS_CLASS_TEXT[cls]}: ${allowHint(policy)}`;
  }
  if (url.protocol === 'http:') {
    const trusted = addresses.every(
      ({ address }) =>
        policy.allow.allowsAddress(address) || (policy.allowLoopback && classifyAddress(address) === 'loopback'),
    );
    if (!trusted) return `plain http is not accepted for dataset files: give an https URL (${allowHint(policy)})`;
  }
  return undefined;
}

function timeoutError(policy: SourceAccessPolicy, phase: 'connect' | 'response' | 'idle'): SourceUnreachable {
  const t = policy.timeouts;
  const [ms, name, what] =
    phase === 'connect'
      ? [t.connectMs, policy.names.connectTimeout, 'could not connect']
      : phase === 'response'
        ? [t.responseMs, policy.names.responseTimeout, 'sent no response']
        : [t.idleMs, policy.names.idleTimeout, 'stopped sending data'];
  return new SourceUnreachable(`the server ${what} within ${ms / 1000} s (${name})`, 'timeout', phase !== 'idle');
}

async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves and checks the URL's host; the addresses the connection may use. */
async function resolveChecked(url: URL, policy: SourceAccessPolicy, who: string): Promise<Resolved[]> {
  const host = bareHost(url);
  const version = isIP(host);
  if (version !== 0) return [{ address: host, family: version }];
  let found: Resolved[];
  try {
    found = await withTimeout(dnsLookup(host, { all: true, verbatim: true }), policy.timeouts.connectMs, () =>
      timeoutError(policy, 'connect'),
    );
  } catch (err) {
    if (err instanceof SourceUnreachable) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'EAI_AGAIN')
      throw new SourceUnreachable(`the host name ${who} could not be resolved now`, 'dns', true);
    throw new SourceUnreachable(`the host name ${who} does not resolve (check the URL)`, 'dns', false);
  }
  const refusal = refusalAfterLookup(url, found, policy, who);
  if (refusal) throw new SourceRefused(refusal);
  return found;
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

/** A socket-level error as a SourceUnreachable that says what happened, not what the server sent. */
function networkError(err: unknown): Error {
  if (err instanceof SourceUnreachable || err instanceof SourceRefused) return err;
  const e = err as { code?: string; name?: string };
  if (e.name === 'AbortError') return err as Error;
  const code = e.code ?? '';
  if (code === 'ECONNREFUSED') return new SourceUnreachable('the connection was refused', 'refused', true);
  if (TLS_CODES.test(code))
    return new SourceUnreachable(`the server's TLS certificate is not valid for it (${code})`, 'tls', false);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return new SourceUnreachable('there is no route to the server', 'network', true);
  return new SourceUnreachable(`the connection failed (${code || 'closed'})`, 'network', true);
}

interface Init {
  method: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

/** One request to a checked address; resolves with the response head (the body is not read yet). */
async function requestOnce(
  url: URL,
  init: Init,
  policy: SourceAccessPolicy,
  who: string,
): Promise<http.IncomingMessage> {
  const refusal = refusalBeforeLookup(url, policy, who);
  if (refusal) throw new SourceRefused(refusal);
  const addresses = await resolveChecked(url, policy, who);
  // The socket connects to the addresses checked above, never to a fresh lookup's answer.
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
  };
  const secure = url.protocol === 'https:';
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    const options: https.RequestOptions = {
      method: init.method,
      headers: init.headers,
      agent: false,
      lookup,
      ...(init.signal ? { signal: init.signal } : {}),
    };
    const req = (secure ? https : http).request(url, options);
    let timer: NodeJS.Timeout | undefined = setTimeout(
      () => req.destroy(timeoutError(policy, 'connect')),
      policy.timeouts.connectMs,
    );
    const connected = () => {
      clearTimeout(timer);
      timer = setTimeout(() => req.destroy(timeoutError(policy, 'response')), policy.timeouts.responseMs);
    };
    req.once('socket', (socket) => {
      if (!socket.connecting && (!secure || (socket as { encrypted?: boolean }).encrypted)) connected();
      else socket.once(secure ? 'secureConnect' : 'connect', connected);
    });
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(networkError(err));
    });
    req.once('close', () => clearTimeout(timer));
    req.end();
  });
}

/** The body, chunk by chunk; waiting longer than the idle timeout for the next chunk fails it. */
async function* timedBody(res: http.IncomingMessage, policy: SourceAccessPolicy): AsyncGenerator<Uint8Array> {
  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await withTimeout(chunks.next(), policy.timeouts.idleMs, () => timeoutError(policy, 'idle'));
      } catch (err) {
        throw networkError(err);
      }
      if (next.done) return;
      yield new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    }
  } finally {
    res.destroy();
  }
}

/** A pull-driven web stream over the body: nothing is read before the consumer asks for it. */
function webStream(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

function headersOf(res: http.IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      try {
        headers.append(name, v);
      } catch {
        // a header value fetch would not accept either: leave it out
      }
    }
  }
  return headers;
}

function toResponse(res: http.IncomingMessage, method: string, policy: SourceAccessPolicy): Response {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 599) {
    res.destroy();
    throw new SourceUnreachable(`the server answered with an invalid status (${status})`, 'network', true);
  }
  const noBody = method === 'HEAD' || NULL_BODY.has(status);
  if (noBody) res.destroy();
  const body = noBody ? null : webStream(timedBody(res, policy));
  return new Response(body, { status, headers: headersOf(res) });
}

function initOf(init: RequestInit | undefined): Init {
  const method = (init?.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') throw new TypeError(`guardedFetch reads only (GET, HEAD), not ${method}`);
  const headers: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, name) => {
    headers[name] = value;
  });
  return { method, headers, ...(init?.signal ? { signal: init.signal } : {}) };
}

/** A fetch that enforces `policy` on every request and every redirect hop (see the top of this file). */
export function guardedFetch(policy: SourceAccessPolicy): FetchLike {
  return async (input, init) => {
    const request = initOf(init);
    let url = new URL(input);
    for (let hop = 0; ; hop++) {
      const who = hop === 0 ? bareHost(url) : `the URL it redirects to (redirect ${hop})`;
      const res = await requestOnce(url, request, policy, who);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (!REDIRECTS.has(status) || location === undefined) return toResponse(res, request.method, policy);
      res.destroy();
      if (hop >= policy.maxRedirects)
        throw new SourceRefused(
          `the server redirected more than ${policy.maxRedirects} times: give the file's final URL`,
        );
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new SourceRefused('the server redirected to an invalid URL');
      }
      if (next.origin !== url.origin) delete request.headers['authorization'];
      url = next;
    }
  };
}
