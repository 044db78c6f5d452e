// What the cluster runs with, in one place, and what docker-compose.yml must agree with
// (test/production/clusterParity.test.ts compares them): the Temporal server's configuration folder and
// command line, the variables its configuration template reads, the database names and user, the
// PostgreSQL settings, the namespace and its retention.
import * as path from 'node:path';
import { PROJECT_ROOT } from '../stack/paths';

/**
 * deploy/temporal: the server's working directory. Its config/cluster.yaml is the one configuration file
 * (a template the server renders), config/dynamicconfig/cluster.yaml the dynamic configuration, schema.sh
 * the schema job. Compose mounts config/ as /etc/temporal/config and schema.sh into the schema job.
 */
export const TEMPORAL_DEPLOY_DIR = path.join(PROJECT_ROOT, 'deploy', 'temporal');
export const TEMPORAL_CONFIG_FILE = path.join(TEMPORAL_DEPLOY_DIR, 'config', 'cluster.yaml');
export const TEMPORAL_DYNAMIC_CONFIG_FILE = path.join(TEMPORAL_DEPLOY_DIR, 'config', 'dynamicconfig', 'cluster.yaml');
export const SCHEMA_SCRIPT = path.join(TEMPORAL_DEPLOY_DIR, 'schema.sh');

/** `--env cluster`: the server reads config/cluster.yaml under its working directory. */
export const TEMPORAL_CONFIG_ENV = 'cluster';

/** The four services, each a process of its own here (one container runs all four in compose). */
export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

/** The server's command line after the binary; compose's `temporal` service runs the same with every service. */
export function temporalServerArgs(services: readonly TemporalService[]): string[] {
  return ['--env', TEMPORAL_CONFIG_ENV, '--allow-no-auth', 'start', ...services.flatMap((s) => ['--service', s])];
}

/** Values the server (config/cluster.yaml) and the schema job (schema.sh) read that compose sets alike. */
export const TEMPORAL_SQL = {
  SQL_PLUGIN: 'postgres12',
  SQL_USER: 'temporal',
  SQL_DATABASE: 'temporal',
  SQL_VISIBILITY_DATABASE: 'temporal_visibility',
} as const;

/** PostgreSQL server settings (`-c name=value`): the four services keep up to 4 × (20 + 10) connections. */
export const POSTGRES_SETTINGS: Readonly<Record<string, string>> = { max_connections: '200' };

export const CLUSTER_NAMESPACE = 'default';
/** How long closed runs stay in the namespace (`temporal operator namespace create --retention`). */
export const NAMESPACE_RETENTION_HOURS = 72;

export interface ClusterPorts {
  postgres: number;
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  api: number;
  ui: number;
  azurite: number;
  emulator: number;
}

/**
 * Where `make cluster` listens by default: Temporal's usual ports (config/cluster.yaml's defaults), the
 * API and UI where compose publishes them, Azurite and the emulator where `make stack` has them, and
 * PostgreSQL off 5432 (a Debian package's own server may be there). 0 = any free port.
 */
export const DEFAULT_CLUSTER_PORTS: Readonly<ClusterPorts> = {
  postgres: 15432,
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
  api: 8080,
  ui: 8233,
  azurite: 10000,
  emulator: 8443,
};

export const CLUSTER_HOST = '127.0.0.1';

/** The grpc port of each service. */
export function servicePort(ports: ClusterPorts, service: TemporalService): number {
  return ports[service];
}

/** Every variable config/cluster.yaml reads, for the local processes (all on 127.0.0.1). */
export function temporalServerEnv(ports: ClusterPorts, sqlPassword: string, logLevel = 'warn'): Record<string, string> {
  return {
    ...TEMPORAL_SQL,
    SQL_HOST: CLUSTER_HOST,
    SQL_PORT: String(ports.postgres),
    SQL_PASSWORD: sqlPassword,
    BIND_ON_IP: CLUSTER_HOST,
    TEMPORAL_BROADCAST_ADDRESS: CLUSTER_HOST,
    LOG_LEVEL: logLevel,
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
  };
}

/** The API key scopes the cluster's key gets: all of them (the suite triggers the janitor too). */
export const CLUSTER_API_KEY_SCOPES = [
  'fine-tunes:read',
  'fine-tunes:write',
  'schedules:read',
  'schedules:write',
  'webhooks:read',
  'webhooks:write',
  'janitor:admin',
] as const;
