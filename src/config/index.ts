// The configuration others may build on (package export `finetune-flow/config`): the environment variables
// the service reads, the local stack's identities, the search attributes and the default task queue. The
// local stand-ins (devstack/) take these from here so that they and the product cannot drift apart.
export { ENV } from './env';
export { AZURITE_ACCOUNT, DEFAULT_PORTS, LOCAL_AZURE } from './local';
export { FINETUNE_SEARCH_ATTRIBUTE_KEYS, FINETUNE_SEARCH_ATTRIBUTES } from './searchAttributes';
export { TASK_QUEUE } from './temporal';
export { WORKER_PROCESS_ENV, workerProcessEnv } from './workerTuning';
