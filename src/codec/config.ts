// Payload encryption settings from the environment, validated at start-up by the worker, the client,
// the CLI, the API and the codec server alike:
//   FTFLOW_PAYLOAD_KEY       base64 of 32 random bytes (openssl rand -base64 32); unset = no encryption
//   FTFLOW_PAYLOAD_OLD_KEYS  comma-separated base64 keys that still decrypt (after a rotation)
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec, keyIdOf, type PayloadKey } from './encryption';

export const PAYLOAD_KEY_ENV = 'FTFLOW_PAYLOAD_KEY';
export const PAYLOAD_OLD_KEYS_ENV = 'FTFLOW_PAYLOAD_OLD_KEYS';
const KEY_BYTES = 32;
const FIX = 'make one with `openssl rand -base64 32`';

export class PayloadKeyConfigError extends Error {
  override readonly name = 'PayloadKeyConfigError';
}

function parseKey(text: string, variable: string, position?: number): PayloadKey {
  const where = position === undefined ? variable : `${variable} entry ${position + 1}`;
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed))
    throw new PayloadKeyConfigError(`${where} is not base64: give 32 random bytes in base64 (${FIX})`);
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES)
    throw new PayloadKeyConfigError(`${where} decodes to ${key.length} bytes; AES-256 needs ${KEY_BYTES} (${FIX})`);
  return { id: keyIdOf(key), key };
}

/** The codec the environment asks for, or undefined when FTFLOW_PAYLOAD_KEY is unset. Throws PayloadKeyConfigError naming the variable. */
export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionCodec | undefined {
  const current = env[PAYLOAD_KEY_ENV];
  const old = (env[PAYLOAD_OLD_KEYS_ENV] ?? '').split(',').filter((s) => s.trim() !== '');
  if (current === undefined || current.trim() === '') {
    if (old.length > 0)
      throw new PayloadKeyConfigError(
        `${PAYLOAD_OLD_KEYS_ENV} is set but ${PAYLOAD_KEY_ENV} is not: set ${PAYLOAD_KEY_ENV} to the current key (${FIX})`,
      );
    return undefined;
  }
  return new EncryptionCodec(
    parseKey(current, PAYLOAD_KEY_ENV),
    old.map((k, i) => parseKey(k, PAYLOAD_OLD_KEYS_ENV, i)),
  );
}

/** Data converter options for a Client or Worker: the codec when one is configured, else nothing. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = payloadCodecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}
