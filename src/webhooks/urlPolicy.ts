// Where a webhook may be sent. A webhook URL is user input that the worker requests from inside the
// operator's network, so it is judged twice: when it is registered (or a run naming it starts), and before
// every delivery, after resolving its host name, with the connection pinned to the addresses that were
// checked (a second DNS answer cannot swap them: DNS rebinding). https only; plain http only to loopback in
// local mode. Loopback, private, link-local, metadata and other non-public addresses (src/dataset/addresses.ts:
// 10/8, 172.16/12, 192.168/16, 100.64/10, 127/8, 169.254/16 with 169.254.169.254, fc00::/7, fe80::/10, ::1,
// IPv4 carried in IPv6, ...) are refused unless the operator allows them (FTFLOW_WEBHOOK_ALLOW_PRIVATE:
// addresses, CIDR blocks or host names); loopback is allowed in local mode (the worker's ARM endpoint on
// loopback: the local stack), as for dataset URLs.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ADDRESS_CLASS_TEXT, AllowList, classifyAddress, isMetadataHostName } from '../dataset/addresses';
import { webhookUrlShapeProblem } from '../runSpec/notifications';

export const WEBHOOK_ALLOW_PRIVATE_ENV = 'FTFLOW_WEBHOOK_ALLOW_PRIVATE';

export interface WebhookUrlPolicy {
  /** Loopback addresses may be reached, over http or https (local mode). */
  allowLoopback: boolean;
  /** What the operator allows whatever its address class. */
  allow: AllowList;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (dns.lookup's contract); tests inject their own answers. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

const HINT = `webhooks go to public https addresses; an operator can allow an address, block or host in ${WEBHOOK_ALLOW_PRIVATE_ENV}`;

function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** Whether one resolved (or literal) address may be reached, and why not. */
function addressRefusal(address: string, policy: WebhookUrlPolicy, who: string): string | undefined {
  if (policy.allow.allowsAddress(address)) return undefined;
  const cls = classifyAddress(address);
  if (cls === 'public') return undefined;
  if (cls === 'loopback' && policy.allowLoopback) return undefined;
  return `${who} is ${ADDRESS_CLASS_TEXT[cls]} (${address}): ${HINT}`;
}

/** A plain-http URL is accepted only when every address it reaches is loopback in local mode (or allowed). */
function plainHttpTrusted(addresses: readonly string[], policy: WebhookUrlPolicy): boolean {
  return addresses.every(
    (a) => policy.allow.allowsAddress(a) || (policy.allowLoopback && classifyAddress(a) === 'loopback'),
  );
}

const HTTP_REFUSED = 'url must be https (plain http is accepted only to loopback while running locally)';

/**
 * What can be judged without DNS: the URL's shape, the scheme, metadata host names, IP literals. Undefined:
 * nothing refused yet (a host name still has to be resolved).
 */
export function webhookUrlRefusal(text: string, policy: WebhookUrlPolicy): string | undefined {
  const shape = webhookUrlShapeProblem(text);
  if (shape) return `url ${shape}`;
  const url = new URL(text);
  const host = bareHost(url);
  // What the operator names is reached whatever it resolves to, over https or http.
  if (policy.allow.allowsHost(host)) return undefined;
  if (isMetadataHostName(host)) return `url's host ${host} is a cloud metadata service: ${HINT}`;
  if (isIP(host) !== 0) {
    const refusal = addressRefusal(host, policy, `url's host ${host}`);
    if (refusal) return refusal;
    if (url.protocol === 'http:' && !plainHttpTrusted([host], policy)) return HTTP_REFUSED;
    return undefined;
  }
  if (url.protocol === 'http:' && !policy.allowLoopback && !policy.allow.hasAddresses) return HTTP_REFUSED;
  return undefined;
}

export type UrlCheck =
  { ok: true; url: URL; addresses: ResolvedAddress[] } | { ok: false; refusal: string; retryable: boolean };

/**
 * The full check: the URL, then every address its host resolves to. `ok` carries the addresses a connection
 * must use. A name that does not resolve now is not refused for good (retryable): at registration it is
 * refused, at delivery time the attempt fails and is tried again later.
 */
export async function checkWebhookUrl(
  text: string,
  policy: WebhookUrlPolicy,
  resolve: Resolver = systemResolver,
  timeoutMs = 10_000,
): Promise<UrlCheck> {
  const refusal = webhookUrlRefusal(text, policy);
  if (refusal) return { ok: false, refusal, retryable: false };
  const url = new URL(text);
  const host = bareHost(url);
  const version = isIP(host);
  if (version !== 0) return { ok: true, url, addresses: [{ address: host, family: version }] };
  let addresses: ResolvedAddress[];
  let timer: NodeJS.Timeout | undefined;
  try {
    addresses = await Promise.race([
      resolve(host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
  } catch {
    return { ok: false, refusal: `url's host ${host} does not resolve now (check the name)`, retryable: true };
  } finally {
    clearTimeout(timer);
  }
  if (addresses.length === 0)
    return { ok: false, refusal: `url's host ${host} resolves to no address`, retryable: true };
  if (policy.allow.allowsHost(host)) return { ok: true, url, addresses };
  for (const { address } of addresses) {
    const problem = addressRefusal(address, policy, `url's host ${host} resolves to an address that`);
    if (problem) return { ok: false, refusal: problem, retryable: false };
  }
  if (
    url.protocol === 'http:' &&
    !plainHttpTrusted(
      addresses.map((a) => a.address),
      policy,
    )
  )
    return { ok: false, refusal: HTTP_REFUSED, retryable: false };
  return { ok: true, url, addresses };
}

/** The policy from the environment: local mode from the ARM endpoint, the operator's allowances. */
export function webhookUrlPolicy(localMode: boolean, allowPrivate: string | undefined): WebhookUrlPolicy {
  let allow: AllowList;
  try {
    allow = AllowList.parse(allowPrivate ?? '');
  } catch (err) {
    throw new RangeError(`${WEBHOOK_ALLOW_PRIVATE_ENV}: ${(err as Error).message}`);
  }
  return { allowLoopback: localMode, allow };
}
