// Managed online deployments: PUT (LRO 201 + Azure-AsyncOperation), GET, list, DELETE (202 +
// Location). The body is checked as Azure checks it: model exists, instance type is a known
// size, durations are ISO-8601, capacity >= 1.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { effectiveDurations, lifecycleState, newLifecycle } from '../clock';
import { ML_PROVIDER, sameName, systemData, type EmulatorContext } from '../context';
import { parseRegistryAssetId, parseWorkspaceModelId } from '../assetIds';
import { conflict, notFound, parentNotFound, userError } from '../errors';
import { asNumber, asObject, asString, asStringMap, cloneJson, type JsonObject } from '../json';
import { requestApiVersion } from '../policies';
import { deploymentQuotaFailure, QUOTA_TROUBLESHOOTING } from '../quota';
import type { DeploymentRecord, EndpointRecord } from '../store';
import {
  ARM_ROUTE,
  checkEndpointName,
  ISO_DURATION,
  newOperation,
  replyAccepted,
  replyCreated,
  requireWorkspace,
  WS_PREFIX,
  type ProvisioningFailure,
} from './common';
import { findModelVersion } from './models';
import {
  deploymentArmId,
  endpointState,
  endpointTraffic,
  liveDeployments,
  liveEndpoint,
  type EndpointParams,
} from './onlineEndpoints';
import { findVmSize, VM_SIZES } from './vmSizes';

type DeploymentParams = EndpointParams & { deploymentName: string };

const PROBE_DEFAULTS = {
  failureThreshold: 30,
  successThreshold: 1,
  timeout: 'PT2S',
  period: 'PT10S',
  initialDelay: 'PT10S',
};
const REQUEST_DEFAULTS = { maxConcurrentRequestsPerInstance: 1, maxQueueWait: 'PT0.5S', requestTimeout: 'PT5S' };

function deploymentResource(ctx: EmulatorContext, d: DeploymentRecord): JsonObject {
  const state = lifecycleState(d.lifecycle, ctx.now());
  const props = cloneJson(d.properties);
  return {
    id: deploymentArmId(ctx, d.endpointName, d.name),
    name: d.name,
    type: `${ML_PROVIDER}/workspaces/onlineEndpoints/deployments`,
    location: d.location,
    tags: d.tags,
    ...(d.kind ? { kind: d.kind } : {}),
    sku: { name: 'Default', capacity: 1, ...cloneJson(d.sku) },
    systemData: systemData(ctx, d.lifecycle.createdAt, d.modifiedAt),
    properties: {
      appInsightsEnabled: false,
      egressPublicNetworkAccess: 'Enabled',
      scaleSettings: { scaleType: 'Default' },
      ...props,
      livenessProbe: { ...PROBE_DEFAULTS, ...(asObject(props['livenessProbe']) ?? {}) },
      readinessProbe: { ...PROBE_DEFAULTS, ...(asObject(props['readinessProbe']) ?? {}) },
      requestSettings: { ...REQUEST_DEFAULTS, ...(asObject(props['requestSettings']) ?? {}) },
      properties: asStringMap(props['properties']),
      provisioningState: state === 'Gone' ? 'Deleting' : state,
    },
  };
}

function checkDurations(field: string, value: unknown, keys: readonly string[]): void {
  if (value === undefined || value === null) return;
  const o = asObject(value);
  if (!o) throw userError(field, `${field} must be an object.`);
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !ISO_DURATION.test(v)) {
      throw userError(
        `${field}.${k}`,
        `${field}.${k} must be an ISO-8601 duration such as PT10M or PT1M30S (got ${JSON.stringify(v)}).`,
      );
    }
  }
  for (const k of ['failureThreshold', 'successThreshold', 'maxConcurrentRequestsPerInstance']) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    const n = asNumber(v);
    if (n === undefined || !Number.isInteger(n) || n < 1)
      throw userError(`${field}.${k}`, `${field}.${k} must be an integer >= 1.`);
  }
}

function checkModel(ctx: EmulatorContext, model: string | undefined): void {
  const field = 'properties.model';
  if (!model) throw userError(field, "The field 'properties.model' (the ARM id of a model version) is required.");
  const ws = parseWorkspaceModelId(model);
  if (ws) {
    const ids = ctx.config.identities;
    const here =
      sameName(ws.subscriptionId, ids.subscriptionId) &&
      sameName(ws.resourceGroup, ids.resourceGroup) &&
      sameName(ws.workspace, ids.workspace);
    if (!here || !findModelVersion(ctx, ws.name, ws.version)) throw userError(field, `Model '${model}' was not found.`);
    return;
  }
  const reg = parseRegistryAssetId(model);
  if (
    reg?.kind === 'models' &&
    reg.version !== undefined &&
    sameName(reg.registry, ctx.config.identities.registryName) &&
    ctx.catalog.model(reg.name, reg.version)
  )
    return;
  throw userError(
    field,
    `Model '${model}' was not found; pass the ARM id of a registered model version (…/workspaces/<ws>/models/<name>/versions/<version>).`,
  );
}

function parseDeploymentBody(
  ctx: EmulatorContext,
  body: unknown,
): { location: string; tags: Record<string, string>; kind?: string; sku: JsonObject; properties: JsonObject } {
  const root = asObject(body);
  const location = asString(root?.['location']);
  if (!root || !location) throw userError('location', "The field 'location' is required.");
  const props = asObject(root['properties']);
  if (!props) throw userError('properties', "The field 'properties' is required.");
  const computeType = asString(props['endpointComputeType']);
  if (computeType !== 'Managed')
    throw userError(
      'properties.endpointComputeType',
      `endpointComputeType '${computeType ?? ''}' is not supported by the emulator; use 'Managed'.`,
    );
  checkModel(ctx, asString(props['model']));
  const instanceType = asString(props['instanceType']);
  if (!instanceType) throw userError('properties.instanceType', "The field 'properties.instanceType' is required.");
  if (!findVmSize(instanceType)?.managedOnline) {
    const supported = VM_SIZES.filter((v) => v.managedOnline).map((v) => v.name);
    throw userError(
      'properties.instanceType',
      `Instance type '${instanceType}' is not supported for managed online deployments in this region. Supported: ${supported.join(', ')}.`,
    );
  }
  checkDurations('properties.livenessProbe', props['livenessProbe'], ['timeout', 'period', 'initialDelay']);
  checkDurations('properties.readinessProbe', props['readinessProbe'], ['timeout', 'period', 'initialDelay']);
  checkDurations('properties.requestSettings', props['requestSettings'], ['requestTimeout', 'maxQueueWait']);
  const sku = asObject(root['sku']) ?? { name: 'Default', capacity: 1 };
  const capacity = sku['capacity'] === undefined ? 1 : asNumber(sku['capacity']);
  if (capacity === undefined || !Number.isInteger(capacity) || capacity < 1)
    throw userError('sku.capacity', 'sku.capacity (the instance count) must be an integer >= 1.');
  const kind = asString(root['kind']);
  return {
    location,
    tags: asStringMap(root['tags']),
    ...(kind ? { kind } : {}),
    sku: cloneJson(sku),
    properties: cloneJson(props),
  };
}

export function registerDeploymentRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const endpointOf = (p: DeploymentParams | EndpointParams): EndpointRecord => {
    requireWorkspace(ctx, p);
    const e = liveEndpoint(ctx, p.endpointName);
    if (!e) throw parentNotFound(p.endpointName);
    return e;
  };

  app.get<{ Params: EndpointParams }>(`${WS_PREFIX}/onlineEndpoints/:endpointName/deployments`, ARM_ROUTE, (req) => {
    const e = endpointOf(req.params);
    return { value: liveDeployments(ctx, e).map((d) => deploymentResource(ctx, d)) };
  });

  app.get<{ Params: DeploymentParams }>(
    `${WS_PREFIX}/onlineEndpoints/:endpointName/deployments/:deploymentName`,
    ARM_ROUTE,
    (req) => {
      const e = endpointOf(req.params);
      const d = liveDeployments(ctx, e).find((x) => sameName(x.name, req.params.deploymentName));
      if (!d) throw notFound('online deployment', req.params.deploymentName);
      return deploymentResource(ctx, d);
    },
  );

  app.put<{ Params: DeploymentParams }>(
    `${WS_PREFIX}/onlineEndpoints/:endpointName/deployments/:deploymentName`,
    ARM_ROUTE,
    (req, reply) => {
      const e = endpointOf(req.params);
      const name = req.params.deploymentName;
      checkEndpointName('deploymentName', name);
      const endpointStateNow = endpointState(ctx, e);
      if (endpointStateNow !== 'Succeeded' && endpointStateNow !== 'Updating') {
        throw conflict(
          `Online endpoint '${e.name}' is ${endpointStateNow}; deployments can be created once it has Succeeded.`,
        );
      }
      const parsed = parseDeploymentBody(ctx, req.body);
      const now = ctx.now();
      const clock = effectiveDurations(ctx.config.clock);
      const apiVersion = requestApiVersion(req);
      const existing = liveDeployments(ctx, e).find((x) => sameName(x.name, name));
      const instanceType = asString(parsed.properties['instanceType']) ?? '';
      const capacity = asNumber(parsed.sku['capacity']) ?? 1;
      // Quota (with the upgrade reserve) is checked when the deployment provisions: beyond it the
      // deployment fails with OutOfQuota, reported in the operation status, as Azure ML reports it.
      const injected = ctx.faults.take(req, 'failProvisioning');
      const forcedQuota = ctx.faults.take(req, 'quota');
      const limitReached = !existing && liveDeployments(ctx, e).length >= ctx.config.quotas.maxDeploymentsPerEndpoint;
      const failure: ProvisioningFailure | undefined = injected
        ? {
            code: injected.code ?? 'DeploymentProvisioningFailed',
            message: injected.message ?? `Deployment '${name}' failed to provision (fault injected by the emulator).`,
          }
        : forcedQuota
          ? {
              code: 'OutOfQuota',
              message: `Not enough quota available for ${instanceType} (fault injected by the emulator). See ${QUOTA_TROUBLESHOOTING}`,
            }
          : limitReached
            ? {
                code: 'OutOfQuota',
                message: `Endpoint '${e.name}' already has ${ctx.config.quotas.maxDeploymentsPerEndpoint} deployments, its limit. See ${QUOTA_TROUBLESHOOTING}`,
              }
            : deploymentQuotaFailure(ctx, instanceType, capacity, existing?.uid);
      if (existing) {
        const state = lifecycleState(existing.lifecycle, now);
        if (state === 'Deleting')
          throw conflict(`Deployment '${name}' is being deleted; retry after the deletion has finished.`);
        const history = existing.capacityHistory ?? [
          [existing.lifecycle.createdAt, asNumber(existing.sku['capacity']) ?? 1],
        ];
        if (history[history.length - 1]?.[1] !== capacity) history.push([now, capacity]);
        Object.assign(existing, {
          tags: parsed.tags,
          sku: parsed.sku,
          properties: parsed.properties,
          modifiedAt: now,
          capacityHistory: history,
        });
        if (state !== 'Creating') {
          Object.assign(existing.lifecycle, {
            provisionStartedAt: now,
            provisionKind: 'Updating',
            provisionMs: clock.provisionMs,
            provisionOutcome: failure ? 'Failed' : 'Succeeded',
            provisionError: failure,
          });
        }
        const remaining = existing.lifecycle.provisionStartedAt + existing.lifecycle.provisionMs - now;
        const op = newOperation(
          ctx,
          'od',
          'deployment-update',
          deploymentArmId(ctx, e.name, name),
          Math.max(0, remaining),
          state !== 'Creating' ? failure : existing.lifecycle.provisionError,
        );
        existing.lastOperationId = op.id;
        ctx.store.commit();
        return replyCreated(ctx, reply, op, apiVersion, deploymentResource(ctx, existing));
      }
      const op = newOperation(
        ctx,
        'od',
        'deployment-create',
        deploymentArmId(ctx, e.name, name),
        clock.provisionMs,
        failure,
      );
      const record: DeploymentRecord = {
        uid: randomUUID(),
        endpointUid: e.uid,
        endpointName: e.name,
        name,
        location: parsed.location,
        tags: parsed.tags,
        ...(parsed.kind ? { kind: parsed.kind } : {}),
        sku: parsed.sku,
        capacityHistory: [[now, capacity]],
        properties: parsed.properties,
        modifiedAt: now,
        lastOperationId: op.id,
        lifecycle: newLifecycle(now, clock, failure),
      };
      ctx.store.state.deployments.push(record);
      ctx.store.commit();
      return replyCreated(ctx, reply, op, apiVersion, deploymentResource(ctx, record));
    },
  );

  app.delete<{ Params: DeploymentParams }>(
    `${WS_PREFIX}/onlineEndpoints/:endpointName/deployments/:deploymentName`,
    ARM_ROUTE,
    (req, reply) => {
      const e = endpointOf(req.params);
      const d = liveDeployments(ctx, e).find((x) => sameName(x.name, req.params.deploymentName));
      if (!d) return reply.code(204).send();
      if ((endpointTraffic(e)[d.name] ?? 0) > 0) {
        throw conflict(
          `Deployment '${d.name}' receives ${endpointTraffic(e)[d.name] ?? 0}% of the traffic of endpoint '${e.name}'; set its traffic to 0 before deleting it.`,
        );
      }
      const now = ctx.now();
      d.lifecycle.deleteRequestedAt ??= now;
      const remaining = d.lifecycle.deleteRequestedAt + d.lifecycle.deleteMs - now;
      const op = newOperation(
        ctx,
        'od',
        'deployment-delete',
        deploymentArmId(ctx, e.name, d.name),
        Math.max(0, remaining),
      );
      d.lastOperationId = op.id;
      ctx.store.commit();
      return replyAccepted(ctx, reply, op, requestApiVersion(req));
    },
  );
}
