// Standard Webhooks signatures (the Standard Webhooks project's own library, `standardwebhooks`):
//   webhook-id         the event's message id, the same on every retry
//   webhook-timestamp  the attempt's time, Unix seconds
//   webhook-signature  "v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'>", one per active secret,
//                      space-separated (two during a rotation's overlap: receivers accept either)
import { Webhook } from 'standardwebhooks';

export const SIGNATURE_VERSION = 'v1';

/** The webhook-signature header's value for every secret given (whsec_...). */
export function signatureHeader(
  secrets: readonly string[],
  messageId: string,
  timestampSeconds: number,
  body: string,
): string {
  if (secrets.length === 0) throw new Error('a webhook is signed with at least one secret');
  const at = new Date(timestampSeconds * 1000);
  return secrets.map((secret) => new Webhook(secret).sign(messageId, at, body)).join(' ');
}

/** Every header of a delivery but the transport's own. */
export function webhookHeaders(
  secrets: readonly string[],
  messageId: string,
  timestampSeconds: number,
  body: string,
  userAgent: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': userAgent,
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatureHeader(secrets, messageId, timestampSeconds, body),
  };
}
