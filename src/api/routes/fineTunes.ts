// /v1/fine-tunes: start (Idempotency-Key) or plan (dryRun=true), list, get, result, events, metrics (the loss
// curve), logs, cancel, resume, keep-alive.
import type { FastifyInstance } from 'fastify';
import type { FineTuneClient } from '../../client';
import { ConfigError } from '../../config/errors';
import { refusalOf } from '../../control/refusal';
import { ApiError } from '../errors';
import {
  CancelQuery,
  EventsQuery,
  IdempotencyKeyHeader,
  KeepAliveBody,
  ListQuery,
  LogsQuery,
  MetricsQuery,
  StartQuery,
  parsePart,
  refuseLocalDatasetPaths,
} from '../validation';

interface IdParams {
  id: string;
}

export function registerFineTuneRoutes(
  app: FastifyInstance,
  client: FineTuneClient,
  opts: { allowLocalDatasetPaths: boolean },
): void {
  app.post('/v1/fine-tunes', { config: { scope: 'fine-tunes:write' } }, async (request, reply) => {
    const idempotencyKey = parsePart(IdempotencyKeyHeader, request.headers['idempotency-key'], 'header');
    const query = parsePart(StartQuery, request.query, 'query');
    refuseLocalDatasetPaths(request.body ?? {}, opts.allowLocalDatasetPaths);
    if (query.dryRun === 'true') {
      try {
        return await client.plan(request.body ?? {}, { idempotencyKey });
      } catch (err) {
        const refusal = refusalOf(err);
        if (!refusal) throw err;
        // What a run of this spec would fail with: the spec was well-formed, the run's checks refuse it.
        return reply.code(422).send({ error: { type: 'run_refused_error', ...refusal } });
      }
    }
    const run = await client.start(request.body ?? {}, {
      idempotencyKey,
      dedupe: query.dedupe === 'true',
      source: 'api',
      actor: request.apiKey?.id,
      // The run belongs to the calling key: its registered webhook endpoints hear of it.
      owner: request.apiKey?.id,
    });
    const summary = await client.summary(run.runId);
    reply.code(run.created ? 201 : 200);
    if (!run.created) reply.header('idempotent-replayed', 'true');
    return {
      ...summary,
      created: run.created,
      deduplicated: run.deduplicated,
      jobName: run.names.jobName,
      endpointName: run.names.endpointName,
      spec: run.spec,
      // The run spec's webhook endpoints' secrets: in this answer only, when the request created the run.
      ...(run.webhookSecrets ? { webhookSecrets: run.webhookSecrets } : {}),
    };
  });

  app.get('/v1/fine-tunes', { config: { scope: 'fine-tunes:read' } }, async (request) => {
    const query = parsePart(ListQuery, request.query, 'query');
    const page = await client.list(query);
    return { object: 'list', ...page };
  });

  app.get<{ Params: IdParams }>('/v1/fine-tunes/:id', { config: { scope: 'fine-tunes:read' } }, async (request) =>
    client.get(request.params.id),
  );

  // The succeeded run's record: the same as `ftflow result` and the client's result(). Never waits: a run
  // still running, or one that did not succeed, is a 409 that says so.
  app.get<{ Params: IdParams }>(
    '/v1/fine-tunes/:id/result',
    { config: { scope: 'fine-tunes:read' } },
    async (request) => client.result(request.params.id, { wait: false }),
  );

  app.get<{ Params: IdParams }>(
    '/v1/fine-tunes/:id/events',
    { config: { scope: 'fine-tunes:read' } },
    async (request) => {
      const query = parsePart(EventsQuery, request.query, 'query');
      const page = await client.events(request.params.id, query);
      return { object: 'list', ...page };
    },
  );

  // The loss curve and the log are read from Azure when asked (the API needs the worker's AZURE_* variables).
  const fromAzure = async <T>(read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (err) {
      if (err instanceof ConfigError)
        throw new ApiError(503, 'unavailable_error', `training metrics and logs are read from Azure: ${err.message}`);
      throw err;
    }
  };

  app.get<{ Params: IdParams }>(
    '/v1/fine-tunes/:id/metrics',
    { config: { scope: 'fine-tunes:read' } },
    async (request) => {
      const query = parsePart(MetricsQuery, request.query, 'query');
      return fromAzure(() =>
        client.metrics(request.params.id, {
          metrics: query.metric?.split(','),
          limit: query.limit,
          pageToken: query.pageToken,
        }),
      );
    },
  );

  app.get<{ Params: IdParams }>(
    '/v1/fine-tunes/:id/logs',
    { config: { scope: 'fine-tunes:read' } },
    async (request) => {
      const query = parsePart(LogsQuery, request.query, 'query');
      return fromAzure(() => client.logs(request.params.id, { lines: query.lines }));
    },
  );

  app.post<{ Params: IdParams }>(
    '/v1/fine-tunes/:id/cancel',
    { config: { scope: 'fine-tunes:write' } },
    async (request, reply) => {
      const query = parsePart(CancelQuery, request.query, 'query');
      const outcome = await client.cancel(request.params.id, { waitSeconds: query.wait });
      // 202: accepted, cleanup still running; 200: the run has ended (after its cleanup).
      reply.code(outcome.cleanup === 'requested' || outcome.cleanup === 'timed-out' ? 202 : 200);
      return outcome;
    },
  );

  app.post<{ Params: IdParams }>(
    '/v1/fine-tunes/:id/keep-alive',
    { config: { scope: 'fine-tunes:write' } },
    async (request) => client.keepAlive(request.params.id, parsePart(KeepAliveBody, request.body ?? {}, 'body')),
  );

  app.post<{ Params: IdParams }>(
    '/v1/fine-tunes/:id/resume',
    { config: { scope: 'fine-tunes:write' } },
    async (request, reply) => {
      const outcome = await client.resume(request.params.id, { source: 'api', actor: request.apiKey?.id });
      reply.code(202);
      return outcome;
    },
  );
}
