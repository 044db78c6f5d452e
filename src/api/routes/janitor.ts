// /v1/janitor: the janitor's schedule (the billing safety net), for keys with the janitor:admin scope
// only: describe it with its last report, pause and unpause it (with a note), trigger a sweep. There is
// no route that deletes it; `ftflow janitor install` (re)creates it.
import type { FastifyInstance } from 'fastify';
import type { FineTuneClient } from '../../client';
import { NoteBody, ScheduleActionQuery, parsePart } from '../validation';

export function registerJanitorRoutes(app: FastifyInstance, client: FineTuneClient): void {
  const admin = { config: { scope: 'janitor:admin' as const } };

  app.get('/v1/janitor', admin, async () => client.janitor.describeSchedule());

  app.post('/v1/janitor/pause', admin, async (request) =>
    client.janitor.pause(parsePart(NoteBody, request.body ?? {}, 'body').note),
  );

  app.post('/v1/janitor/unpause', admin, async (request) =>
    client.janitor.unpause(parsePart(NoteBody, request.body ?? {}, 'body').note),
  );

  app.post('/v1/janitor/trigger', admin, async (request, reply) => {
    const q = parsePart(ScheduleActionQuery, request.query, 'query');
    const report = await client.janitor.trigger(undefined, { waitSeconds: q.wait });
    reply.code(report.settled ? 200 : 202);
    return report;
  });
}
