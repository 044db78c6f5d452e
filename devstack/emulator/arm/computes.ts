// AmlCompute clusters: PUT (LRO via Azure-AsyncOperation), GET, list, DELETE (LRO via Location).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { effectiveDurations, lifecycleState, newLifecycle } from '../clock';
import { isoTime, ML_PROVIDER, sameName, systemData, workspaceArmId, type EmulatorContext } from '../context';
import { conflict, notFound, userError } from '../errors';
import { asNumber, asObject, asString, asStringMap, cloneJson, type JsonObject } from '../json';
import { requestApiVersion } from '../policies';
import { computeQuotaFailure } from '../quota';
import { allocationsOn, computeScale, nodesAt } from '../records';
import type { ComputeRecord } from '../store';
import {
  ARM_ROUTE,
  ISO_DURATION,
  newOperation,
  replyAccepted,
  replyCreated,
  requireWorkspace,
  WS_PREFIX,
  type ProvisioningFailure,
  type WorkspaceParams,
} from './common';
import { findVmSize } from './vmSizes';

type ComputeParams = WorkspaceParams & { computeName: string };

const COMPUTE_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,31}$/;

export function liveCompute(ctx: EmulatorContext, name: string): ComputeRecord | undefined {
  const now = ctx.now();
  return ctx.store.state.computes.findLast(
    (c) => sameName(c.name, name) && lifecycleState(c.lifecycle, now) !== 'Gone',
  );
}

export function computeResourceId(ctx: EmulatorContext, name: string): string {
  return `${workspaceArmId(ctx)}/computes/${name}`;
}

function computeResource(ctx: EmulatorContext, c: ComputeRecord): JsonObject {
  const now = ctx.now();
  const state = lifecycleState(c.lifecycle, now);
  const props = cloneJson(c.properties);
  const inner = asObject(props['properties']) ?? {};
  const scale = asObject(inner['scaleSettings']) ?? {};
  const allocations = state === 'Succeeded' ? allocationsOn(c, ctx.store.state.jobs, now) : [];
  const nodes = state === 'Succeeded' ? nodesAt(c, allocations, now) : 0;
  const { minNodes } = computeScale(c);
  const busy = Math.max(0, nodes - minNodes) > 0 ? nodes : 0;
  const error = c.lifecycle.provisionError;
  return {
    id: computeResourceId(ctx, c.name),
    name: c.name,
    type: `${ML_PROVIDER}/workspaces/computes`,
    location: c.location,
    tags: c.tags,
    systemData: systemData(ctx, c.lifecycle.createdAt, c.modifiedAt),
    properties: {
      ...props,
      computeType: 'AmlCompute',
      computeLocation: c.location,
      provisioningState: state === 'Gone' ? 'Deleting' : state,
      createdOn: isoTime(c.lifecycle.createdAt),
      modifiedOn: isoTime(c.modifiedAt),
      provisioningErrors:
        state === 'Failed' && error ? [{ error: { code: error.code, message: error.message } }] : null,
      isAttachedCompute: false,
      disableLocalAuth: false,
      properties: {
        vmPriority: 'Dedicated',
        osType: 'Linux',
        remoteLoginPortPublicAccess: 'NotSpecified',
        enableNodePublicIp: true,
        isolatedNetwork: false,
        ...inner,
        scaleSettings: { minNodeCount: 0, nodeIdleTimeBeforeScaleDown: 'PT120S', ...scale },
        allocationState: 'Steady',
        allocationStateTransitionTime: isoTime(c.lifecycle.createdAt),
        errors: null,
        currentNodeCount: nodes,
        targetNodeCount: nodes,
        nodeStateCounts: {
          idleNodeCount: nodes - busy,
          runningNodeCount: busy,
          preparingNodeCount: 0,
          unusableNodeCount: 0,
          leavingNodeCount: 0,
          preemptedNodeCount: 0,
        },
      },
    },
  };
}

/** Validates an AmlCompute PUT body; returns location, tags, the Compute properties and vmSize. */
function parseComputeBody(body: unknown): {
  location: string;
  tags: Record<string, string>;
  properties: JsonObject;
  vmSize: string;
  family: string;
  vCPUs: number;
  minNodes: number;
} {
  const root = asObject(body);
  if (!root) throw userError('body', 'The request body must be a JSON object (ComputeResource).');
  const location = asString(root['location']);
  if (!location) throw userError('location', "The field 'location' is required.");
  const properties = asObject(root['properties']);
  if (!properties) throw userError('properties', "The field 'properties' is required.");
  const computeType = asString(properties['computeType']);
  if (computeType !== 'AmlCompute') {
    throw userError(
      'properties.computeType',
      `Compute type '${computeType ?? ''}' is not supported by this workspace emulator; use 'AmlCompute'.`,
    );
  }
  const inner = asObject(properties['properties']);
  const vmSize = asString(inner?.['vmSize']);
  if (!inner || !vmSize)
    throw userError('properties.properties.vmSize', "The field 'properties.properties.vmSize' is required.");
  const size = findVmSize(vmSize);
  if (!size)
    throw userError(
      'properties.properties.vmSize',
      `VM size '${vmSize}' is not available in this region. See the vmSizes list.`,
    );
  const scale = asObject(inner['scaleSettings']);
  const max = asNumber(scale?.['maxNodeCount']);
  if (!scale || max === undefined || !Number.isInteger(max) || max < 0) {
    throw userError(
      'properties.properties.scaleSettings.maxNodeCount',
      "The field 'scaleSettings.maxNodeCount' is required and must be an integer >= 0.",
    );
  }
  const min = scale['minNodeCount'] === undefined ? 0 : asNumber(scale['minNodeCount']);
  if (min === undefined || !Number.isInteger(min) || min < 0 || min > max) {
    throw userError(
      'properties.properties.scaleSettings.minNodeCount',
      `minNodeCount must be an integer between 0 and maxNodeCount (${max}).`,
    );
  }
  const idle = scale['nodeIdleTimeBeforeScaleDown'];
  if (idle !== undefined && idle !== null && !(typeof idle === 'string' && ISO_DURATION.test(idle))) {
    throw userError(
      'properties.properties.scaleSettings.nodeIdleTimeBeforeScaleDown',
      'nodeIdleTimeBeforeScaleDown must be an ISO-8601 duration such as PT120S.',
    );
  }
  return {
    location,
    tags: asStringMap(root['tags']),
    properties: cloneJson(properties),
    vmSize: size.name,
    family: size.family,
    vCPUs: size.vCPUs,
    minNodes: min,
  };
}

export function registerComputeRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.get<{ Params: WorkspaceParams }>(`${WS_PREFIX}/computes`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const now = ctx.now();
    return {
      value: ctx.store.state.computes
        .filter((c) => lifecycleState(c.lifecycle, now) !== 'Gone')
        .map((c) => computeResource(ctx, c)),
    };
  });

  app.get<{ Params: ComputeParams }>(`${WS_PREFIX}/computes/:computeName`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const c = liveCompute(ctx, req.params.computeName);
    if (!c) throw notFound('compute', req.params.computeName);
    return computeResource(ctx, c);
  });

  app.put<{ Params: ComputeParams }>(`${WS_PREFIX}/computes/:computeName`, ARM_ROUTE, (req, reply) => {
    requireWorkspace(ctx, req.params);
    const name = req.params.computeName;
    if (!COMPUTE_NAME.test(name)) {
      throw userError(
        'computeName',
        `Invalid compute name '${name}': 2-32 characters, starting with a letter; letters, digits and '-' only.`,
      );
    }
    const parsed = parseComputeBody(req.body);
    const now = ctx.now();
    const existing = liveCompute(ctx, name);
    if (existing) {
      const existingState = lifecycleState(existing.lifecycle, now);
      if (existingState === 'Failed')
        throw conflict(`Compute '${name}' is in state Failed; delete it before creating it again.`);
      if (existingState === 'Deleting')
        throw conflict(`Compute '${name}' is being deleted; retry when the deletion has finished.`);
      const oldSize = asString(asObject(existing.properties['properties'])?.['vmSize']);
      if (oldSize && oldSize.toLowerCase() !== parsed.vmSize.toLowerCase()) {
        throw userError(
          'properties.properties.vmSize',
          `The VM size of existing compute '${name}' is '${oldSize}' and cannot be changed to '${parsed.vmSize}'.`,
        );
      }
      existing.properties = parsed.properties;
      existing.tags = parsed.tags;
      existing.modifiedAt = now;
      ctx.store.commit();
      return reply.code(200).send(computeResource(ctx, existing));
    }
    const durations = effectiveDurations(ctx.config.clock);
    // Quota is checked when the cluster provisions: a family quota that cannot hold one node (or
    // the minimum) leaves the cluster Failed, as Azure ML does; so does an injected fault.
    const injected = ctx.faults.take(req, 'failProvisioning');
    const quotaFault = ctx.faults.take(req, 'quota');
    const failure: ProvisioningFailure | undefined = injected
      ? {
          code: injected.code ?? 'ComputeProvisioningFailed',
          message: injected.message ?? `Compute '${name}' failed to provision (fault injected by the emulator).`,
        }
      : quotaFault
        ? computeQuotaFailure(ctx, parsed.vmSize, parsed.minNodes, parsed.family, parsed.vCPUs, 0)
        : computeQuotaFailure(ctx, parsed.vmSize, parsed.minNodes, parsed.family, parsed.vCPUs);
    const record: ComputeRecord = {
      uid: randomUUID(),
      name,
      location: parsed.location,
      tags: parsed.tags,
      properties: parsed.properties,
      modifiedAt: now,
      lifecycle: newLifecycle(now, durations, failure),
    };
    ctx.store.state.computes.push(record);
    const op = newOperation(ctx, 'cp', 'compute-create', computeResourceId(ctx, name), durations.provisionMs, failure);
    ctx.store.commit();
    return replyCreated(ctx, reply, op, requestApiVersion(req), computeResource(ctx, record));
  });

  app.delete<{ Params: ComputeParams }>(`${WS_PREFIX}/computes/:computeName`, ARM_ROUTE, (req, reply) => {
    requireWorkspace(ctx, req.params);
    const c = liveCompute(ctx, req.params.computeName);
    if (!c) return reply.code(204).send();
    const now = ctx.now();
    // A repeated DELETE while deleting gets a new operation that ends when the deletion does.
    c.lifecycle.deleteRequestedAt ??= now;
    const remaining = c.lifecycle.deleteRequestedAt + c.lifecycle.deleteMs - now;
    const op = newOperation(ctx, 'cd', 'compute-delete', computeResourceId(ctx, c.name), remaining);
    ctx.store.commit();
    return replyAccepted(ctx, reply, op, requestApiVersion(req), true);
  });
}
