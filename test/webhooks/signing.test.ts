// Standard Webhooks signatures: what the service sends is what the spec says (checked against an HMAC computed
// here with node:crypto, and against the Standard Webhooks library's own verify), and the verification helper
// receivers import (finetune-flow/webhooks) accepts exactly the right deliveries.
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signatureHeader, webhookHeaders } from '../../src/webhooks/signing';
import { verifyWebhook, WebhookVerificationError } from '../../src/webhooks/verify';
import { WebhookSecrets } from '../../src/webhooks/secrets';

const KEY = Buffer.alloc(32, 7).toString('base64');
const secrets = WebhookSecrets.fromEnv({ FTFLOW_WEBHOOK_SECRET_KEY: KEY })!;
const SECRET = secrets.secretOf(secrets.runRef('ft-a', 0));
const OTHER = secrets.secretOf(secrets.runRef('ft-a', 1));
const BODY = JSON.stringify({ type: 'run.succeeded', timestamp: '2026-12-06T10:00:00.000Z', data: { runId: 'ft-a' } });
const NOW = new Date('2026-12-06T10:00:05Z');
const TS = Math.floor(NOW.getTime() / 1000);

/** The spec's definition, independently: base64 HMAC-SHA256 over "id.timestamp.body" with the decoded secret. */
function expected(secret: string, id: string, ts: number, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
}

function headers(signature: string, id = 'msg_1', ts = TS): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof WebhookVerificationError ? err.code : `not a WebhookVerificationError: ${String(err)}`;
  }
  return undefined;
}

describe('signing deliveries', () => {
  test('a secret is whsec_ and the base64 of 32 bytes', () => {
    expect(SECRET).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(SECRET.slice(6), 'base64')).toHaveLength(32);
  });

  test('the signature is v1,<base64 HMAC-SHA256 of "id.timestamp.body"> as the spec defines it', () => {
    expect(signatureHeader([SECRET], 'msg_1', TS, BODY)).toBe(expected(SECRET, 'msg_1', TS, BODY));
  });

  test('during a rotation both signatures are sent, space-separated, current first', () => {
    expect(signatureHeader([SECRET, OTHER], 'msg_1', TS, BODY)).toBe(
      `${expected(SECRET, 'msg_1', TS, BODY)} ${expected(OTHER, 'msg_1', TS, BODY)}`,
    );
  });

  test("the Standard Webhooks library's own verify accepts a delivery, with either secret during the overlap", () => {
    const sent = webhookHeaders([SECRET, OTHER], 'msg_1', Math.floor(Date.now() / 1000), BODY, 'test');
    expect(sent['content-type']).toBe('application/json');
    expect(new Webhook(SECRET).verify(BODY, sent)).toEqual(JSON.parse(BODY));
    expect(new Webhook(OTHER).verify(BODY, sent)).toEqual(JSON.parse(BODY));
  });

  test('no secret: refused rather than sent unsigned', () => {
    expect(() => signatureHeader([], 'msg_1', TS, BODY)).toThrow(/at least one secret/);
  });
});

describe('verifyWebhook (finetune-flow/webhooks)', () => {
  const good = headers(expected(SECRET, 'msg_1', TS, BODY));

  test('returns the id, the timestamp and the parsed payload of a good delivery', () => {
    const v = verifyWebhook(SECRET, good, BODY, { now: NOW });
    expect(v).toEqual({ id: 'msg_1', timestamp: new Date(TS * 1000), payload: JSON.parse(BODY) });
  });

  test('takes the body as bytes, headers in any case, a Fetch Headers object, and one of several secrets', () => {
    const upper = Object.fromEntries(Object.entries(good).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(SECRET, upper, Buffer.from(BODY), { now: NOW }).id).toBe('msg_1');
    expect(verifyWebhook([OTHER, SECRET], new Headers(good), BODY, { now: NOW }).id).toBe('msg_1');
    const both = headers(`v1,bogus ${expected(SECRET, 'msg_1', TS, BODY)}`);
    expect(verifyWebhook(SECRET, both, BODY, { now: NOW }).id).toBe('msg_1');
  });

  test('refuses a changed body, another secret, another id, a missing header, an unknown version', () => {
    expect(codeOf(() => verifyWebhook(SECRET, good, BODY.replace('ft-a', 'ft-b'), { now: NOW }))).toBe(
      'no_matching_signature',
    );
    expect(codeOf(() => verifyWebhook(OTHER, good, BODY, { now: NOW }))).toBe('no_matching_signature');
    expect(codeOf(() => verifyWebhook(SECRET, { ...good, 'webhook-id': 'msg_2' }, BODY, { now: NOW }))).toBe(
      'no_matching_signature',
    );
    expect(codeOf(() => verifyWebhook(SECRET, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(TS) }, BODY))).toBe(
      'missing_headers',
    );
    const v2 = headers(expected(SECRET, 'msg_1', TS, BODY).replace(/^v1,/, 'v2,'));
    expect(codeOf(() => verifyWebhook(SECRET, v2, BODY, { now: NOW }))).toBe('no_matching_signature');
  });

  test('the timestamp must be within the tolerance either way (5 minutes unless told)', () => {
    const at = (seconds: number) => new Date((TS + seconds) * 1000);
    expect(codeOf(() => verifyWebhook(SECRET, good, BODY, { now: at(299) }))).toBeUndefined();
    expect(codeOf(() => verifyWebhook(SECRET, good, BODY, { now: at(301) }))).toBe('timestamp_too_old');
    expect(codeOf(() => verifyWebhook(SECRET, good, BODY, { now: at(-301) }))).toBe('timestamp_too_new');
    expect(codeOf(() => verifyWebhook(SECRET, good, BODY, { now: at(3600), toleranceSeconds: 7200 }))).toBeUndefined();
    expect(codeOf(() => verifyWebhook(SECRET, good, BODY, { now: at(11), toleranceSeconds: 10 }))).toBe(
      'timestamp_too_old',
    );
    expect(codeOf(() => verifyWebhook(SECRET, { ...good, 'webhook-timestamp': '12:00' }, BODY))).toBe(
      'invalid_timestamp',
    );
  });

  test('a secret that is not whsec_<base64> is said to be so', () => {
    expect(codeOf(() => verifyWebhook('whsec_', good, BODY, { now: NOW }))).toBe('invalid_secret');
  });
});

describe('secrets derived from the operator key', () => {
  test('the same reference gives the same secret; another salt or key another one', () => {
    const again = WebhookSecrets.fromEnv({ FTFLOW_WEBHOOK_SECRET_KEY: KEY })!;
    expect(again.secretOf(again.runRef('ft-a', 0))).toBe(SECRET);
    expect(OTHER).not.toBe(SECRET);
    const otherKey = WebhookSecrets.fromEnv({ FTFLOW_WEBHOOK_SECRET_KEY: Buffer.alloc(32, 8).toString('base64') })!;
    expect(otherKey.secretOf({ keyId: otherKey.keyId, salt: 'run:ft-a:0' })).not.toBe(SECRET);
    const ref = secrets.newRef();
    expect(ref.salt).not.toBe(secrets.newRef().salt);
    expect(JSON.stringify(ref)).not.toContain(secrets.secretOf(ref).slice(6, 20));
  });

  test('after the operator key is rotated, references made with the old one still derive their secrets', () => {
    const next = Buffer.alloc(32, 9).toString('base64');
    const rotated = WebhookSecrets.fromEnv({ FTFLOW_WEBHOOK_SECRET_KEY: next, FTFLOW_WEBHOOK_SECRET_OLD_KEYS: KEY })!;
    expect(rotated.secretOf({ keyId: secrets.keyId, salt: 'run:ft-a:0' })).toBe(SECRET);
    const forgot = WebhookSecrets.fromEnv({ FTFLOW_WEBHOOK_SECRET_KEY: next })!;
    expect(() => forgot.secretOf({ keyId: secrets.keyId, salt: 'run:ft-a:0' })).toThrow(
      /FTFLOW_WEBHOOK_SECRET_OLD_KEYS/,
    );
  });

  test('a bad or missing key is named with the fix', () => {
    expect(WebhookSecrets.fromEnv({})).toBeUndefined();
    expect(() => WebhookSecrets.fromEnv({ FTFLOW_WEBHOOK_SECRET_KEY: 'c2hvcnQ=' })).toThrow(
      /FTFLOW_WEBHOOK_SECRET_KEY decodes to 5 bytes; it must be 32 .*openssl rand -base64 32/,
    );
    expect(() => WebhookSecrets.fromEnv({ FTFLOW_WEBHOOK_SECRET_OLD_KEYS: KEY })).toThrow(
      /FTFLOW_WEBHOOK_SECRET_OLD_KEYS is set but FTFLOW_WEBHOOK_SECRET_KEY is not/,
    );
  });
});
