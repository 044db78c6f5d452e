// Local-only administration, outside ARM's paths (/_emulator/...). No authentication; answered only
// to loopback clients.
//   GET  health                  status, url, catalog
//   GET  resources               every resource ever created, with creation/deletion times and PUT counts;
//                                each job's status history (every status it had, with the emulator time it began)
//   GET  billing                 billable seconds per endpoint, deployment (× instances), compute node and job,
//                                in US dollars at the product's list prices (finetune-flow/cost)
//   GET  requests                the request log (?method=&pathContains=; &bodies=1 adds writes' JSON bodies)
//   POST reset                   forget resources, requests, faults, throttle buckets, contract records
//   GET  clock / PUT clock       durations, speed, time mode (real|stepped) and now
//   POST clock/advance {ms}      move emulator time forward (stepped mode: the only way it moves)
//   GET  faults / POST faults / DELETE faults / DELETE faults/:id
//   GET  throttle / PUT throttle bucket limits (and enabled), with the live buckets
//   GET  quotas / PUT quotas     quota limits and current usage
//   GET  contract / DELETE contract   contract-check counters, covered operations, violations
//   GET  studio/runs/:name       what a job's Studio link shows locally
//   POST registry/models         add a registry model version (a copy of a catalog model with changes)
//   PUT  event-subscriptions/:name   an Event Grid webhook subscription on the workspace (ARM's body:
//                                properties.destination.properties.endpointUrl, eventDeliverySchema,
//                                filter.includedEventTypes); the validation handshake runs first
//   GET  event-subscriptions / DELETE event-subscriptions/:name   with each one's delivery counts
//   GET  event-settings / PUT event-settings   duplicate, reorder and lose rates, seed, retry scale
import type { FastifyInstance } from 'fastify';
import { billingReport, lifetime } from './billing';
import { JOB_PHASES, jobEndedAt, jobStatus, jobStatusHistory, type EmulatorClock, type TimeMode } from './clock';
import { isoTime, type EmulatorContext } from './context';
import { ArmError } from './errors';
import { asNumber, asObject, asString, isObject, queryParam } from './json';
import { checkClock } from './options';
import { putTarget } from './policies';
import { checkQuotaConfig, currentUsage, usageList, type QuotaConfig } from './quota';
import { computeScale, deploymentCapacity, jobTimeline } from './records';
import { checkBucketLimit, type ThrottleConfig } from './throttle';
import { computeResourceId } from './arm/computes';
import { jobArmId, studioUrl } from './arm/jobs';
import { modelVersionId } from './arm/models';
import { deploymentArmId, endpointArmId, endpointTraffic } from './arm/onlineEndpoints';
import { lifecycleState } from './clock';
import type { DeliverySchema, EmulatorEvents } from './events';
import type { EventSettings } from './eventSettings';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

function badRequest(message: string): ArmError {
  return new ArmError(400, 'ValidationError', message);
}

export function registerAdminRoutes(
  app: FastifyInstance,
  ctx: EmulatorContext,
  startedAt: number,
  events: EmulatorEvents,
): void {
  const config = { surface: 'admin' as const };
  const puts = (id: string): number => ctx.store.state.putCounts?.[putTarget(id)] ?? 0;

  const clockView = () => ({
    ...ctx.config.clock,
    jobPhases: { ...ctx.config.clock.jobPhases },
    mode: ctx.time.mode,
    now: isoTime(ctx.now()),
    nowMs: ctx.now(),
  });

  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (req) => {
        if (!LOOPBACK.test(req.socket.remoteAddress ?? ''))
          throw new ArmError(403, 'Forbidden', 'The emulator admin API answers local clients only.');
      });

      admin.get('/health', { config }, () => ({
        status: 'ok',
        url: ctx.baseUrl(),
        startedAt: isoTime(startedAt),
        catalog: ctx.catalog.name,
        azurite: ctx.blob !== undefined,
      }));

      admin.get('/resources', { config }, () => {
        const now = ctx.now();
        const s = ctx.store.state;
        const endpoints = s.endpoints.map((e) => {
          const id = endpointArmId(ctx, e.name);
          return {
            id,
            name: e.name,
            uid: e.uid,
            state: lifecycleState(e.lifecycle, now),
            traffic: endpointTraffic(e),
            tags: e.tags,
            putCount: puts(id),
            ...lifetime(e.lifecycle, now),
            error: e.lifecycle.provisionError ?? null,
          };
        });
        const deployments = s.deployments.map((d) => {
          const id = deploymentArmId(ctx, d.endpointName, d.name);
          return {
            id,
            name: d.name,
            endpoint: d.endpointName,
            endpointUid: d.endpointUid,
            state: lifecycleState(d.lifecycle, now),
            instanceType: asString(d.properties['instanceType']) ?? null,
            capacity: deploymentCapacity(d),
            putCount: puts(id),
            ...lifetime(d.lifecycle, now),
            error: d.lifecycle.provisionError ?? null,
          };
        });
        const computes = s.computes.map((c) => {
          const id = computeResourceId(ctx, c.name);
          const scale = computeScale(c);
          return {
            id,
            name: c.name,
            state: lifecycleState(c.lifecycle, now),
            vmSize: scale.vmSize || null,
            minNodes: scale.minNodes,
            maxNodes: scale.maxNodes,
            putCount: puts(id),
            ...lifetime(c.lifecycle, now),
            error: c.lifecycle.provisionError ?? null,
          };
        });
        const jobs = s.jobs.map((j) => {
          const id = jobArmId(ctx, j.name);
          const timeline = jobTimeline(j);
          const ended = jobEndedAt(timeline, now);
          return {
            id,
            name: j.name,
            state: jobStatus(timeline, now),
            experimentName: j.experimentName,
            createdAt: isoTime(j.createdAt),
            endedAt: ended !== undefined ? isoTime(ended) : null,
            cancelRequestedAt: j.cancelRequestedAt !== undefined ? isoTime(j.cancelRequestedAt) : null,
            failure: j.failure ?? null,
            computes: j.computes ?? [],
            putCount: puts(id),
            // Every status so far with the emulator time it began (the ARM body only says the current one).
            statusHistory: jobStatusHistory(timeline, now).map((c) => ({ status: c.status, at: isoTime(c.at) })),
          };
        });
        const models = s.models.map((m) => {
          const id = modelVersionId(ctx, m.name, m.version);
          return {
            id,
            name: m.name,
            version: m.version,
            state: 'Succeeded',
            createdAt: isoTime(m.createdAt),
            jobName: asString(m.properties['jobName']) ?? null,
            putCount: puts(id),
          };
        });
        return {
          now: isoTime(now),
          counts: {
            liveEndpoints: endpoints.filter((e) => e.state !== 'Gone').length,
            liveDeployments: deployments.filter((d) => d.state !== 'Gone').length,
            liveComputes: computes.filter((c) => c.state !== 'Gone').length,
            activeJobs: jobs.filter((j) => !['Completed', 'Failed', 'Canceled'].includes(j.state)).length,
            jobs: jobs.length,
            models: models.length,
          },
          endpoints,
          deployments,
          jobs,
          models,
          computes,
        };
      });

      admin.get('/billing', { config }, () => billingReport(ctx));

      admin.get('/requests', { config }, (req) => {
        const method = queryParam(req.query, 'method')?.toUpperCase();
        const contains = queryParam(req.query, 'pathContains');
        const withBodies = queryParam(req.query, 'bodies') === '1';
        const requests = ctx.requests
          .list()
          .filter((r) => (!method || r.method === method) && (!contains || r.path.includes(contains)))
          .map((r) => (withBodies || r.body === undefined ? r : { ...r, body: undefined }));
        return { count: requests.length, requests };
      });

      // Every request answered, by surface and method (the log above keeps only the latest ones).
      admin.get('/requests/counts', { config }, () => ({
        counts: ctx.requests.counts(),
        jobReads: ctx.requests.jobReads(),
      }));

      admin.post('/reset', { config }, () => {
        ctx.store.reset();
        ctx.requests.clear();
        ctx.faults.clear();
        ctx.throttle.reset();
        ctx.contract.clear();
        ctx.catalog.reset();
        return { status: 'reset' };
      });

      // ---- time ---------------------------------------------------------------------------------
      // Durations apply to resources created from then on (each record keeps the durations it was
      // created with, so changing them never moves an existing job or endpoint).
      admin.get('/clock', { config }, clockView);
      admin.put('/clock', { config }, (req) => {
        const body = asObject(req.body) ?? {};
        const next: EmulatorClock = { ...ctx.config.clock, jobPhases: { ...ctx.config.clock.jobPhases } };
        for (const key of ['jobPhaseMs', 'provisionMs', 'deleteMs', 'cancelMs', 'speed'] as const) {
          if (body[key] === undefined) continue;
          const value = asNumber(body[key]);
          if (value === undefined) throw badRequest(`clock.${key} must be a number`);
          next[key] = value;
        }
        if (body['jobPhases'] !== undefined) {
          if (!isObject(body['jobPhases']))
            throw badRequest(`clock.jobPhases must be an object of ${JOB_PHASES.join(', ')} → ms`);
          next.jobPhases = {};
          for (const [phase, v] of Object.entries(body['jobPhases'])) {
            const ms = asNumber(v);
            if (ms === undefined) throw badRequest(`clock.jobPhases.${phase} must be a number`);
            (next.jobPhases as Record<string, number>)[phase] = ms;
          }
        }
        let mode: TimeMode | undefined;
        if (body['mode'] !== undefined) {
          if (body['mode'] !== 'real' && body['mode'] !== 'stepped')
            throw badRequest("clock.mode must be 'real' or 'stepped'");
          mode = body['mode'];
        }
        try {
          checkClock(next);
        } catch (err) {
          throw badRequest(err instanceof Error ? err.message.replace(/^emulator: /, '') : String(err));
        }
        Object.assign(ctx.config.clock, next);
        if (mode) ctx.time.setMode(mode);
        return clockView();
      });
      admin.post('/clock/advance', { config }, (req) => {
        const ms = asNumber(asObject(req.body)?.['ms']);
        if (ms === undefined || ms < 0) throw badRequest('advance needs {"ms": <milliseconds >= 0>}');
        ctx.time.advance(ms);
        return clockView();
      });

      // ---- faults -------------------------------------------------------------------------------
      admin.get('/faults', { config }, () => ({ rules: ctx.faults.list() }));
      admin.post('/faults', { config }, (req, reply) => {
        const body = req.body;
        const inputs =
          isObject(body) && Array.isArray(body['rules']) ? body['rules'] : Array.isArray(body) ? body : [body];
        const rules = inputs.map((r) => ctx.faults.add(r));
        return reply.code(201).send({ rules });
      });
      admin.delete('/faults', { config }, () => ({ removed: ctx.faults.clear() }));
      admin.delete<{ Params: { id: string } }>('/faults/:id', { config }, (req) => {
        if (!ctx.faults.remove(req.params.id))
          throw new ArmError(404, 'NotFound', `Fault rule '${req.params.id}' was not found.`);
        return { removed: 1 };
      });

      // ---- throttling ---------------------------------------------------------------------------
      admin.get('/throttle', { config }, () => ({ ...ctx.throttle.settings, ...ctx.throttle.stats() }));
      admin.put('/throttle', { config }, (req) => {
        const body = asObject(req.body) ?? {};
        const next: ThrottleConfig = ctx.throttle.settings;
        if (body['enabled'] !== undefined) {
          if (typeof body['enabled'] !== 'boolean') throw badRequest('throttle.enabled must be a boolean');
          next.enabled = body['enabled'];
        }
        for (const type of ['reads', 'writes', 'deletes'] as const) {
          const limit = asObject(body[type]);
          if (body[type] === undefined) continue;
          if (!limit) throw badRequest(`throttle.${type} must be {capacity, refillPerSecond}`);
          next[type] = {
            capacity: asNumber(limit['capacity']) ?? next[type].capacity,
            refillPerSecond: asNumber(limit['refillPerSecond']) ?? next[type].refillPerSecond,
          };
          try {
            checkBucketLimit(type, next[type]);
          } catch (err) {
            throw badRequest(err instanceof Error ? err.message.replace(/^emulator: /, '') : String(err));
          }
        }
        ctx.throttle.configure(next);
        return { ...ctx.throttle.settings, ...ctx.throttle.stats() };
      });

      // ---- quotas -------------------------------------------------------------------------------
      const quotaView = () => {
        const usage = currentUsage(ctx);
        return {
          ...ctx.config.quotas,
          usage: {
            families: Object.fromEntries(usage.families),
            totalVcpus: usage.total,
            clusters: usage.clusters,
            endpoints: usage.endpoints,
          },
          usages: usageList(ctx, ctx.config.identities.subscriptionId, ctx.config.identities.location),
        };
      };
      admin.get('/quotas', { config }, quotaView);
      admin.put('/quotas', { config }, (req) => {
        const body = asObject(req.body) ?? {};
        const next: QuotaConfig = { ...ctx.config.quotas, familyVcpus: { ...ctx.config.quotas.familyVcpus } };
        for (const key of [
          'defaultFamilyVcpus',
          'totalRegionalVcpus',
          'maxClusters',
          'maxEndpoints',
          'maxDeploymentsPerEndpoint',
          'upgradeReservePercent',
        ] as const) {
          if (body[key] === undefined) continue;
          const v = asNumber(body[key]);
          if (v === undefined) throw badRequest(`quotas.${key} must be a number`);
          next[key] = v;
        }
        if (body['familyVcpus'] !== undefined) {
          if (!isObject(body['familyVcpus']))
            throw badRequest('quotas.familyVcpus must be an object of family → vCPUs');
          for (const [family, v] of Object.entries(body['familyVcpus'])) {
            const n = asNumber(v);
            if (n === undefined) throw badRequest(`quotas.familyVcpus.${family} must be a number`);
            next.familyVcpus[family] = n;
          }
        }
        try {
          checkQuotaConfig(next);
        } catch (err) {
          throw badRequest(err instanceof Error ? err.message.replace(/^emulator: /, '') : String(err));
        }
        Object.assign(ctx.config.quotas, next);
        return quotaView();
      });

      // ---- contract -----------------------------------------------------------------------------
      admin.get('/contract', { config }, () => ctx.contract.report());
      admin.delete('/contract', { config }, () => {
        ctx.contract.clear();
        return { status: 'cleared' };
      });

      // ---- registry content -------------------------------------------------------------------
      // A model version the catalog does not have (e.g. an archived one, for tests that must see a
      // run refuse it): {"name", "version"?, "from"?, "isArchived"?, "tags"?, "createdAt"?, "systemMetadata"?}.
      // It copies `from` (default: the catalog's first model), then applies the changes; tags are merged,
      // systemMetadata replaces the copied block.
      admin.post('/registry/models', { config }, (req, reply) => {
        const body = asObject(req.body) ?? {};
        const name = asString(body['name']);
        if (!name || !/^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}$/.test(name))
          throw badRequest('registry model needs a "name" (letters, digits, ".", "-", "_")');
        const fromName = asString(body['from']);
        const base = fromName ? ctx.catalog.models.find((m) => m.name === fromName) : ctx.catalog.models[0];
        if (!base) throw badRequest(`no catalog model named "${fromName ?? ''}" to copy`);
        if (body['isArchived'] !== undefined && typeof body['isArchived'] !== 'boolean')
          throw badRequest('"isArchived" must be a boolean');
        const tags = asObject(body['tags']) ?? {};
        const extraTags: Record<string, string> = {};
        for (const [k, v] of Object.entries(tags)) {
          if (typeof v !== 'string') throw badRequest(`tags.${k} must be a string`);
          extraTags[k] = v;
        }
        if (body['systemMetadata'] !== undefined && !isObject(body['systemMetadata']))
          throw badRequest('"systemMetadata" must be an object (the spec\'s system_metadata block)');
        const systemMetadata = asObject(body['systemMetadata']);
        const model = {
          ...structuredClone(base),
          name,
          version: asString(body['version']) ?? '1',
          createdAt: asString(body['createdAt']) ?? isoTime(ctx.now()),
          isArchived: body['isArchived'] === true,
          tags: { ...base.tags, ...extraTags },
          ...(systemMetadata ? { systemMetadata: structuredClone(systemMetadata) } : {}),
        };
        ctx.catalog.addModel(model);
        return reply
          .code(201)
          .send({ name: model.name, version: model.version, isArchived: model.isArchived, createdAt: model.createdAt });
      });

      admin.put<{ Params: { name: string } }>('/event-subscriptions/:name', { config }, async (req, reply) => {
        const properties = asObject(asObject(req.body)?.['properties']) ?? {};
        const destination = asObject(properties['destination']) ?? {};
        const endpointUrl = asString(asObject(destination['properties'])?.['endpointUrl']);
        if (asString(destination['endpointType']) !== 'WebHook' || !endpointUrl)
          throw badRequest(
            'properties.destination must be {"endpointType": "WebHook", "properties": {"endpointUrl": ...}}',
          );
        const schema = asString(properties['eventDeliverySchema']) ?? 'EventGridSchema';
        if (schema !== 'EventGridSchema' && schema !== 'CloudEventSchemaV1_0')
          throw badRequest(`eventDeliverySchema must be EventGridSchema or CloudEventSchemaV1_0, got ${schema}`);
        const types = asObject(properties['filter'])?.['includedEventTypes'];
        const included = Array.isArray(types) ? types.filter((t): t is string => typeof t === 'string') : [];
        try {
          const sub = await events.create(req.params.name, endpointUrl, schema as DeliverySchema, included);
          reply.code(201);
          return subscriptionView(sub);
        } catch (err) {
          throw new ArmError(400, 'WebhookValidationFailed', (err as Error).message);
        }
      });
      admin.get('/event-subscriptions', { config }, () => ({ value: events.list().map(subscriptionView) }));
      admin.delete<{ Params: { name: string } }>('/event-subscriptions/:name', { config }, (req, reply) => {
        reply.code(events.remove(req.params.name) ? 200 : 204);
        return {};
      });
      admin.get('/event-settings', { config }, () => events.current);
      admin.put('/event-settings', { config }, (req) => {
        const body = asObject(req.body) ?? {};
        const patch: Partial<EventSettings> = {};
        for (const key of ['duplicateRate', 'reorderRate', 'loseRate'] as const) {
          const v = asNumber(body[key]);
          if (v === undefined) continue;
          if (!(v >= 0 && v <= 1)) throw badRequest(`${key} must be between 0 and 1`);
          patch[key] = v;
        }
        for (const key of ['seed', 'retryScale'] as const) {
          const v = asNumber(body[key]);
          if (v === undefined) continue;
          if (!(v >= 0)) throw badRequest(`${key} must be 0 or more`);
          patch[key] = v;
        }
        return events.update(patch);
      });

      // What the job's Studio link shows locally.
      admin.get<{ Params: { name: string } }>('/studio/runs/:name', { config }, (req) => {
        const j = ctx.store.state.jobs.find((x) => x.name === req.params.name);
        if (!j) throw new ArmError(404, 'ResourceNotFound', `Job '${req.params.name}' was not found.`);
        return {
          name: j.name,
          status: jobStatus(jobTimeline(j), ctx.now()),
          experimentName: j.experimentName,
          failure: j.failure ?? null,
          studio: studioUrl(ctx, j.name),
        };
      });
    },
    { prefix: '/_emulator' },
  );
}

/** A subscription as the admin API shows it (the endpoint without its query, where secrets sit). */
function subscriptionView(sub: ReturnType<EmulatorEvents['list']>[number]): Record<string, unknown> {
  return {
    name: sub.name,
    properties: {
      destination: { endpointType: 'WebHook', properties: { endpointBaseUrl: sub.endpointUrl.split('?')[0] } },
      eventDeliverySchema: sub.schema,
      filter: { includedEventTypes: sub.includedEventTypes },
      provisioningState: 'Succeeded',
    },
    createdAt: isoTime(sub.createdAt),
    counts: sub.counts,
  };
}
