// /v1/webhooks: the calling key's webhook endpoints. Each key sees and changes only its own (the key's id is
// the owner); the secret is in the answer to POST and to rotate-secret, and nowhere else.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { FineTuneClient } from '../../client';
import { MAX_ROTATION_OVERLAP_SECONDS } from '../../webhooks/registry';
import { ApiError } from '../errors';
import { parsePart } from '../validation';

interface IdParams {
  id: string;
}

const RotateBody = z
  .strictObject({
    overlapSeconds: z
      .number()
      .min(0)
      .max(MAX_ROTATION_OVERLAP_SECONDS, `overlapSeconds must be at most ${MAX_ROTATION_OVERLAP_SECONDS} (7 days)`)
      .optional(),
  })
  .default({});

function ownerOf(request: FastifyRequest): string {
  const key = request.apiKey;
  if (!key) throw new ApiError(401, 'authentication_error', 'send an API key: Authorization: Bearer <key>');
  return key.id;
}

export function registerWebhookRoutes(app: FastifyInstance, client: FineTuneClient): void {
  app.post('/v1/webhooks', { config: { scope: 'webhooks:write' } }, async (request, reply) => {
    const created = await client.webhooks.add(ownerOf(request), request.body ?? {});
    reply.code(201);
    return created;
  });

  app.get('/v1/webhooks', { config: { scope: 'webhooks:read' } }, async (request) => ({
    object: 'list',
    data: await client.webhooks.list(ownerOf(request)),
  }));

  app.get<{ Params: IdParams }>('/v1/webhooks/:id', { config: { scope: 'webhooks:read' } }, async (request) =>
    client.webhooks.get(ownerOf(request), request.params.id),
  );

  app.delete<{ Params: IdParams }>(
    '/v1/webhooks/:id',
    { config: { scope: 'webhooks:write' } },
    async (request, reply) => {
      await client.webhooks.remove(ownerOf(request), request.params.id);
      reply.code(204);
      return null;
    },
  );

  app.post<{ Params: IdParams }>(
    '/v1/webhooks/:id/rotate-secret',
    { config: { scope: 'webhooks:write' } },
    async (request) => {
      const body = parsePart(RotateBody, request.body ?? {}, 'body');
      return client.webhooks.rotateSecret(ownerOf(request), request.params.id, body);
    },
  );
}
