// docker-compose.yml, .env.example and the Dockerfile, checked without a Docker engine: the services and
// how they depend on each other, and that every variable the worker and the API read is provided or has
// a default, where the list of variables comes from the code (config/env.ts, the zod schemas, and the
// names the service's source reads), not from this test.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadWebhookSettings } from '../../src/webhooks/settings';
import { loadAzureConfig } from '../../src/azure/config';
import { ENV } from '../../src/config/env';
import { FINETUNE_SEARCH_ATTRIBUTE_KEYS } from '../../src/config/searchAttributes';
import { loadTemporalConfig } from '../../src/config/temporal';
import { WORKER_PROCESS_ENV } from '../../src/config/workerTuning';
import { loadObservabilityConfig, workerProcessEnvSchema } from '../../src/observability/config';
import { DEFAULT_BUNDLE_PATH } from '../../src/scripts/bundleWorkflows';
import { SHUTDOWN_FORCE_SECONDS } from '../../src/worker';
import { documentationFiles } from '../helpers/frontEnds';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Healthcheck {
  test: string[] | string;
  interval?: string;
  retries?: number;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | null>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  expose?: string[];
  healthcheck?: Healthcheck;
  stop_grace_period?: string;
  deploy?: { replicas?: number | string };
  secrets?: string[];
}
interface ComposeFile {
  name: string;
  services: Record<string, Service>;
  secrets?: Record<string, { file: string }>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;

// --------------------------------------------------------------------------------------------------
// Variables: what the code reads, derived from the code.

/** The service's source (not the local emulator, stack, demo or build scripts). */
function serviceSources(dir = path.join(ROOT, 'src')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory())
      return ['emulator', 'stack', 'demo', 'scripts'].includes(entry.name) && dir.endsWith('src')
        ? []
        : serviceSources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

// A name in quotes ('FTFLOW_JOB_POLL_SECONDS') or read as a property (env.FTFLOW_DATASTORE_AUTH).
const VARIABLE_READ = /(?:['"`]|\benv\.)((?:FTFLOW|AZURE|AZUREML|TEMPORAL|HF|OTEL)_[A-Z0-9_]+)\b/g;
const KNOWN_VARIABLES = new Set<string>([
  ...Object.values(ENV),
  ...Object.keys(workerProcessEnvSchema.shape),
  ...serviceSources().flatMap((file) => [...fs.readFileSync(file, 'utf8').matchAll(VARIABLE_READ)].map((m) => m[1])),
]);

/** .env.example as a map (commented lines are not settings). */
function envExample(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of read('.env.example').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

const REFERENCE = /\$\{([A-Z][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/** Compose's interpolation of one value from `vars`, as docker compose does it (`$$` is a literal `$`). */
function interpolate(value: string, vars: Map<string, string>): string {
  const parts = value.split('$$');
  return parts
    .map((part) =>
      part.replace(REFERENCE, (_all, name: string, op: string | undefined, arg: string | undefined) => {
        const v = vars.get(name);
        const empty = v === undefined || (op?.startsWith(':') === true && v === '');
        if (op?.endsWith('?') && empty) throw new Error(`compose would stop: ${name}: ${arg}`);
        if (op?.endsWith('-') && empty) return arg ?? '';
        return v ?? '';
      }),
    )
    .join('$');
}

function referencesIn(value: unknown): { name: string; op?: string }[] {
  return typeof value === 'string' ? [...value.matchAll(REFERENCE)].map((m) => ({ name: m[1], op: m[2] })) : [];
}

/** The environment a service's process gets: the image's ENV, then compose's, interpolated from `vars`. */
function containerEnv(service: Service, vars: Map<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = service.build ? { ...dockerfile().runtime.env } : {};
  for (const [key, value] of Object.entries(service.environment ?? {}))
    env[key] = interpolate(String(value ?? ''), vars);
  return env;
}

/** .env as an operator fills it in: the template plus the required values. */
function filledIn(): Map<string, string> {
  const vars = envExample();
  vars.set('AZURE_SUBSCRIPTION_ID', '00000000-0000-4000-8000-000000000001');
  vars.set('AZURE_RESOURCE_GROUP', 'rg-ml');
  vars.set('AZUREML_WORKSPACE_NAME', 'ws-ml');
  vars.set('POSTGRES_PASSWORD', 'a-long-random-password');
  return vars;
}

const LOADERS: Record<'worker' | 'api', ((env: NodeJS.ProcessEnv) => unknown)[]> = {
  worker: [loadTemporalConfig, loadObservabilityConfig, loadAzureConfig, loadWebhookSettings],
  api: [loadTemporalConfig, loadObservabilityConfig, loadWebhookSettings],
};

function loads(role: 'worker' | 'api', env: NodeJS.ProcessEnv): boolean {
  try {
    for (const load of LOADERS[role]) load(env);
    return true;
  } catch {
    return false;
  }
}

// --------------------------------------------------------------------------------------------------
// Dockerfile.

interface Stage {
  name: string;
  base: string;
  lines: string[];
  env: Record<string, string>;
}

function dockerfile(): { stages: Stage[]; runtime: Stage } {
  const logical = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const [instruction, ...rest] = line.split(/\s+/);
    const body = rest.join(' ');
    if (instruction === 'ARG' && stages.length === 0) {
      const [k, v = ''] = body.split('=');
      args.set(k, v);
    } else if (instruction === 'FROM') {
      const m = /^(\S+)\s+AS\s+(\S+)$/i.exec(body);
      if (!m) throw new Error(`unnamed stage: ${line}`);
      stages.push({
        name: m[2],
        base: m[1].replace(/\$\{(\w+)\}/g, (_a, k: string) => args.get(k) ?? ''),
        lines: [],
        env: {},
      });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`instruction before FROM: ${line}`);
      stage.lines.push(line);
      if (instruction === 'ENV')
        for (const m of body.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
    }
  }
  const runtime = stages.at(-1);
  if (!runtime) throw new Error('Dockerfile has no stage');
  return { stages, runtime };
}

/** dist/<x>.js is compiled from src/<x>.ts (tsconfig.build.json: rootDir src, outDir dist). */
function sourceOf(distPath: string): string {
  const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
  const { rootDir, outDir } = build.compilerOptions;
  expect(distPath.startsWith(`${outDir}/`)).toBe(true);
  return path.join(rootDir, distPath.slice(outDir.length + 1)).replace(/\.js$/, '.ts');
}

// --------------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  test('runs PostgreSQL, the schema job, Temporal (pinned), the namespace job, the UI, the worker and the API', () => {
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'postgresql',
      'temporal',
      'temporal-schema',
      'temporal-search-attributes',
      'temporal-ui',
      'worker',
    ]);
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect([name, service.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:\d+(\.\d+)+[\w.-]*$/)]);
    }
    expect(services.temporal.image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(services.temporal.environment).toMatchObject({ SQL_PLUGIN: 'postgres12', SQL_HOST: 'postgresql' });
    expect(services['temporal-schema'].image).toMatch(/^temporalio\/admin-tools:/);
    expect(services['temporal-search-attributes'].image).toMatch(/^temporalio\/admin-tools:/);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
  });

  test('publishes the Temporal frontend, the UI and the API; the worker exposes /metrics to the network only', () => {
    const containerPorts = (s: Service) => (s.ports ?? []).map((p) => p.split(':').at(-1));
    expect(containerPorts(services.temporal)).toEqual(['7233']);
    expect(containerPorts(services['temporal-ui'])).toEqual(['8080']);
    expect(containerPorts(services.api)).toEqual([String(services.api.environment?.FTFLOW_API_PORT)]);
    expect(services.worker.ports).toBeUndefined();
    expect(services.worker.expose).toEqual([
      services.worker.environment?.FTFLOW_METRICS_ADDRESS?.toString().split(':')[1],
    ]);
    expect(Number(interpolate(String(services.worker.deploy?.replicas), filledIn()))).toBeGreaterThanOrEqual(2);
  });

  test("one setting scales the workers and splits the ARM budget between them, inside ARM's 25 reads/s", () => {
    for (const replicas of [undefined, '1', '4']) {
      const vars = filledIn();
      if (replicas) vars.set('FTFLOW_WORKER_REPLICAS', replicas);
      const count = Number(interpolate(String(services.worker.deploy?.replicas), vars));
      const env = containerEnv(services.worker, vars);
      expect(env.FTFLOW_ARM_BUDGET_SPLIT).toBe(String(count));
      const { armBudget } = loadAzureConfig(env);
      expect(armBudget.readsPerSecond * count).toBeLessThanOrEqual(25);
      expect(armBudget.writesPerSecond * count).toBeLessThanOrEqual(10);
      expect(armBudget.readsPerSecond * count).toBeCloseTo(Number(env.FTFLOW_ARM_READS_PER_SECOND), 6);
    }
  });

  test('the worker and the API derive webhook secrets from the same operator key, and both accept the settings', () => {
    const vars = filledIn();
    vars.set('FTFLOW_WEBHOOK_SECRET_KEY', Buffer.alloc(32, 7).toString('base64'));
    vars.set('FTFLOW_WEBHOOK_ALLOW_PRIVATE', '10.20.0.0/16');
    const worker = containerEnv(services.worker, vars);
    const api = containerEnv(services.api, vars);
    for (const name of ['FTFLOW_WEBHOOK_SECRET_KEY', 'FTFLOW_WEBHOOK_SECRET_OLD_KEYS', 'FTFLOW_WEBHOOK_ALLOW_PRIVATE'])
      expect([name, worker[name]]).toEqual([name, api[name]]);
    expect(worker.FTFLOW_WEBHOOK_SECRET_KEY).toBe(vars.get('FTFLOW_WEBHOOK_SECRET_KEY'));
    const settings = loadWebhookSettings(worker);
    const secrets = settings.secrets;
    expect(secrets).toBeDefined();
    expect(secrets?.secretOf(secrets.newRef())).toMatch(/^whsec_/);
    expect(loadWebhookSettings(api).maxEndpoints).toBe(20);
    // The template leaves the key empty: no secret is ever filled in.
    expect(envExample().get('FTFLOW_WEBHOOK_SECRET_KEY')).toBe('');
  });

  test('starts in order: database healthy, schema upgraded, server healthy, search attributes registered, then the service', () => {
    const dependsOn = (name: string) =>
      Object.fromEntries(Object.entries(services[name].depends_on ?? {}).map(([k, v]) => [k, v.condition]));
    expect(dependsOn('temporal-schema')).toEqual({ postgresql: 'service_healthy' });
    expect(dependsOn('temporal')).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    expect(dependsOn('temporal-search-attributes')).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn('temporal-ui')).toEqual({ temporal: 'service_healthy' });
    for (const name of ['worker', 'api'])
      expect(dependsOn(name)).toEqual({
        temporal: 'service_healthy',
        'temporal-search-attributes': 'service_completed_successfully',
      });
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'worker', 'api'])
      expect([name, services[name].healthcheck?.test]).toEqual([name, expect.anything()]);
    expect(String(services.worker.healthcheck?.test)).toContain(':9464/metrics');
    expect(String(services.api.healthcheck?.test)).toContain(`:${services.api.environment?.FTFLOW_API_PORT}/healthz`);
  });

  test("registers exactly the runs' search attributes, with their types", () => {
    const job = services['temporal-search-attributes'];
    const declared = String(job.environment?.FTFLOW_SEARCH_ATTRIBUTES).split(/\s+/).sort();
    const wanted = FINETUNE_SEARCH_ATTRIBUTE_KEYS.map(
      (k) => `${k.name}=${k.type.charAt(0)}${k.type.slice(1).toLowerCase()}`,
    ).sort();
    expect(declared).toEqual(wanted);
    expect(job.command?.join('\n')).toContain('temporal operator search-attribute create');
  });

  test('the worker gets longer to stop than its shutdown grace and force time', () => {
    const m = /^(\d+)m$/.exec(services.worker.stop_grace_period ?? '');
    expect(m).not.toBeNull();
    expect(Number(m?.[1]) * 60).toBeGreaterThan(SHUTDOWN_FORCE_SECONDS);
  });

  test('every variable the worker and the API read is provided or has a default', () => {
    const vars = filledIn();
    for (const role of ['worker', 'api'] as const) {
      const env = containerEnv(services[role], vars);
      // The loaders accept the container's environment: whatever compose does not set has a default or is optional.
      expect([role, loads(role, env)]).toEqual([role, true]);
      // A variable without which the process would not start is required by compose itself (${VAR:?message}).
      for (const name of Object.keys(env)) {
        const without = { ...env };
        delete without[name];
        if (loads(role, without)) continue;
        const refs = referencesIn(services[role].environment?.[name]);
        expect([
          role,
          name,
          refs.every((r) => r.op === ':?') && refs.length > 0
            ? 'required by compose'
            : `value: ${services[role].environment?.[name]}`,
        ]).toEqual([role, name, 'required by compose']);
      }
      // No typo: every service variable compose sets is one the code reads.
      for (const name of Object.keys(services[role].environment ?? {}).filter((n) =>
        /^(FTFLOW|AZURE|AZUREML|TEMPORAL|HF|OTEL)_/.test(n),
      )) {
        if (
          name.startsWith('FTFLOW_API_') &&
          role === 'api' &&
          !Object.values(ENV).some((v) => v.startsWith('FTFLOW_API_'))
        )
          continue; // the API's own variables arrive with src/api
        expect([role, name, KNOWN_VARIABLES.has(name)]).toEqual([role, name, true]);
      }
    }
    // Without the required values compose refuses to start, naming the variable.
    expect(() => containerEnv(services.worker, envExample())).toThrow(
      /AZURE_SUBSCRIPTION_ID: set AZURE_SUBSCRIPTION_ID in .env/,
    );
  });

  test('.env.example lists every variable compose interpolates, with no secret filled in', () => {
    const template = envExample();
    const referenced = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string') for (const r of referencesIn(v.split('$$').join(''))) referenced.add(r.name);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(parse(read('docker-compose.yml')));
    for (const name of referenced) expect([name, template.has(name)]).toEqual([name, true]);
    for (const secret of [ENV.clientSecret, ENV.hfToken, 'TEMPORAL_API_KEY', 'POSTGRES_PASSWORD'])
      expect([secret, template.get(secret)]).toEqual([secret, '']);
  });

  test('the README and docs/*.md document every variable the code reads', () => {
    // The variables table is docs/configuration.md; Temporal's and observability's are in docs/operations.md.
    const docs = documentationFiles().map(read).join('\n');
    const missing = [...KNOWN_VARIABLES].filter((name) => !docs.includes(`\`${name}\``)).sort();
    expect(missing).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const { stages, runtime } = dockerfile();
  const build = stages[0];

  test('builds in one stage and runs from a slim glibc stage as a non-root user', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const s of stages) expect(s.base).toMatch(/^node:\d+[\w.-]*-(bookworm|bullseye)(-slim)?$/);
    const users = runtime.lines.filter((l) => l.startsWith('USER ')).map((l) => l.slice(5).trim());
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users.at(-1));
    expect(runtime.lines.some((l) => /npm (ci|install)/.test(l))).toBe(false);
  });

  test('bundles the workflows at build time and points the worker at the bundle', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(build.lines.find((l) => l.startsWith('RUN '))).toBeDefined();
    expect(build.lines.join('\n')).toMatch(/npm run build[\s\S]*npm run bundle/);
    // The script the image builds with reads only what the build stage copied (no devstack/, test/, bench/).
    const copied = build.lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from'))
      .flatMap((l) => l.slice(5).trim().split(/\s+/).slice(0, -1));
    const runs = /npm run ([\w:-]+)/.exec(build.lines.join('\n'))?.[1] ?? '';
    const buildScript = pkg.scripts[runs] ?? '';
    expect(buildScript).not.toBe('');
    for (const project of buildScript.matchAll(/(?:tsc -p|node) (\S+)/g)) {
      const top = project[1].split('/')[0];
      expect([
        project[1],
        copied.some((c) => c === top || c.split('/')[0] === top || c === project[1]) || top === 'dist',
      ]).toEqual([project[1], true]);
    }
    expect(build.lines.join('\n')).toContain('npm prune --omit=dev');
    const script = /^node (\S+)$/.exec(pkg.scripts.bundle);
    expect(script).not.toBeNull();
    expect(fs.existsSync(path.join(ROOT, sourceOf(script?.[1] ?? '')))).toBe(true);
    // The image's bundle path is where `npm run bundle` writes (dist/workflow-bundle.js under /app).
    const inImage = path.posix.join('/app/dist', path.relative(path.join(ROOT, 'src'), DEFAULT_BUNDLE_PATH));
    expect(runtime.env.FTFLOW_WORKFLOW_BUNDLE).toBe(inImage);
    // What the worker process cannot set itself (glibc reads it first): the image sets it.
    for (const [name, value] of Object.entries(WORKER_PROCESS_ENV))
      expect([name, runtime.env[name]]).toEqual([name, value]);
    // jemalloc: Debian's libjemalloc2 at the version set-up pins, preloaded from one path (workerProcessEnv).
    const pinned = /^JEMALLOC_VERSION=(\S+)$/m.exec(read('scripts/setup.sh'))?.[1];
    expect(pinned).toBeTruthy();
    expect(runtime.lines.join('\n')).toContain(`apt-get install -y --no-install-recommends libjemalloc2=${pinned}`);
    expect(runtime.lines.join('\n')).toContain(`/usr/local/lib/libjemalloc.so.2`);
    expect(runtime.env.LD_PRELOAD).toBe('/usr/local/lib/libjemalloc.so.2');
    // compose keeps them for the worker, an operator's .env filled in.
    const workerEnv = containerEnv(services.worker, filledIn());
    for (const [name, value] of Object.entries({ ...WORKER_PROCESS_ENV, LD_PRELOAD: runtime.env.LD_PRELOAD }))
      expect([name, workerEnv[name]]).toEqual([name, value]);
    expect(services.worker.environment?.FTFLOW_WORKFLOW_BUNDLE).toBe(inImage);
    expect(runtime.lines).toEqual(
      expect.arrayContaining([expect.stringMatching(/^COPY --from=build \/app\/dist \.\/dist$/)]),
    );
  });

  test('the image starts the worker; compose starts the worker and the API from the same image', () => {
    const cmd = runtime.lines.find((l) => l.startsWith('CMD '));
    expect(JSON.parse(cmd?.slice(4) ?? '[]')).toEqual(['node', 'dist/worker.js']);
    expect(services.worker.command).toEqual(['node', 'dist/worker.js']);
    expect(fs.existsSync(path.join(ROOT, sourceOf('dist/worker.js')))).toBe(true);
    expect(services.api.command).toEqual(['node', 'dist/api/main.js']);
    expect(services.worker.image).toBe(services.api.image);
    for (const name of ['worker', 'api'])
      expect(services[name].build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
  });

  const apiSource = path.join(ROOT, sourceOf('dist/api/main.js'));
  (fs.existsSync(apiSource) ? test : test.skip)(
    'the API entry dist/api/main.js is compiled from src/api/main.ts',
    () => {
      expect(fs.existsSync(apiSource)).toBe(true);
    },
  );

  test('.dockerignore keeps local state, secrets and dependencies out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.data', '.tools', '.git', '.env']) expect(ignored).toContain(entry);
  });

  test("the image holds the product's wing only: src/ is copied, the local stand-ins (devstack/) never", () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['devstack', 'test', 'bench', 'reference']) expect(ignored).toContain(entry);
    // Every COPY from the build context (not from another stage) names the package files, the compiler
    // configuration, src/ or the dashboard's ui/ (bundled into dist/ui/); the build compiles
    // tsconfig.build.json, whose sources are src/ alone.
    const copied = build.lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.slice(5).trim().split(/\s+/).slice(0, -1));
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied)
      expect(source).toMatch(/^(package(-lock)?\.json|package\*\.json|tsconfig(\.build)?\.json|src|ui)$/);
    expect(copied).toContain('src');
    expect(copied).toContain('ui');
    const buildConfig = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    expect(buildConfig.include).toEqual(['src/**/*.ts']);
    expect(runtime.lines.filter((l) => l.startsWith('COPY ')).join('\n')).not.toMatch(/devstack/);
  });
});
