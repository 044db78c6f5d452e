// One delivery attempt: the URL checked again (src/webhooks/urlPolicy.ts) and its host resolved, the POST sent
// to exactly the checked addresses, one timeout for the whole attempt, no redirect followed, and nothing of the
// answer kept but its status code and how long it took (the body is not read). This is the one place an
// attempt's result is classified: 2xx delivered; any other status, a timeout or a network error failed (tried
// again later); a URL the policy refuses refused (not tried again).
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { DeliveryAttempt } from './events';
import { checkWebhookUrl, systemResolver, type Resolver, type WebhookUrlPolicy } from './urlPolicy';

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  policy: WebhookUrlPolicy;
  timeoutMs: number;
  /** Resolves host names (tests inject one to play DNS rebinding). */
  resolve?: Resolver;
  /** How many signatures the headers carry, for the record. */
  signatures: number;
  /** Called every second while the attempt waits (the activity heartbeats). */
  onWait?: () => void;
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

/** A socket-level failure in our words: never what the receiver sent. */
function networkError(err: unknown, timeoutMs: number): string {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'ETIMEDOUT_ATTEMPT') return `no answer within ${timeoutMs / 1000} s`;
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ECONNRESET') return 'the connection was reset';
  if (TLS_CODES.test(code)) return `the receiver's TLS certificate is not valid for it (${code})`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'there is no route to the receiver';
  return `the connection failed (${code || 'closed'})`;
}

/** Classifies an answer's status. */
export function outcomeOfStatus(status: number): Pick<DeliveryAttempt, 'outcome' | 'error'> {
  if (status >= 200 && status < 300) return { outcome: 'delivered' };
  if (status >= 300 && status < 400)
    return { outcome: 'failed', error: `answered ${status}: redirects are not followed (register the final URL)` };
  return { outcome: 'failed', error: `answered ${status}` };
}

/** Sends one attempt; never throws for anything the receiver or the network does. */
export async function postWebhook(opts: PostOptions): Promise<DeliveryAttempt> {
  const sentAt = new Date();
  const started = Date.now();
  const done = (rest: Omit<DeliveryAttempt, 'sentAt' | 'durationMs' | 'signatures'>): DeliveryAttempt => ({
    ...rest,
    sentAt: sentAt.toISOString(),
    durationMs: Date.now() - started,
    signatures: opts.signatures,
  });
  const check = await checkWebhookUrl(opts.url, opts.policy, opts.resolve ?? systemResolver, opts.timeoutMs);
  if (!check.ok) return done({ outcome: check.retryable ? 'failed' : 'refused', error: check.refusal });
  const addresses = check.addresses;
  // The socket connects to the addresses checked above, never to a fresh lookup's answer.
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
  };
  const secure = check.url.protocol === 'https:';
  const payload = Buffer.from(opts.body, 'utf8');
  return new Promise<DeliveryAttempt>((resolve) => {
    const req = (secure ? https : http).request(check.url, {
      method: 'POST',
      headers: { ...opts.headers, 'content-length': String(payload.length) },
      agent: false,
      lookup,
    });
    const waiting = opts.onWait ? setInterval(opts.onWait, 1000) : undefined;
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error('attempt timed out'), { code: 'ETIMEDOUT_ATTEMPT' })),
      opts.timeoutMs,
    );
    const finish = (attempt: DeliveryAttempt) => {
      clearTimeout(timer);
      clearInterval(waiting);
      resolve(attempt);
    };
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      // The answer's body is neither read nor kept: the status says what we need.
      res.destroy();
      req.destroy();
      finish(done({ ...outcomeOfStatus(status), status }));
    });
    req.once('error', (err) => finish(done({ outcome: 'failed', error: networkError(err, opts.timeoutMs) })));
    req.end(payload);
  });
}
