// API keys: random bearer tokens, stored only as SHA-256 hashes (a random 256-bit key needs no slow
// hash: there is nothing to guess) in a JSON file or an environment variable, each with scopes and a
// revoked flag. A presented key is hashed and compared with every stored hash in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import { z } from 'zod';
import { ENV } from '../config/env';
import { ControlError, invalid } from '../control/errors';

export const API_SCOPES = [
  'fine-tunes:read',
  'fine-tunes:write',
  'schedules:read',
  'schedules:write',
  // The key's own webhook endpoints (each key sees and changes only its own).
  'webhooks:read',
  'webhooks:write',
  // The janitor's schedule (the billing safety net): describe, pause, unpause, trigger. An operator's
  // scope, never given by default.
  'janitor:admin',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];
/** What `ftflow api-key create` gives when --scopes is not said: everything but janitor:admin. */
export const DEFAULT_API_SCOPES: readonly ApiScope[] = [
  'fine-tunes:read',
  'fine-tunes:write',
  'schedules:read',
  'schedules:write',
  'webhooks:read',
  'webhooks:write',
];

const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const KEY_ID_RULE = 'a key name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

const StoredKey = z.strictObject({
  id: z.string().regex(KEY_ID_PATTERN, KEY_ID_RULE),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'hash must be "sha256:" and 64 hex digits'),
  scopes: z.array(z.enum(API_SCOPES)),
  revoked: z.boolean().default(false),
  createdAt: z.string().optional(),
  revokedAt: z.string().optional(),
  /** Requests per minute for this key; default the server's limit. */
  rateLimitPerMinute: z.number().int().positive().optional(),
});
export type StoredApiKey = z.output<typeof StoredKey>;
const KeyFile = z.strictObject({ keys: z.array(StoredKey) });

export type Authentication =
  | { result: 'missing' }
  | { result: 'unknown' }
  | { result: 'revoked'; key: StoredApiKey }
  | { result: 'ok'; key: StoredApiKey };

export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

function parseKeys(text: string, where: string): StoredApiKey[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not JSON: ${(err as Error).message}`);
  }
  const parsed = KeyFile.safeParse(json);
  if (!parsed.success)
    throw new Error(`${where}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const ids = new Set<string>();
  for (const k of parsed.data.keys) {
    if (ids.has(k.id)) throw new Error(`${where}: key id ${k.id} appears twice`);
    ids.add(k.id);
  }
  return parsed.data.keys;
}

/** The keys the API accepts. A file is re-read when it changes, so a revocation applies at once. */
export class ApiKeyStore {
  private keys: StoredApiKey[];
  private fileStamp = '';

  private constructor(
    keys: StoredApiKey[],
    private readonly file?: string,
  ) {
    this.keys = keys;
  }

  static fromKeys(keys: StoredApiKey[]): ApiKeyStore {
    return new ApiKeyStore(keys);
  }

  static fromFile(file: string): ApiKeyStore {
    const store = new ApiKeyStore([], file);
    store.reload();
    return store;
  }

  /** FTFLOW_API_KEYS_FILE (a path) or FTFLOW_API_KEYS (the file's JSON inline). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): ApiKeyStore {
    const file = env[ENV.apiKeysFile];
    if (file) return ApiKeyStore.fromFile(file);
    const inline = env[ENV.apiKeys];
    if (inline) return new ApiKeyStore(parseKeys(inline, ENV.apiKeys));
    throw new Error(
      `no API keys configured: set ${ENV.apiKeysFile} (create keys with \`ftflow api-key create\`) or ${ENV.apiKeys}`,
    );
  }

  private reload(): void {
    if (!this.file) return;
    const stat = fs.statSync(this.file);
    const stamp = `${stat.mtimeMs}:${stat.size}`;
    if (stamp === this.fileStamp) return;
    this.keys = parseKeys(fs.readFileSync(this.file, 'utf8'), this.file);
    this.fileStamp = stamp;
  }

  /** Checks an Authorization header value ("Bearer <key>"). */
  authenticate(authorization: string | undefined): Authentication {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return { result: 'missing' };
    this.reload();
    const presented = Buffer.from(hashKey(match[1]), 'utf8');
    let found: StoredApiKey | undefined;
    // Every stored hash is compared, matched or not, so timing says nothing about which key matched.
    for (const key of this.keys) {
      const stored = Buffer.from(key.hash, 'utf8');
      const equal = stored.length === presented.length && timingSafeEqual(stored, presented);
      if (equal && found === undefined) found = key;
    }
    if (!found) return { result: 'unknown' };
    return found.revoked ? { result: 'revoked', key: found } : { result: 'ok', key: found };
  }
}

// ------------------------------------------------------------------------------------------------
// Managing a key file (`ftflow api-key ...`).

function readKeyFile(file: string): StoredApiKey[] {
  if (!fs.existsSync(file)) return [];
  return parseKeys(fs.readFileSync(file, 'utf8'), file);
}

function writeKeyFile(file: string, keys: StoredApiKey[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Adds a key and returns it: the only time the key itself is shown. */
export function createApiKey(
  file: string,
  id: string,
  scopes: readonly ApiScope[],
  rateLimitPerMinute?: number,
): { key: string; stored: StoredApiKey } {
  if (!KEY_ID_PATTERN.test(id)) throw invalid('id', `${KEY_ID_RULE} (got ${JSON.stringify(id)})`);
  const keys = readKeyFile(file);
  if (keys.some((k) => k.id === id))
    throw new ControlError('conflict', `key ${id} exists in ${file}; revoke it and choose another id`);
  const key = `ftflow_${randomBytes(32).toString('base64url')}`;
  const stored = StoredKey.parse({
    id,
    hash: hashKey(key),
    scopes: [...scopes],
    createdAt: new Date().toISOString(),
    rateLimitPerMinute,
  });
  writeKeyFile(file, [...keys, stored]);
  return { key, stored };
}

export function revokeApiKey(file: string, id: string): StoredApiKey {
  const keys = readKeyFile(file);
  const key = keys.find((k) => k.id === id);
  if (!key) throw new ControlError('not-found', `no key ${id} in ${file}`);
  key.revoked = true;
  key.revokedAt ??= new Date().toISOString();
  writeKeyFile(file, keys);
  return key;
}

export function listApiKeys(file: string): Omit<StoredApiKey, 'hash'>[] {
  return readKeyFile(file).map(({ hash: _hash, ...rest }) => rest);
}
