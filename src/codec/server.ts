// A codec server for the Temporal UI and CLI (the codec server protocol): POST /encode and POST /decode
// (also under /<namespace>/...) take and return {"payloads": [{"metadata": {k: base64}, "data": base64}]}.
// CORS admits the UI's origins; with a token, requests must carry "Authorization: Bearer <token>".
import { timingSafeEqual } from 'node:crypto';
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call (the Temporal UI), e.g. http://localhost:8233. */
  corsOrigins: readonly string[];
  /** When set, every request must carry this bearer token (the UI can pass the user's access token). */
  authToken?: string;
  logger?: boolean;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

class BadRequest extends Error {}

function fromJson(p: unknown, i: number): Payload {
  if (typeof p !== 'object' || p === null) throw new BadRequest(`payloads[${i}] must be an object {metadata, data}`);
  const { metadata = {}, data = '' } = p as JsonPayload;
  if (typeof metadata !== 'object' || metadata === null || typeof data !== 'string')
    throw new BadRequest(`payloads[${i}] must have base64 "data" and a "metadata" object of base64 values`);
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new BadRequest(`payloads[${i}].metadata.${k} must be a base64 string`);
    out[k] = Buffer.from(v, 'base64');
  }
  return { metadata: out, data: Buffer.from(data, 'base64') };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function buildCodecServer(opts: CodecServerOptions): FastifyInstance {
  const app = fastify({ logger: opts.logger ?? false });
  const origins = new Set(opts.corsOrigins);

  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (origin && origins.has(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('vary', 'Origin');
      reply.header('access-control-allow-credentials', 'true');
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header('access-control-allow-headers', 'content-type, x-namespace, authorization');
      reply.header('access-control-max-age', '600');
    }
    if (req.method === 'OPTIONS') return reply.code(origin && origins.has(origin) ? 204 : 403).send();
    if (opts.authToken !== undefined) {
      const header = req.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
      if (!sameToken(token, opts.authToken))
        return reply.code(401).send({ message: 'missing or wrong bearer token (FTFLOW_CODEC_AUTH_TOKEN)' });
    }
    return undefined;
  });
  app.options('/*', async () => undefined);

  const handler = (direction: 'encode' | 'decode') => async (req: FastifyRequest, reply: FastifyReply) => {
    const body = req.body as { payloads?: unknown } | undefined;
    if (!body || !Array.isArray(body.payloads))
      return reply.code(400).send({ message: 'body must be {"payloads": [...]}' });
    let payloads: Payload[];
    try {
      payloads = body.payloads.map(fromJson);
    } catch (err) {
      return reply.code(400).send({ message: (err as Error).message });
    }
    try {
      const out = direction === 'encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
      return { payloads: out.map(toJson) };
    } catch (err) {
      return reply.code(400).send({ message: err instanceof Error ? err.message : String(err) });
    }
  };
  for (const prefix of ['', '/:namespace']) {
    app.post(`${prefix}/encode`, handler('encode'));
    app.post(`${prefix}/decode`, handler('decode'));
  }
  return app;
}
