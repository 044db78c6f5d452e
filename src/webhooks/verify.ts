// For receivers (package export `finetune-flow/webhooks`): checks a delivery's Standard Webhooks signature
// and timestamp and returns the parsed event. Give it the raw body exactly as received (before any JSON
// parsing), the request's headers, and the endpoint's secret (whsec_...), or several while you move to a
// rotated one. The signature is computed by the Standard Webhooks project's library and compared here, in
// constant time, with each `v1,` entry of the header; the timestamp must be within `toleranceSeconds` of now.
import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { WebhookPayload } from './events';

export type { WebhookPayload, WebhookEventData, WebhookEventType } from './events';

/** Node's IncomingHttpHeaders, a plain record, or a Fetch API Headers object. */
export type WebhookHeaders = Record<string, string | string[] | undefined> | { get(name: string): string | null };

export interface VerifyWebhookOptions {
  /** How far the webhook-timestamp may be from now, either way (replay protection). Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** The time to judge the timestamp against; default now. */
  now?: Date;
}

export type WebhookVerificationCode =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'invalid_secret'
  | 'invalid_body'
  | 'no_matching_signature';

export class WebhookVerificationError extends Error {
  constructor(
    readonly code: WebhookVerificationCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifiedWebhook {
  /** The webhook-id: the same on every retry of one event; de-duplicate on it. */
  id: string;
  /** The webhook-timestamp, as a Date. */
  timestamp: Date;
  /** The parsed body. */
  payload: WebhookPayload;
}

export const DEFAULT_TOLERANCE_SECONDS = 300;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(' ') : value;
}

/** Verifies a delivery and returns its event; throws WebhookVerificationError (with a code) otherwise. */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: WebhookHeaders,
  body: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): VerifiedWebhook {
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures)
    throw new WebhookVerificationError(
      'missing_headers',
      'the request lacks webhook-id, webhook-timestamp or webhook-signature',
    );
  if (!/^\d{1,12}$/.test(timestampText.trim()))
    throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp is not a Unix time in seconds');
  const timestamp = Number(timestampText.trim());
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (now - timestamp > tolerance)
    throw new WebhookVerificationError('timestamp_too_old', `webhook-timestamp is more than ${tolerance} s old`);
  if (timestamp - now > tolerance)
    throw new WebhookVerificationError('timestamp_too_new', `webhook-timestamp is more than ${tolerance} s ahead`);

  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const given = signatures
    .split(' ')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'utf8'));
  for (const candidate of typeof secret === 'string' ? [secret] : secret) {
    let expected: Buffer;
    try {
      expected = Buffer.from(new Webhook(candidate).sign(id, new Date(timestamp * 1000), text).slice(3), 'utf8');
    } catch (err) {
      throw new WebhookVerificationError(
        'invalid_secret',
        `the secret is not a Standard Webhooks secret (whsec_ and base64): ${(err as Error).message}`,
      );
    }
    if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) {
      let payload: WebhookPayload;
      try {
        payload = JSON.parse(text) as WebhookPayload;
      } catch {
        throw new WebhookVerificationError('invalid_body', 'the signed body is not JSON');
      }
      return { id, timestamp: new Date(timestamp * 1000), payload };
    }
  }
  throw new WebhookVerificationError('no_matching_signature', 'no signature matches the secret');
}
