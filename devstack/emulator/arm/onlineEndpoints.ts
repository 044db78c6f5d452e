// Managed online endpoints: PUT (LRO 201 + Azure-AsyncOperation; a PUT on an existing endpoint is
// an update, e.g. traffic), GET, list, DELETE (202 + Location; cascades to its deployments) and
// listKeys.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { effectiveDurations, lifecycleState, newLifecycle, type LifecycleState } from '../clock';
import { stableGuid } from '../auth';
import { ML_PROVIDER, sameName, systemData, workspaceArmId, type EmulatorContext } from '../context';
import { conflict, notFound, userError } from '../errors';
import { asObject, asString, asStringMap, cloneJson, isObject, type JsonObject } from '../json';
import { requestApiVersion } from '../policies';
import { endpointQuotaFailure, QUOTA_TROUBLESHOOTING } from '../quota';
import type { DeploymentRecord, EndpointRecord } from '../store';
import {
  ARM_ROUTE,
  asyncOperationUrl,
  checkEndpointName,
  findOperation,
  newOperation,
  replyAccepted,
  replyCreated,
  requireWorkspace,
  WS_PREFIX,
  type ProvisioningFailure,
  type WorkspaceParams,
} from './common';

export type EndpointParams = WorkspaceParams & { endpointName: string };

const AUTH_MODES = ['AMLToken', 'Key', 'AADToken'];

export function liveEndpoint(ctx: EmulatorContext, name: string): EndpointRecord | undefined {
  const now = ctx.now();
  return ctx.store.state.endpoints.findLast(
    (e) => sameName(e.name, name) && lifecycleState(e.lifecycle, now) !== 'Gone',
  );
}

/** The deployments of an endpoint that are not gone (deployments are the endpoint's sub-resources). */
export function liveDeployments(ctx: EmulatorContext, endpoint: EndpointRecord): DeploymentRecord[] {
  const now = ctx.now();
  return ctx.store.state.deployments.filter(
    (d) => d.endpointUid === endpoint.uid && lifecycleState(d.lifecycle, now) !== 'Gone',
  );
}

export function deploymentArmId(ctx: EmulatorContext, endpoint: string, name: string): string {
  return `${endpointArmId(ctx, endpoint)}/deployments/${name}`;
}

export function endpointState(ctx: EmulatorContext, e: EndpointRecord): LifecycleState {
  return lifecycleState(e.lifecycle, ctx.now());
}

export function endpointArmId(ctx: EmulatorContext, name: string): string {
  return `${workspaceArmId(ctx)}/onlineEndpoints/${name}`;
}

export function scoringUri(ctx: EmulatorContext, name: string): string {
  return `${ctx.baseUrl()}/inference/${name}/score`;
}

export function endpointTraffic(e: EndpointRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(asObject(e.properties['traffic']) ?? {})) {
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

function endpointResource(ctx: EmulatorContext, e: EndpointRecord, apiVersion: string): JsonObject {
  const state = endpointState(ctx, e);
  const props = cloneJson(e.properties);
  const op = findOperation(ctx, e.lastOperationId);
  const identityType = asString(e.identity?.['type']) ?? 'SystemAssigned';
  return {
    id: endpointArmId(ctx, e.name),
    name: e.name,
    type: `${ML_PROVIDER}/workspaces/onlineEndpoints`,
    location: e.location,
    tags: e.tags,
    kind: e.kind ?? 'Managed',
    identity:
      identityType === 'None'
        ? { type: 'None' }
        : {
            ...cloneJson(e.identity ?? {}),
            type: identityType,
            principalId: stableGuid(`endpoint-identity:${e.uid}`),
            tenantId: ctx.config.identities.tenantId,
          },
    systemData: systemData(ctx, e.lifecycle.createdAt, e.modifiedAt),
    properties: {
      ...props,
      properties: {
        ...asStringMap(props['properties']),
        ...(op ? { AzureAsyncOperationUri: asyncOperationUrl(ctx, op, apiVersion) } : {}),
      },
      traffic: endpointTraffic(e),
      scoringUri: scoringUri(ctx, e.name),
      swaggerUri: `${ctx.baseUrl()}/inference/${e.name}/swagger.json`,
      publicNetworkAccess: asString(props['publicNetworkAccess']) ?? 'Enabled',
      provisioningState: state === 'Gone' ? 'Deleting' : state,
    },
  };
}

/** traffic: {deployment: percent}; every named deployment exists and has Succeeded; sum 0 or 100. */
function checkTraffic(
  ctx: EmulatorContext,
  endpoint: EndpointRecord | undefined,
  traffic: unknown,
): Record<string, number> {
  if (traffic === undefined || traffic === null) return {};
  if (!isObject(traffic))
    throw userError('properties.traffic', 'traffic must be an object mapping deployment names to percentages.');
  const out: Record<string, number> = {};
  let sum = 0;
  const deployments = endpoint ? liveDeployments(ctx, endpoint) : [];
  for (const [name, value] of Object.entries(traffic)) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
      throw userError(
        `properties.traffic.${name}`,
        `Traffic for deployment '${name}' must be an integer between 0 and 100.`,
      );
    }
    const d = deployments.find((x) => sameName(x.name, name));
    if (!d)
      throw userError(
        `properties.traffic.${name}`,
        `Traffic refers to deployment '${name}', which does not exist on this endpoint.`,
      );
    const state = lifecycleState(d.lifecycle, ctx.now());
    if (value > 0 && state !== 'Succeeded') {
      throw userError(
        `properties.traffic.${name}`,
        `Deployment '${name}' is ${state}; traffic can be routed only to a deployment that has Succeeded.`,
      );
    }
    out[d.name] = value;
    sum += value;
  }
  if (sum !== 0 && sum !== 100)
    throw userError('properties.traffic', `Traffic percentages must add up to 100 (they add up to ${sum}).`);
  return out;
}

export function registerEndpointRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.get<{ Params: WorkspaceParams }>(`${WS_PREFIX}/onlineEndpoints`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const now = ctx.now();
    const apiVersion = requestApiVersion(req);
    return {
      value: ctx.store.state.endpoints
        .filter((e) => lifecycleState(e.lifecycle, now) !== 'Gone')
        .map((e) => endpointResource(ctx, e, apiVersion)),
    };
  });

  app.get<{ Params: EndpointParams }>(`${WS_PREFIX}/onlineEndpoints/:endpointName`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const e = liveEndpoint(ctx, req.params.endpointName);
    if (!e) throw notFound('online endpoint', req.params.endpointName);
    return endpointResource(ctx, e, requestApiVersion(req));
  });

  app.put<{ Params: EndpointParams }>(`${WS_PREFIX}/onlineEndpoints/:endpointName`, ARM_ROUTE, (req, reply) => {
    requireWorkspace(ctx, req.params);
    const name = req.params.endpointName;
    checkEndpointName('endpointName', name);
    const body = asObject(req.body);
    const location = asString(body?.['location']);
    if (!body || !location) throw userError('location', "The field 'location' is required.");
    const props = asObject(body['properties']);
    if (!props) throw userError('properties', "The field 'properties' is required.");
    const authMode = asString(props['authMode']);
    if (!authMode || !AUTH_MODES.includes(authMode))
      throw userError('properties.authMode', `authMode is required and must be one of ${AUTH_MODES.join(', ')}.`);
    if (authMode !== 'Key')
      throw userError('properties.authMode', `authMode '${authMode}' is not supported by the emulator; use 'Key'.`);
    const now = ctx.now();
    const clock = effectiveDurations(ctx.config.clock);
    const apiVersion = requestApiVersion(req);
    const existing = liveEndpoint(ctx, name);
    const injected = ctx.faults.take(req, 'failProvisioning');
    const forcedQuota = ctx.faults.take(req, 'quota');
    const fault: ProvisioningFailure | undefined = injected
      ? {
          code: injected.code ?? 'EndpointProvisioningFailed',
          message:
            injected.message ?? `Online endpoint '${name}' failed to provision (fault injected by the emulator).`,
        }
      : forcedQuota
        ? {
            code: 'OutOfQuota',
            message: `Endpoint quota reached for this subscription (fault injected by the emulator). See ${QUOTA_TROUBLESHOOTING}`,
          }
        : undefined;
    const traffic = checkTraffic(ctx, existing, props['traffic']);
    const stored: JsonObject = { ...cloneJson(props), traffic };
    const identity = asObject(body['identity']);
    const kind = asString(body['kind']);

    if (existing) {
      const state = endpointState(ctx, existing);
      if (state === 'Deleting')
        throw conflict(`Online endpoint '${name}' is being deleted; retry after the deletion has finished.`);
      existing.properties = stored;
      existing.tags = asStringMap(body['tags']);
      if (identity) existing.identity = cloneJson(identity);
      existing.modifiedAt = now;
      if (state !== 'Creating') {
        existing.lifecycle.provisionStartedAt = now;
        existing.lifecycle.provisionKind = 'Updating';
        existing.lifecycle.provisionMs = clock.provisionMs;
        existing.lifecycle.provisionOutcome = fault ? 'Failed' : 'Succeeded';
        existing.lifecycle.provisionError = fault;
      }
      const remaining = existing.lifecycle.provisionStartedAt + existing.lifecycle.provisionMs - now;
      const op = newOperation(
        ctx,
        'oe',
        'endpoint-update',
        endpointArmId(ctx, name),
        Math.max(0, remaining),
        state !== 'Creating' ? fault : existing.lifecycle.provisionError,
      );
      existing.lastOperationId = op.id;
      ctx.store.commit();
      return replyCreated(ctx, reply, op, apiVersion, endpointResource(ctx, existing, apiVersion));
    }

    if (Object.values(traffic).some((v) => v > 0))
      throw userError('properties.traffic', 'A new endpoint has no deployments to route traffic to.');
    // Beyond the subscription's endpoint limit the endpoint fails to provision with OutOfQuota.
    const failure = fault ?? endpointQuotaFailure(ctx);
    const op = newOperation(ctx, 'oe', 'endpoint-create', endpointArmId(ctx, name), clock.provisionMs, failure);
    const record: EndpointRecord = {
      uid: randomUUID(),
      name,
      location,
      tags: asStringMap(body['tags']),
      ...(identity ? { identity: cloneJson(identity) } : {}),
      ...(kind ? { kind } : {}),
      properties: stored,
      keys: { primaryKey: randomBytes(24).toString('base64url'), secondaryKey: randomBytes(24).toString('base64url') },
      modifiedAt: now,
      lastOperationId: op.id,
      lifecycle: newLifecycle(now, clock, failure),
    };
    ctx.store.state.endpoints.push(record);
    ctx.store.commit();
    return replyCreated(ctx, reply, op, apiVersion, endpointResource(ctx, record, apiVersion));
  });

  app.delete<{ Params: EndpointParams }>(`${WS_PREFIX}/onlineEndpoints/:endpointName`, ARM_ROUTE, (req, reply) => {
    requireWorkspace(ctx, req.params);
    const e = liveEndpoint(ctx, req.params.endpointName);
    if (!e) return reply.code(204).send();
    const now = ctx.now();
    e.lifecycle.deleteRequestedAt ??= now;
    for (const d of liveDeployments(ctx, e)) {
      if (d.lifecycle.deleteRequestedAt === undefined) {
        d.lifecycle.deleteRequestedAt = e.lifecycle.deleteRequestedAt;
        d.lifecycle.deleteMs = e.lifecycle.deleteMs;
      }
    }
    const remaining = e.lifecycle.deleteRequestedAt + e.lifecycle.deleteMs - now;
    const op = newOperation(ctx, 'oe', 'endpoint-delete', endpointArmId(ctx, e.name), Math.max(0, remaining));
    e.lastOperationId = op.id;
    ctx.store.commit();
    return replyAccepted(ctx, reply, op, requestApiVersion(req));
  });

  app.post<{ Params: EndpointParams }>(`${WS_PREFIX}/onlineEndpoints/:endpointName/listKeys`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const e = liveEndpoint(ctx, req.params.endpointName);
    if (!e) throw notFound('online endpoint', req.params.endpointName);
    return { primaryKey: e.keys.primaryKey, secondaryKey: e.keys.secondaryKey };
  });
}
