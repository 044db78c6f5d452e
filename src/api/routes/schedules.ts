// /v1/schedules: retraining schedules (create, list, get, pause, unpause, trigger, backfill, delete). Only
// the service's retraining schedules are found here: the janitor's schedule and other applications'
// schedules are 404 (src/control/ownership.ts); the janitor has its own routes (routes/janitor.ts).
import type { FastifyInstance } from 'fastify';
import type { FineTuneClient } from '../../client';
import {
  BackfillBody,
  CreateScheduleBody,
  NoteBody,
  ScheduleActionQuery,
  parsePart,
  refuseLocalDatasetPaths,
} from '../validation';

interface IdParams {
  id: string;
}

export function registerScheduleRoutes(
  app: FastifyInstance,
  client: FineTuneClient,
  opts: { allowLocalDatasetPaths: boolean },
): void {
  const schedules = client.schedules;
  const read = { config: { scope: 'schedules:read' as const } };
  const write = { config: { scope: 'schedules:write' as const } };

  app.post('/v1/schedules', write, async (request, reply) => {
    const b = parsePart(CreateScheduleBody, request.body ?? {}, 'body');
    refuseLocalDatasetPaths(b.spec ?? {}, opts.allowLocalDatasetPaths);
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

  // 200 with what the schedule did (started, skipped, buffered); 202 when it had not acted within `wait`.
  app.post<{ Params: IdParams }>('/v1/schedules/:id/trigger', write, async (request, reply) => {
    const q = parsePart(ScheduleActionQuery, request.query, 'query');
    const report = await schedules.trigger(request.params.id, { waitSeconds: q.wait });
    reply.code(report.settled ? 200 : 202);
    return report;
  });

  app.post<{ Params: IdParams }>('/v1/schedules/:id/backfill', write, async (request, reply) => {
    const q = parsePart(ScheduleActionQuery, request.query, 'query');
    const b = parsePart(BackfillBody, request.body ?? {}, 'body');
    const report = await schedules.backfill(request.params.id, {
      start: new Date(b.start),
      end: new Date(b.end),
      overlap: b.overlap,
      waitSeconds: q.wait,
    });
    reply.code(report.settled ? 200 : 202);
    return { ...report, backfill: b };
  });

  app.delete<{ Params: IdParams }>('/v1/schedules/:id', write, async (request, reply) => {
    await schedules.delete(request.params.id);
    return reply.code(204).send();
  });
}
