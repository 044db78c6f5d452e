// The embedded local stack (Temporal dev server, Azurite, Azure ML emulator, worker) as child
// processes. Node-only; workflows import search attribute keys from src/config/searchAttributes.
export {
  ALL_COMPONENTS,
  DEFAULT_NAMESPACE,
  EMULATOR_HEALTH_PATH,
  TEST_COMPONENTS,
  WORKER_READY_LINE,
  liveRecordedProcesses,
  loadOrCreateClientSecret,
  readStackRecord,
  stackEnv,
  stackFileFor,
  startStack,
  stopRecordedStack,
} from './stack';
export type {
  ComponentName,
  RunningStack,
  StackConnectionInfo,
  StackOptions,
  StackPorts,
  StackProcessInfo,
  StackRecord,
  StackUrls,
  UnexpectedExit,
} from './stack';
export { PORT_ENV, PortInUseError, STACK_HOST, pickFreePort, probePort, type PortName } from './ports';
export {
  DEFAULT_CERTS_DIR,
  DEFAULT_DATA_DIR,
  JEMALLOC_LIBRARY,
  PROJECT_ROOT,
  TEMPORAL_CLI_VERSION,
  localWorkerProcessEnv,
  resolveTemporalCli,
} from './paths';
export {
  FINETUNE_SEARCH_ATTRIBUTE_KEYS,
  FINETUNE_SEARCH_ATTRIBUTES,
  searchAttributeArgs,
  searchAttributeSpecs,
} from './searchAttributes';
