// Status of long-running operations: Azure-AsyncOperation (mfeOperationsStatus, status body) and
// Location (mfeOperationResults, 202 while running). A tracked operation never answers 404.
import type { FastifyInstance } from 'fastify';
import { isoTime, ML_PROVIDER, sameName, type EmulatorContext } from '../context';
import { ArmError } from '../errors';
import { ARM_ROUTE, findOperation, operationStatus, requireSubscription } from './common';

interface OperationParams {
  subscriptionId: string;
  location: string;
  operationId: string;
}

const LOCATION_PREFIX = `/subscriptions/:subscriptionId/providers/${ML_PROVIDER}/locations/:location`;

export function registerOperationRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const lookup = (p: OperationParams) => {
    requireSubscription(ctx, p.subscriptionId);
    const op = findOperation(ctx, p.operationId);
    if (!op || !sameName(op.location, p.location)) {
      throw new ArmError(404, 'NotFound', `Operation '${p.operationId}' was not found in location '${p.location}'.`);
    }
    return op;
  };

  app.get<{ Params: OperationParams }>(
    `${LOCATION_PREFIX}/mfeOperationsStatus/:operationId`,
    ARM_ROUTE,
    (req, reply) => {
      const op = lookup(req.params);
      const now = ctx.now();
      const status = operationStatus(op, now);
      const end = op.startedAt + op.durationMs;
      if (status === 'InProgress') reply.header('Retry-After', String(ctx.config.retryAfterSeconds));
      return {
        id: req.url.split('?')[0] ?? '',
        name: op.id,
        status,
        startTime: isoTime(op.startedAt),
        ...(status !== 'InProgress' ? { endTime: isoTime(end) } : {}),
        percentComplete:
          status === 'InProgress' ? Math.floor(((now - op.startedAt) / Math.max(1, op.durationMs)) * 100) : 100,
        ...(status === 'Failed' && op.error ? { error: op.error } : {}),
      };
    },
  );

  app.get<{ Params: OperationParams }>(
    `${LOCATION_PREFIX}/mfeOperationResults/:operationId`,
    ARM_ROUTE,
    (req, reply) => {
      const op = lookup(req.params);
      const status = operationStatus(op, ctx.now());
      if (status === 'InProgress') {
        return reply
          .code(202)
          .header('Location', `${ctx.baseUrl()}${req.url}`)
          .header('Retry-After', String(ctx.config.retryAfterSeconds))
          .send();
      }
      if (status === 'Failed') {
        const error = op.error ?? { code: 'InternalServerError', message: 'The operation failed.' };
        throw new ArmError(400, error.code, error.message);
      }
      return reply.code(200).send();
    },
  );
}
