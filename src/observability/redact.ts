// The last line of defence for invariant 3 (secrets stay out of logs): every log line passes through here.
// Code never logs a secret on purpose; this catches what an error message or a library might carry:
// the configured secrets by value, bearer tokens and JWTs, storage keys and SAS signatures, and any field
// whose name says it holds a credential.
import { ENV } from '../config/env';
import { TEMPORAL_ENV } from '../config/temporal';

export const REDACTED = '[redacted]';

/** Environment variables whose values are secrets. */
export const SECRET_ENV_VARS = [ENV.clientSecret, ENV.hfToken, TEMPORAL_ENV.apiKey] as const;

const SECRET_FIELD =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|apikey|.*secret.*|.*password.*|primarykey|secondarykey|accountkey|.*accesstoken|refreshtoken|token|tasktoken|sig|sas)$/i;

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // JSON Web Tokens (Entra access tokens): header.payload.signature, the header always starts "eyJ".
  [/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // Authorization header values.
  [/\b(Bearer|Basic|SharedKey)\s+[A-Za-z0-9._~+/=:-]{8,}/gi, `$1 ${REDACTED}`],
  // Storage connection strings and SAS query parameters.
  [/\b(AccountKey|SharedAccessSignature|SharedAccessKey)=[^;&\s"']+/gi, `$1=${REDACTED}`],
  [/([?&]sig=)[^&\s"']+/gi, `$1${REDACTED}`],
  // 64-byte storage account keys, base64 (88 characters ending in "==").
  [/(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])/g, REDACTED],
];

export type Redactor = (value: unknown) => unknown;

/** A redactor for this process: the secret values in `env` plus the fixed patterns. */
export function createRedactor(env: NodeJS.ProcessEnv = process.env): Redactor {
  const values = SECRET_ENV_VARS.map((name) => env[name]).filter(
    (v): v is string => typeof v === 'string' && v.length >= 6,
  );
  const redactString = (text: string): string => {
    let out = text;
    for (const secret of values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };
  const visit = (value: unknown, seen: WeakSet<object>, depth: number): unknown => {
    if (typeof value === 'string') return redactString(value);
    if (typeof value === 'bigint') return value.toString();
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[circular]';
    if (depth > 8) return '[nested too deep]';
    seen.add(value);
    if (value instanceof Error) return visitError(value, seen, depth);
    if (Array.isArray(value)) return value.map((v) => visit(v, seen, depth + 1));
    if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value))
      out[key] = SECRET_FIELD.test(key) && v !== undefined && v !== null ? REDACTED : visit(v, seen, depth + 1);
    return out;
  };
  const visitError = (err: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = { name: err.name, message: redactString(err.message) };
    if (err.stack) out.stack = redactString(err.stack);
    const extra = err as Error & { code?: unknown; statusCode?: unknown; type?: unknown; cause?: unknown };
    if (extra.code !== undefined) out.code = visit(extra.code, seen, depth + 1);
    if (extra.statusCode !== undefined) out.statusCode = extra.statusCode;
    if (typeof extra.type === 'string') out.type = extra.type;
    if (extra.cause !== undefined) out.cause = visit(extra.cause, seen, depth + 1);
    return out;
  };
  return (value) => visit(value, new WeakSet(), 0);
}
