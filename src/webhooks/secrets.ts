// Webhook signing secrets, kept out of Temporal's histories (docs/design.md, invariant 3) whether or not
// payload encryption is on: an endpoint's secret is never stored; it is derived when needed from one
// operator key (FTFLOW_WEBHOOK_SECRET_KEY, the same on every worker, API and CLI process) and a reference
// that is not secret: { keyId, salt }. Registered endpoints get a random salt (and a new one on rotation);
// a run spec's endpoints use "run:<run id>:<index>". Without the operator key a reference is worth nothing.
//
//   secret = "whsec_" + base64(HMAC-SHA256(key, "ftflow-webhook-secret-v1\0" + salt))
//
// Rotating the operator key: the old one moves to FTFLOW_WEBHOOK_SECRET_OLD_KEYS, so references made with it
// keep deriving the same secrets; new secrets (new endpoints, rotations) use the new key.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { ENV } from '../config/env';
import { ConfigError } from '../config/errors';

export const WEBHOOK_SECRET_KEY_ENV = ENV.webhookSecretKey;
export const WEBHOOK_SECRET_OLD_KEYS_ENV = 'FTFLOW_WEBHOOK_SECRET_OLD_KEYS';
const KEY_BYTES = 32;
const FIX = 'make one with `openssl rand -base64 32` and set it on every worker, API and CLI';
const SECRET_PREFIX = 'whsec_';

/** What a registry stores for a secret: enough to derive it with the operator key, nothing more. */
export interface SecretRef {
  /** Fingerprint of the operator key it was made with (not the key). */
  keyId: string;
  /** Random (registered endpoints) or "run:<run id>:<index>" (a run spec's endpoints). */
  salt: string;
  createdAt: string;
  /** Set on the previous secret when the endpoint's secret was rotated: signed with until then. */
  expiresAt?: string;
}

interface OperatorKey {
  id: string;
  key: Buffer;
}

/** An operator key's id: 16 hex digits of sha256("ftflow-webhook-key\0" + key). Reveals nothing about the key. */
export function webhookKeyIdOf(key: Buffer): string {
  return createHash('sha256').update('ftflow-webhook-key\0').update(key).digest('hex').slice(0, 16);
}

function parseKey(text: string, where: string): OperatorKey {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed))
    throw new ConfigError(`${where} is not base64: give 32 random bytes in base64 (${FIX})`);
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES)
    throw new ConfigError(`${where} decodes to ${key.length} bytes; it must be ${KEY_BYTES} (${FIX})`);
  return { id: webhookKeyIdOf(key), key };
}

/** The message when a webhook needs the operator key and none is set. */
export function missingKeyMessage(): string {
  return `webhooks need ${WEBHOOK_SECRET_KEY_ENV} (the key their signing secrets are derived from): ${FIX}`;
}

export class WebhookSecrets {
  private readonly byId: Map<string, Buffer>;

  constructor(
    private readonly current: OperatorKey,
    old: readonly OperatorKey[] = [],
  ) {
    this.byId = new Map([current, ...old].map((k) => [k.id, k.key]));
  }

  /** From FTFLOW_WEBHOOK_SECRET_KEY (and _OLD_KEYS); undefined when unset. A bad value throws ConfigError naming it. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): WebhookSecrets | undefined {
    const current = env[WEBHOOK_SECRET_KEY_ENV];
    const old = (env[WEBHOOK_SECRET_OLD_KEYS_ENV] ?? '').split(',').filter((s) => s.trim() !== '');
    if (current === undefined || current.trim() === '') {
      if (old.length > 0)
        throw new ConfigError(`${WEBHOOK_SECRET_OLD_KEYS_ENV} is set but ${WEBHOOK_SECRET_KEY_ENV} is not (${FIX})`);
      return undefined;
    }
    return new WebhookSecrets(
      parseKey(current, WEBHOOK_SECRET_KEY_ENV),
      old.map((k, i) => parseKey(k, `${WEBHOOK_SECRET_OLD_KEYS_ENV} entry ${i + 1}`)),
    );
  }

  get keyId(): string {
    return this.current.id;
  }

  /** A new reference (a new endpoint, a rotation): a random salt under the current key. */
  newRef(now: Date = new Date()): SecretRef {
    return { keyId: this.current.id, salt: randomBytes(18).toString('base64url'), createdAt: now.toISOString() };
  }

  /** The reference of a run spec's endpoint: fixed by the run id and its place in the list. */
  runRef(runId: string, index: number): SecretRef {
    return { keyId: this.current.id, salt: `run:${runId}:${index}`, createdAt: new Date(0).toISOString() };
  }

  /** The secret a reference stands for; throws ConfigError when its operator key is not configured. */
  secretOf(ref: Pick<SecretRef, 'keyId' | 'salt'>): string {
    const key = this.byId.get(ref.keyId);
    if (!key)
      throw new ConfigError(
        `a webhook secret was made with operator key ${ref.keyId}, which is neither ${WEBHOOK_SECRET_KEY_ENV} (key ${this.current.id}) nor in ${WEBHOOK_SECRET_OLD_KEYS_ENV}: add that key to ${WEBHOOK_SECRET_OLD_KEYS_ENV}`,
      );
    const bytes = createHmac('sha256', key).update('ftflow-webhook-secret-v1\0').update(ref.salt, 'utf8').digest();
    return `${SECRET_PREFIX}${bytes.toString('base64')}`;
  }
}

/** The secrets a delivery at `now` is signed with: the current one, and a rotated-out one still in its overlap. */
export function activeRefs(refs: readonly SecretRef[], now: Date): SecretRef[] {
  return refs.filter((r) => r.expiresAt === undefined || Date.parse(r.expiresAt) > now.getTime());
}
