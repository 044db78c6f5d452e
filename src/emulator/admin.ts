// Local-only administration: health, every resource ever created, billable seconds, the request
// log and a reset. No authentication; answered only to loopback clients.
import type { FastifyInstance } from 'fastify';
import { goneAt, jobStatus, lifecycleState, type Lifecycle } from './clock';
import { isoTime, type EmulatorContext } from './context';
import { ArmError } from './errors';
import { asNumber, asObject, asString, queryParam } from './json';
import { computeResourceId } from './arm/computes';
import { jobArmId, jobTimeline, studioUrl } from './arm/jobs';
import { modelVersionId } from './arm/models';
import { deploymentArmId } from './arm/onlineDeployments';
import { endpointArmId, endpointTraffic } from './arm/onlineEndpoints';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

function times(l: Lifecycle, now: number): { createdAt: string; deleteRequestedAt: string | null; deletedAt: string | null; seconds: number } {
  const end = goneAt(l, now) ?? now;
  return {
    createdAt: isoTime(l.createdAt),
    deleteRequestedAt: l.deleteRequestedAt !== undefined ? isoTime(l.deleteRequestedAt) : null,
    deletedAt: goneAt(l, now) !== undefined ? isoTime(end) : null,
    seconds: Math.max(0, end - l.createdAt) / 1000,
  };
}

export function registerAdminRoutes(app: FastifyInstance, ctx: EmulatorContext, startedAt: number): void {
  const config = { surface: 'admin' as const };
  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (req) => {
        if (!LOOPBACK.test(req.socket.remoteAddress ?? '')) throw new ArmError(403, 'Forbidden', 'The emulator admin API answers local clients only.');
      });

      admin.get('/health', { config }, () => ({ status: 'ok', url: ctx.baseUrl(), startedAt: isoTime(startedAt), catalog: ctx.catalog.name, azurite: ctx.blob !== undefined }));

      admin.get('/resources', { config }, () => {
        const now = ctx.now();
        const s = ctx.store.state;
        const endpoints = s.endpoints.map((e) => ({ id: endpointArmId(ctx, e.name), name: e.name, uid: e.uid, state: lifecycleState(e.lifecycle, now), traffic: endpointTraffic(e), tags: e.tags, ...times(e.lifecycle, now) }));
        const deployments = s.deployments.map((d) => ({
          id: deploymentArmId(ctx, d.endpointName, d.name), name: d.name, endpoint: d.endpointName, endpointUid: d.endpointUid, state: lifecycleState(d.lifecycle, now),
          instanceType: asString(d.properties['instanceType']) ?? null, capacity: asNumber(d.sku['capacity']) ?? 1, ...times(d.lifecycle, now),
        }));
        const computes = s.computes.map((c) => ({ id: computeResourceId(ctx, c.name), name: c.name, state: lifecycleState(c.lifecycle, now), vmSize: asString(asObject(c.properties['properties'])?.['vmSize']) ?? null, ...times(c.lifecycle, now) }));
        const jobs = s.jobs.map((j) => ({
          id: jobArmId(ctx, j.name), name: j.name, state: jobStatus(jobTimeline(j), now), experimentName: j.experimentName, createdAt: isoTime(j.createdAt),
          cancelRequestedAt: j.cancelRequestedAt !== undefined ? isoTime(j.cancelRequestedAt) : null, failure: j.failure ?? null,
        }));
        const models = s.models.map((m) => ({ id: modelVersionId(ctx, m.name, m.version), name: m.name, version: m.version, state: 'Succeeded', createdAt: isoTime(m.createdAt), jobName: asString(m.properties['jobName']) ?? null }));
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
          endpoints, deployments, jobs, models, computes,
        };
      });

      admin.get('/billing', { config }, () => {
        const now = ctx.now();
        const s = ctx.store.state;
        const endpoints = s.endpoints.map((e) => ({ id: endpointArmId(ctx, e.name), name: e.name, uid: e.uid, ...times(e.lifecycle, now) }));
        const deployments = s.deployments.map((d) => {
          const t = times(d.lifecycle, now);
          const capacity = asNumber(d.sku['capacity']) ?? 1;
          return { id: deploymentArmId(ctx, d.endpointName, d.name), name: d.name, endpoint: d.endpointName, instanceType: asString(d.properties['instanceType']) ?? null, capacity, ...t, instanceSeconds: t.seconds * capacity };
        });
        const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
        return {
          now: isoTime(now),
          endpoints,
          deployments,
          totals: {
            endpointSeconds: sum(endpoints.map((e) => e.seconds)),
            deploymentSeconds: sum(deployments.map((d) => d.seconds)),
            deploymentInstanceSeconds: sum(deployments.map((d) => d.instanceSeconds)),
          },
        };
      });

      admin.get('/requests', { config }, (req) => {
        const method = queryParam(req.query, 'method')?.toUpperCase();
        const contains = queryParam(req.query, 'pathContains');
        const requests = ctx.requests.list().filter((r) => (!method || r.method === method) && (!contains || r.path.includes(contains)));
        return { count: requests.length, requests };
      });

      admin.post('/reset', { config }, () => {
        ctx.store.reset();
        ctx.requests.clear();
        return { status: 'reset' };
      });

      // The compressed clock for resources created from now on (each record keeps the durations it
      // was created with, so changing it never moves an existing job or endpoint).
      admin.get('/clock', { config }, () => ({ ...ctx.config.clock }));
      admin.put('/clock', { config }, (req) => {
        const body = asObject(req.body) ?? {};
        const next = { ...ctx.config.clock };
        for (const key of Object.keys(next) as (keyof typeof next)[]) {
          const value = asNumber(body[key]);
          if (body[key] === undefined) continue;
          if (value === undefined || !Number.isFinite(value) || value < 0) throw new ArmError(400, 'ValidationError', `clock.${key} must be a number >= 0`);
          next[key] = value;
        }
        Object.assign(ctx.config.clock, next);
        return { ...ctx.config.clock };
      });

      // What the job's Studio link shows locally.
      admin.get<{ Params: { name: string } }>('/studio/runs/:name', { config }, (req) => {
        const j = ctx.store.state.jobs.find((x) => x.name === req.params.name);
        if (!j) throw new ArmError(404, 'ResourceNotFound', `Job '${req.params.name}' was not found.`);
        return { name: j.name, status: jobStatus(jobTimeline(j), ctx.now()), experimentName: j.experimentName, failure: j.failure ?? null, studio: studioUrl(ctx, j.name) };
      });
    },
    { prefix: '/_emulator' },
  );
}
