// AES-256-GCM payload codec: every payload leaves the process encrypted, with the id of the key in its
// metadata, so keys can rotate: the current key encrypts, the current and any old keys decrypt.
// Runs in the worker's and the client's data converter (outside the workflow sandbox).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  /** Written to each payload's metadata; by default a fingerprint of the key (not secret). */
  id: string;
  key: Buffer;
}

/** Thrown when a payload cannot be decrypted: the message says which key it needs. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

/** A key's id: the first 16 hex digits of sha256("ftflow-payload-key\0" + key). Reveals nothing about the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('ftflow-payload-key\0').update(key).digest('hex').slice(0, 16);
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** The payload as bytes: JSON of its metadata and data (base64), so nothing but node:crypto is needed. */
function serialize(payload: Payload): Buffer {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return utf8(JSON.stringify({ metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') }));
}

function deserialize(bytes: Buffer): Payload {
  const parsed = JSON.parse(bytes.toString('utf8')) as { metadata: Record<string, string>; data: string };
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(parsed.metadata)) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(parsed.data, 'base64') };
}

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  /** `current` encrypts; `current` and `old` decrypt. */
  constructor(
    private readonly current: PayloadKey,
    old: readonly PayloadKey[] = [],
  ) {
    this.byId = new Map([current, ...old].map((k) => [k.id, k.key]));
  }

  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, this.current.key, iv);
      // The key id is authenticated too: a payload cannot be relabelled to another key.
      cipher.setAAD(utf8(this.current.id));
      const sealed = Buffer.concat([iv, cipher.update(serialize(payload)), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(this.current.id) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding).toString('utf8') : undefined;
      // Payloads written before encryption was turned on stay readable.
      if (encoding !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const id = idBytes ? Buffer.from(idBytes).toString('utf8') : '(none)';
      const key = this.byId.get(id);
      if (!key) {
        throw new PayloadDecryptionError(
          `payload was encrypted with key id ${id}, which is neither FTFLOW_PAYLOAD_KEY (key id ${this.current.id}) nor in FTFLOW_PAYLOAD_OLD_KEYS: ` +
            'add the key it was written with to FTFLOW_PAYLOAD_OLD_KEYS (comma-separated base64)',
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new PayloadDecryptionError(`encrypted payload (key id ${id}) is truncated`);
      try {
        const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
        decipher.setAAD(utf8(id));
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        return deserialize(
          Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]),
        );
      } catch {
        throw new PayloadDecryptionError(
          `payload with key id ${id} failed authentication: it was altered, or the key given for that id is not the one it was written with`,
        );
      }
    });
  }
}
