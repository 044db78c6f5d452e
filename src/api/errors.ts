// One error shape for every answer that is not a success, OpenAI-style:
//   { "error": { "type": "invalid_request_error", "message": "...", "fields": [{ "field", "message" }] } }
import type { FastifyError, FastifyReply } from 'fastify';
import { ConfigError } from '../config/errors';
import { ControlError, isUnavailable } from '../control/errors';
import type { SpecIssue } from '../runSpec/schema';

export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'unavailable_error'
  | 'api_error';

export interface ApiErrorBody {
  error: { type: ApiErrorType; message: string; fields?: SpecIssue[] };
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly type: ApiErrorType,
    message: string,
    readonly fields?: SpecIssue[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function body(type: ApiErrorType, message: string, fields?: SpecIssue[]): ApiErrorBody {
  return { error: { type, message, ...(fields && fields.length > 0 ? { fields } : {}) } };
}

/** Maps any error to a status and the error shape; unknown errors say nothing about internals. */
export function toHttp(err: unknown): { status: number; payload: ApiErrorBody } {
  if (err instanceof ApiError) return { status: err.statusCode, payload: body(err.type, err.message, err.fields) };
  if (err instanceof ControlError) {
    if (err.code === 'invalid')
      return {
        status: 400,
        payload: body(
          'invalid_request_error',
          err.issues.length > 0 ? 'invalid request: see fields' : err.message,
          err.issues,
        ),
      };
    if (err.code === 'not-found') return { status: 404, payload: body('not_found_error', err.message) };
    return { status: 409, payload: body('conflict_error', err.message) };
  }
  const fe = err as Partial<FastifyError> & { error?: ApiErrorBody['error'] };
  // @fastify/rate-limit throws what errorResponseBuilder returned.
  if (fe.statusCode === 429 && fe.error) return { status: 429, payload: { error: fe.error } };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own: malformed JSON, wrong content type, body too large.
    return {
      status: fe.statusCode,
      payload: body('invalid_request_error', fe.message ?? 'bad request', [
        { field: 'body', message: fe.message ?? 'bad request' },
      ]),
    };
  }
  // The service lacks a setting this request needs (e.g. FTFLOW_WEBHOOK_SECRET_KEY): the message names it.
  if (err instanceof ConfigError) return { status: 503, payload: body('unavailable_error', err.message) };
  if (isUnavailable(err))
    return { status: 503, payload: body('unavailable_error', 'the workflow service is unavailable; retry later') };
  return { status: 500, payload: body('api_error', 'internal error') };
}

export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const { status, payload } = toHttp(err);
  if (status >= 500) reply.log.error({ err }, 'request failed');
  return reply.code(status).send(payload);
}
