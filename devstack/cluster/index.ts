// The self-hosted Temporal cluster on this machine (PostgreSQL, the server's four services, ftflow
// workers, the API, Azurite, the emulator): `make cluster`, and what the cluster suite drives.
export {
  API_ENTRY,
  DEFAULT_CLUSTER_DATA_DIR,
  clusterApiEnv,
  clusterWorkerEnv,
  clusterRecordFile,
  liveClusterProcesses,
  readClusterRecord,
  startCluster,
  stopRecordedCluster,
} from './cluster';
export type {
  ClusterExit,
  ClusterOptions,
  ClusterProcessInfo,
  ClusterProcessName,
  ClusterRecord,
  ClusterUrls,
  ClusterWiring,
  RunningCluster,
} from './cluster';
export * from './settings';
export {
  TEMPORAL_SERVER_BIN,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_SQL_TOOL_BIN,
  TEMPORAL_UI_BIN,
  TEMPORAL_UI_VERSION,
  ensureServerTools,
  ensureUiTool,
  findPostgres,
  postgresRunAs,
  serverToolsReady,
  uiToolReady,
} from './tools';
export type { BuildReport } from './tools';
