// The codec server process: `node dist/codec/main.js` (or `npm run codec-server`). Reads the keys like
// the worker (FTFLOW_PAYLOAD_KEY, FTFLOW_PAYLOAD_OLD_KEYS), FTFLOW_CODEC_HOST/PORT (127.0.0.1:8888),
// FTFLOW_CODEC_CORS_ORIGINS (the UI's origins; default http://localhost:8233,http://127.0.0.1:8233) and
// FTFLOW_CODEC_AUTH_TOKEN (optional). Prints CODEC_SERVER_READY <url>; SIGTERM/SIGINT close it.
import { payloadCodecFromEnv, PAYLOAD_KEY_ENV } from './config';
import { buildCodecServer } from './server';

export const DEFAULT_CODEC_CORS_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];

export async function startCodecServer(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; close(): Promise<void> }> {
  const codec = payloadCodecFromEnv(env);
  if (!codec)
    throw new Error(
      `${PAYLOAD_KEY_ENV} is not set: the codec server needs the key the workers use (base64 of 32 bytes)`,
    );
  const host = env.FTFLOW_CODEC_HOST || '127.0.0.1';
  const port = Number(env.FTFLOW_CODEC_PORT ?? 8888);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('FTFLOW_CODEC_PORT must be a port number');
  const origins = env.FTFLOW_CODEC_CORS_ORIGINS
    ? env.FTFLOW_CODEC_CORS_ORIGINS.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : DEFAULT_CODEC_CORS_ORIGINS;
  const app = buildCodecServer({ codec, corsOrigins: origins, authToken: env.FTFLOW_CODEC_AUTH_TOKEN || undefined });
  const url = await app.listen({ host, port });
  return { url, close: () => app.close() };
}

if (require.main === module) {
  startCodecServer()
    .then(({ url, close }) => {
      process.stdout.write(`CODEC_SERVER_READY ${url}\n`);
      const stop = () => void close().finally(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    })
    .catch((err: unknown) => {
      process.stderr.write(`codec server: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
