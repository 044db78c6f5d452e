// /v1/schedules: retraining schedules (create, list, get, pause, unpause, trigger, backfill, delete).
import type { FastifyInstance } from 'fastify';
import type { FineTuneClient } from '../../client';
import { BackfillBody, CreateScheduleBody, NoteBody, parsePart } from '../validation';

interface IdParams {
  id: string;
}

export function registerScheduleRoutes(app: FastifyInstance, client: FineTuneClient): void {
  const schedules = client.schedules;
  const read = { config: { scope: 'schedules:read' as const } };
  const write = { config: { scope: 'schedules:write' as const } };

  app.post('/v1/schedules', write, async (request, reply) => {
    const b = parsePart(CreateScheduleBody, request.body ?? {}, 'body');
    reply.code(201);
    return schedules.create({ ...b, spec: b.spec });
  });

  app.get('/v1/schedules', read, async () => ({ object: 'list', data: await schedules.list() }));

  app.get<{ Params: IdParams }>('/v1/schedules/:id', read, async (request) => schedules.describe(request.params.id));

  app.post<{ Params: IdParams }>('/v1/schedules/:id/pause', write, async (request) =>
    schedules.pause(request.params.id, parsePart(NoteBody, request.body ?? {}, 'body').note),
  );

  app.post<{ Params: IdParams }>('/v1/schedules/:id/unpause', write, async (request) =>
    schedules.unpause(request.params.id, parsePart(NoteBody, request.body ?? {}, 'body').note),
  );

  app.post<{ Params: IdParams }>('/v1/schedules/:id/trigger', write, async (request, reply) => {
    await schedules.trigger(request.params.id);
    reply.code(202);
    return { scheduleId: request.params.id, triggered: true };
  });

  app.post<{ Params: IdParams }>('/v1/schedules/:id/backfill', write, async (request, reply) => {
    const b = parsePart(BackfillBody, request.body ?? {}, 'body');
    await schedules.backfill(request.params.id, { start: new Date(b.start), end: new Date(b.end), overlap: b.overlap });
    reply.code(202);
    return { scheduleId: request.params.id, backfill: b };
  });

  app.delete<{ Params: IdParams }>('/v1/schedules/:id', write, async (request, reply) => {
    await schedules.delete(request.params.id);
    return reply.code(204).send();
  });
}
