// Shared pieces of the ARM routes: the workspace path prefix and its checks, long-running
// operation records and their headers.
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { ML_PROVIDER, sameName, type EmulatorContext } from '../context';
import { ArmError, parentNotFound } from '../errors';
import { ARM_API_VERSIONS } from '../policies';
import type { JobRecord, OperationRecord } from '../store';

export const WS_PREFIX = `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/${ML_PROVIDER}/workspaces/:workspaceName`;

export interface WorkspaceParams {
  subscriptionId: string;
  resourceGroupName: string;
  workspaceName: string;
}

export const ARM_ROUTE = { config: { surface: 'arm' as const, apiVersions: ARM_API_VERSIONS } };

/** 404s as ARM gives them for a wrong subscription, resource group or workspace. */
export function requireWorkspace(ctx: EmulatorContext, p: WorkspaceParams, nested = true): void {
  requireSubscription(ctx, p.subscriptionId);
  const ids = ctx.config.identities;
  if (!sameName(p.resourceGroupName, ids.resourceGroup)) {
    throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${p.resourceGroupName}' could not be found.`);
  }
  if (!sameName(p.workspaceName, ids.workspace)) {
    if (nested) throw parentNotFound(p.workspaceName);
    throw new ArmError(
      404,
      'ResourceNotFound',
      `The Resource '${ML_PROVIDER}/workspaces/${p.workspaceName}' under resource group '${p.resourceGroupName}' was not found.`,
    );
  }
}

export function requireSubscription(ctx: EmulatorContext, subscriptionId: string): void {
  if (!sameName(subscriptionId, ctx.config.identities.subscriptionId)) {
    throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
  }
}

// ---- long-running operations --------------------------------------------------------------

export function newOperation(
  ctx: EmulatorContext,
  prefix: string,
  kind: string,
  resourceId: string,
  durationMs: number,
  failure?: { code: string; message: string },
): OperationRecord {
  const ids = ctx.config.identities;
  const op: OperationRecord = {
    id: `${prefix}:${randomUUID()}:${randomUUID()}`,
    kind,
    resourceId,
    subscriptionId: ids.subscriptionId,
    location: ids.location,
    startedAt: ctx.now(),
    durationMs,
    outcome: failure ? 'Failed' : 'Succeeded',
    ...(failure ? { error: failure } : {}),
  };
  ctx.store.state.operations.push(op);
  return op;
}

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

export function operationStatus(op: OperationRecord, now: number): OperationStatus {
  return now < op.startedAt + op.durationMs ? 'InProgress' : op.outcome;
}

function operationUrl(ctx: EmulatorContext, op: OperationRecord, collection: string, apiVersion: string): string {
  return `${ctx.baseUrl()}/subscriptions/${op.subscriptionId}/providers/${ML_PROVIDER}/locations/${op.location}/${collection}/${op.id}?api-version=${apiVersion}`;
}

export function asyncOperationUrl(ctx: EmulatorContext, op: OperationRecord, apiVersion: string): string {
  return operationUrl(ctx, op, 'mfeOperationsStatus', apiVersion);
}

export function operationResultUrl(ctx: EmulatorContext, op: OperationRecord, apiVersion: string): string {
  return operationUrl(ctx, op, 'mfeOperationResults', apiVersion);
}

const ASYNC_TIMEOUT = 'PT1H';

/** 201 + Azure-AsyncOperation: how Azure ML answers a PUT that provisions. */
export function replyCreated(
  ctx: EmulatorContext,
  reply: FastifyReply,
  op: OperationRecord,
  apiVersion: string,
  body: unknown,
): FastifyReply {
  return reply
    .code(201)
    .header('Azure-AsyncOperation', asyncOperationUrl(ctx, op, apiVersion))
    .header('x-ms-async-operation-timeout', ASYNC_TIMEOUT)
    .send(body);
}

/** 202 + Location + Retry-After: how Azure ML answers a DELETE or a cancel. Compute deletion also
 *  names the status URL (Azure-AsyncOperation), as its swagger declares. */
export function replyAccepted(
  ctx: EmulatorContext,
  reply: FastifyReply,
  op: OperationRecord,
  apiVersion: string,
  withAsyncOperation = false,
): FastifyReply {
  if (withAsyncOperation) reply.header('Azure-AsyncOperation', asyncOperationUrl(ctx, op, apiVersion));
  return reply
    .code(202)
    .header('Location', operationResultUrl(ctx, op, apiVersion))
    .header('Retry-After', String(ctx.config.retryAfterSeconds))
    .header('x-ms-async-operation-timeout', ASYNC_TIMEOUT)
    .send();
}

export function findOperation(ctx: EmulatorContext, id: string): OperationRecord | undefined {
  return ctx.store.state.operations.find((o) => o.id === id);
}

/** Name rules (notes §3). Assets (jobs, models, components): the swagger pattern. */
export const ASSET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;
/** Online endpoints and deployments: 3–32 chars, letter first, alphanumeric last, hyphens inside. */
export const ENDPOINT_NAME = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export function checkAssetName(field: string, value: string): void {
  if (!ASSET_NAME.test(value)) {
    throw new ArmError(
      400,
      'UserError',
      `Invalid ${field} '${value}': it must match ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$ (start with a letter or digit; letters, digits, '-' and '_' only; at most 255 characters).`,
      field,
    );
  }
}

export function checkEndpointName(field: string, value: string): void {
  if (value.length < 3 || value.length > 32 || !ENDPOINT_NAME.test(value)) {
    throw new ArmError(
      400,
      'UserError',
      `Invalid ${field} '${value}': it must be 3-32 characters, start with a letter, end with a letter or digit, and contain only letters, digits and '-'.`,
      field,
    );
  }
}

/** ISO-8601 duration as ARM expects it (PT10M, PT1M30S, P1D, PT0.5S). */
export { ISO_8601_DURATION as ISO_DURATION } from '../contract';

/** The outcome of a provisioning fault or quota check: the record fails with this error. */
export interface ProvisioningFailure {
  code: string;
  message: string;
}

/** The job of that name (job names are unique in a workspace). */
export function findJob(ctx: EmulatorContext, name: string): JobRecord | undefined {
  return ctx.store.state.jobs.find((j) => j.name === name);
}
