// docker-compose.yml and the cluster `make cluster` runs (devstack/cluster/) stay in step: the same Temporal
// server version, the same configuration file and command line, the same variables for it with the same
// values where they must agree, the same schema job, database, namespace and search attributes, and the
// ftflow processes given the variables compose gives them. No Docker and no binaries: files and code only
// (the cluster suite renders the configuration with the built server: test/production/cluster.cluster.test.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import {
  CLUSTER_NAMESPACE,
  DEFAULT_CLUSTER_PORTS,
  NAMESPACE_RETENTION_HOURS,
  POSTGRES_SETTINGS,
  SCHEMA_SCRIPT,
  TEMPORAL_CONFIG_FILE,
  TEMPORAL_DEPLOY_DIR,
  TEMPORAL_DYNAMIC_CONFIG_FILE,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_SERVICES,
  TEMPORAL_SQL,
  TEMPORAL_UI_VERSION,
  clusterApiEnv,
  clusterWorkerEnv,
  temporalServerArgs,
  temporalServerEnv,
} from '../../devstack/cluster';
import { stackEnv } from '../../devstack/stack';
import { searchAttributeSpecs } from '../../devstack/stack/searchAttributes';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string | number | null>;
  volumes?: string[];
  working_dir?: string;
  ports?: string[];
  deploy?: { replicas?: number | string };
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const envOf = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(services[name].environment ?? {}).map(([k, v]) => [k, String(v ?? '')]));
/** `${NAME:-default}` → default; `${NAME:?message}` → undefined (the operator's value); other text as it is. */
const composeDefault = (value: string): string | undefined => {
  const m = /^\$\{[A-Z0-9_]+(:?[-?])([^}]*)\}$/.exec(value);
  if (!m) return value;
  return m[1].endsWith('-') ? m[2] : undefined;
};

/** The variables the server's configuration template reads, with the default it gives or `required`. */
function templateVariables(): Map<string, { default?: string; required: boolean }> {
  const text = fs.readFileSync(TEMPORAL_CONFIG_FILE, 'utf8');
  // The required ones: a `range $name := list "A" "B" ...` that fails when one is empty.
  const requiredList = /range \$name := list((?:\s+"[A-Z0-9_]+")+)/.exec(text)?.[1] ?? '';
  const required = new Set([...requiredList.matchAll(/"([A-Z0-9_]+)"/g)].map((m) => m[1]));
  const vars = new Map<string, { default?: string; required: boolean }>();
  for (const name of required) vars.set(name, { required: true });
  for (const m of text.matchAll(/env "([A-Z0-9_]+)"(?:\s*\|\s*default\s+"([^"]*)")?/g)) {
    const [, name, fallback] = m;
    if (fallback !== undefined) vars.set(name, { default: fallback, required: false });
    else if (!vars.has(name)) throw new Error(`${name} is read with neither a default nor in the required list`);
  }
  return vars;
}

/** host:container volume mounts of a service, as a map from the container path to the repository path. */
function mounts(name: string): Map<string, string> {
  return new Map(
    (services[name].volumes ?? [])
      .filter((v) => v.startsWith('./'))
      .map((v) => {
        const [host, container] = v.split(':');
        return [container, path.join(ROOT, host)];
      }),
  );
}

describe('docker-compose.yml and devstack/cluster (make cluster)', () => {
  test('run the same Temporal server version: server, admin tools (temporal-sql-tool) and UI images', () => {
    expect(services.temporal.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    for (const job of ['temporal-schema', 'temporal-search-attributes'])
      expect([job, services[job].image?.split(':')[1]?.split('-')[0]]).toEqual([job, TEMPORAL_SERVER_VERSION]);
    expect(services['temporal-ui'].image).toBe(`temporalio/ui:${TEMPORAL_UI_VERSION}`);
  });

  test('run the server from the same configuration file with the same command line', () => {
    // Compose mounts deploy/temporal/config where the server looks from its working directory, as the cluster
    // runs it in deploy/temporal: `--env cluster` reads config/cluster.yaml in both.
    const workdir = services.temporal.working_dir ?? '';
    expect(mounts('temporal').get(path.posix.join(workdir, 'config'))).toBe(path.dirname(TEMPORAL_CONFIG_FILE));
    expect(path.dirname(path.dirname(TEMPORAL_CONFIG_FILE))).toBe(TEMPORAL_DEPLOY_DIR);
    expect(fs.existsSync(TEMPORAL_DYNAMIC_CONFIG_FILE)).toBe(true);
    expect(fs.readFileSync(TEMPORAL_CONFIG_FILE, 'utf8')).toContain(
      `filepath: "${path.relative(TEMPORAL_DEPLOY_DIR, TEMPORAL_DYNAMIC_CONFIG_FILE)}"`,
    );
    // One container with every service there; one process per service here; otherwise the same arguments.
    expect(services.temporal.entrypoint).toEqual(['temporal-server', ...temporalServerArgs(TEMPORAL_SERVICES)]);
    expect([...TEMPORAL_SERVICES].sort()).toEqual(['frontend', 'history', 'matching', 'worker']);
  });

  test('give the server the variables its configuration reads, with the same values where they must agree', () => {
    const vars = templateVariables();
    const local = temporalServerEnv(DEFAULT_CLUSTER_PORTS, 'pw');
    const composed = envOf('temporal');
    // The cluster sets every variable the file reads, and nothing it does not read.
    expect(Object.keys(local).sort()).toEqual([...vars.keys()].sort());
    // Compose sets every required one, and only variables the file reads (a typo would be ignored silently).
    for (const [name, v] of vars) if (v.required) expect([name, name in composed]).toEqual([name, true]);
    for (const name of Object.keys(composed)) expect([name, vars.has(name)]).toEqual([name, true]);
    // The database: plugin, user and the two databases are the same; host, port and password are each one's own.
    for (const [name, value] of Object.entries(TEMPORAL_SQL)) {
      expect([name, composed[name]]).toEqual([name, value]);
      expect([name, local[name]]).toEqual([name, value]);
    }
    expect(envOf('postgresql').POSTGRES_USER).toBe(TEMPORAL_SQL.SQL_USER);
    expect(composeDefault(composed.SQL_PASSWORD)).toBeUndefined(); // the operator's, from .env
    // Ports compose leaves to the file's defaults are the cluster's defaults; compose publishes the frontend's.
    const portVars: Record<string, keyof typeof DEFAULT_CLUSTER_PORTS> = {
      FRONTEND_GRPC_PORT: 'frontend',
      FRONTEND_HTTP_PORT: 'frontendHttp',
      FRONTEND_MEMBERSHIP_PORT: 'frontendMembership',
      HISTORY_GRPC_PORT: 'history',
      HISTORY_MEMBERSHIP_PORT: 'historyMembership',
      MATCHING_GRPC_PORT: 'matching',
      MATCHING_MEMBERSHIP_PORT: 'matchingMembership',
      WORKER_GRPC_PORT: 'worker',
      WORKER_MEMBERSHIP_PORT: 'workerMembership',
    };
    for (const [name, key] of Object.entries(portVars)) {
      expect([name, name in composed]).toEqual([name, false]);
      expect([name, vars.get(name)?.default]).toEqual([name, String(DEFAULT_CLUSTER_PORTS[key])]);
      expect([name, local[name]]).toEqual([name, String(DEFAULT_CLUSTER_PORTS[key])]);
    }
    expect(services.temporal.ports?.map((p) => p.split(':').at(-1))).toEqual([String(DEFAULT_CLUSTER_PORTS.frontend)]);
  });

  test('set up and upgrade the schema with the same script and the same variables', () => {
    expect(services['temporal-schema'].entrypoint?.[0]).toBe('/bin/sh');
    const script = services['temporal-schema'].entrypoint?.[1] ?? '';
    expect(mounts('temporal-schema').get(script)).toBe(SCHEMA_SCRIPT);
    // The script reads what the server reads (compose's shared anchor, the cluster's temporalServerEnv).
    const needed = [...fs.readFileSync(SCHEMA_SCRIPT, 'utf8').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]);
    expect(needed.length).toBeGreaterThan(0);
    const local = temporalServerEnv(DEFAULT_CLUSTER_PORTS, 'pw');
    const schemaEnv = envOf('temporal-schema');
    for (const name of needed) {
      expect([name, name in local]).toEqual([name, true]);
      expect([name, schemaEnv[name]]).toEqual([name, envOf('temporal')[name]]);
    }
  });

  test('run PostgreSQL with the same settings', () => {
    const command = services.postgresql.command;
    expect(Array.isArray(command)).toBe(true);
    const settings: Record<string, string> = {};
    const args = (command as string[]).slice(1);
    for (let i = 0; i < args.length; i++)
      if (args[i] === '-c') {
        const [k, v] = (args[++i] ?? '').split('=');
        settings[k] = v;
      }
    expect(settings).toEqual(POSTGRES_SETTINGS);
  });

  test('create the same namespace with the same retention and register the same search attributes', () => {
    const job = envOf('temporal-search-attributes');
    expect(composeDefault(job.TEMPORAL_NAMESPACE)).toBe(CLUSTER_NAMESPACE);
    expect(job.NAMESPACE_RETENTION).toBe(`${NAMESPACE_RETENTION_HOURS}h`);
    // The cluster registers searchAttributeSpecs() (devstack/stack/searchAttributes.ts); compose's job this list.
    expect(job.FTFLOW_SEARCH_ATTRIBUTES.split(/\s+/).sort()).toEqual(searchAttributeSpecs().sort());
  });

  test("give the ftflow worker and API processes only variables compose gives them (or the emulator's)", () => {
    const azure = stackEnv({
      namespace: CLUSTER_NAMESPACE,
      urls: { azuriteBlob: 'https://127.0.0.1:1/devstoreaccount1', emulator: 'https://127.0.0.1:2' },
      caFile: '/ca.pem',
      clientSecret: 'secret',
    });
    const wiring = { temporalAddress: '127.0.0.1:7233', namespace: CLUSTER_NAMESPACE, taskQueue: 'q', azure };
    // Local only, and why: the emulator's Blob endpoint (Azure's comes from the workspace) and its CA.
    const localOnly = new Set(['FTFLOW_BLOB_ENDPOINT', 'NODE_EXTRA_CA_CERTS']);
    const checks: [string, Record<string, string>][] = [
      ['worker', clusterWorkerEnv(wiring, '/bundle.js', 2)],
      ['api', clusterApiEnv(wiring, 8080, '/keys.json')],
    ];
    for (const [service, env] of checks) {
      const composed = envOf(service);
      for (const name of Object.keys(env).filter((n) => !localOnly.has(n)))
        expect([service, name, name in composed]).toEqual([service, name, true]);
    }
    expect(envOf('worker').FTFLOW_WORKFLOW_BUNDLE).toBeDefined();
    // Both split the budget by the number of workers they start (compose: its replica count).
    expect(envOf('worker').FTFLOW_ARM_BUDGET_SPLIT).toBe('${FTFLOW_WORKER_REPLICAS:-2}');
    expect(String(services.worker.deploy?.replicas)).toBe('${FTFLOW_WORKER_REPLICAS:-2}');
    expect(clusterWorkerEnv(wiring, '/bundle.js', 4).FTFLOW_ARM_BUDGET_SPLIT).toBe('4');
  });
});
