// The local Azure ML: one HTTPS origin serving the Entra token endpoint, ARM (workspace,
// datastores, computes, jobs, models, online endpoints and deployments, LRO status, the cloud
// metadata document), the `azureml` registry, MLflow tracking, RunHistory, scoring, the Hugging
// Face Hub (/hf) and a local admin API.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { registerAdminRoutes } from './admin';
import { EmulatorEvents } from './events';
import { registerComputeRoutes } from './arm/computes';
import { registerJobRoutes } from './arm/jobs';
import { registerModelRoutes } from './arm/models';
import { registerDeploymentRoutes } from './arm/onlineDeployments';
import { registerEndpointRoutes } from './arm/onlineEndpoints';
import { registerOperationRoutes } from './arm/operations';
import { registerVmSizeRoutes } from './arm/vmSizes';
import { registerWorkspaceRoutes } from './arm/workspace';
import { registerAuthRoutes } from './auth';
import { createBlobAccess } from './blob';
import { loadCatalog } from './catalog';
import { EmulatorTime } from './clock';
import type { EmulatorContext } from './context';
import { ContractMonitor } from './contractPolicy';
import { ArmError, MlflowError } from './errors';
import { FaultInjector } from './faults';
import { hubRoutes } from './hub/routes';
import { registerMlflowRoutes } from './mlflow';
import { resolveOptions, type EmulatorOptions, type LocalAzureIdentities, type ResolvedConfig } from './options';
import { installPolicies } from './policies';
import { registerRegistryRoutes } from './registry';
import { RequestLog } from './requestLog';
import { registerScoringRoutes } from './scoring';
import { registerCloudRoutes } from './cloud';
import { registerHistoryRoutes } from './history';
import { JobLogs } from './jobLogs';
import { Store } from './store';
import { Throttle } from './throttle';

export type { EmulatorOptions } from './options';

export interface RunningEmulator {
  /** https://HOST:PORT (no trailing slash). */
  url: string;
  port: number;
  /** The client secret the token endpoint accepts. */
  clientSecret: string;
  identities: LocalAzureIdentities;
  close(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const config = resolveOptions(opts);
  const tls = readTls(config);
  const store = Store.open(config.stateFile);
  const blob = config.azuriteBlobUrl
    ? createBlobAccess(config.azuriteBlobUrl, config.identities.blobContainer)
    : undefined;
  if (blob) await blob.ensureContainer();

  let baseUrl = '';
  // The time source: the state file's (stepped time and offsets survive a restart) unless the
  // options ask for another mode.
  const saved = store.state.clock;
  const time = new EmulatorTime(
    opts.now ?? Date.now,
    saved && saved.mode === config.timeMode ? saved : { mode: config.timeMode, offsetMs: saved?.offsetMs ?? 0 },
    (s) => {
      store.state.clock = {
        mode: s.mode,
        offsetMs: s.offsetMs,
        ...(s.frozenAt !== undefined ? { frozenAt: s.frozenAt } : {}),
      };
      store.commit();
    },
  );
  const ctx: EmulatorContext = {
    config,
    store,
    catalog: loadCatalog(config.catalog),
    blob,
    requests: new RequestLog(config.requestLogLimit),
    time,
    throttle: new Throttle(config.throttle),
    faults: new FaultInjector(),
    contract: new ContractMonitor(config.contract),
    jobLogs: new JobLogs(blob),
    now: () => time.now(),
    baseUrl: () => baseUrl,
  };

  const app = Fastify({
    https: { key: tls.key, cert: tls.cert },
    logger: config.logger,
    bodyLimit: 32 * 1024 * 1024,
    // ARM paths are case-insensitive; parameters keep their case.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 1000 },
  });
  installBodyParsers(app);
  installErrorHandlers(app);
  installPolicies(app, ctx);

  registerAuthRoutes(app, ctx);
  registerWorkspaceRoutes(app, ctx);
  registerComputeRoutes(app, ctx);
  registerVmSizeRoutes(app, ctx);
  registerOperationRoutes(app, ctx);
  registerJobRoutes(app, ctx);
  registerModelRoutes(app, ctx);
  registerEndpointRoutes(app, ctx);
  registerDeploymentRoutes(app, ctx);
  registerRegistryRoutes(app, ctx);
  registerMlflowRoutes(app, ctx);
  registerHistoryRoutes(app, ctx);
  registerCloudRoutes(app, ctx);
  registerScoringRoutes(app, ctx);
  const events = new EmulatorEvents(ctx, config.events);
  registerAdminRoutes(app, ctx, Date.now(), events);
  await app.register(hubRoutes, { prefix: '/hf', ...(opts.hub ?? {}) });

  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const urlHost =
    config.host === '0.0.0.0' || config.host === '::'
      ? '127.0.0.1'
      : config.host.includes(':')
        ? `[${config.host}]`
        : config.host;
  baseUrl = `https://${urlHost}:${port}`;

  return {
    url: baseUrl,
    port,
    clientSecret: config.clientSecret,
    identities: config.identities,
    close: async () => {
      events.close();
      await app.close();
    },
  };
}

function readTls(config: ResolvedConfig): { key: Buffer; cert: Buffer } {
  try {
    return { cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(
      `emulator: cannot read the TLS certificate/key (${config.tls.certPath}, ${config.tls.keyPath}); create them with \`bash scripts/certs.sh .data/certs\`: ${detail}`,
    );
  }
}

function installBodyParsers(app: FastifyInstance): void {
  // JSON bodies may be empty (POST listKeys, cancel): parse to undefined instead of failing.
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(['application/json', 'text/json'], { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      const parsed: unknown = JSON.parse(text);
      done(null, parsed);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      done(
        new ArmError(
          400,
          'InvalidRequestContent',
          `The request content was invalid and could not be deserialized: ${detail}`,
        ),
        undefined,
      );
    }
  });
  // The token endpoint takes form posts.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });
}

function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ArmError | MlflowError, _req, reply) => {
    if (error instanceof ArmError) {
      return reply.code(error.status).headers(error.headers).send(error.toBody());
    }
    if (error instanceof MlflowError) {
      return reply.code(error.status).send({ error_code: error.errorCode, message: error.message });
    }
    const status =
      typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500
        ? error.statusCode
        : 500;
    const code = status === 500 ? 'InternalServerError' : status === 415 ? 'UnsupportedMediaType' : 'BadRequest';
    if (status === 500) reply.log.error(error);
    return reply.code(status).send(new ArmError(status, code, error.message).toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    const [path = ''] = req.url.split('?', 2);
    return reply
      .code(404)
      .send(new ArmError(404, 'NotFound', `No resource or route matches ${req.method} ${path}.`).toBody());
  });
}
