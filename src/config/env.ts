// Names of the environment variables the service reads. One list, so the stack, the worker,
// the docs and the tests agree.
export const ENV = {
  temporalAddress: 'TEMPORAL_ADDRESS',
  temporalNamespace: 'TEMPORAL_NAMESPACE',
  taskQueue: 'FTFLOW_TASK_QUEUE',
  subscriptionId: 'AZURE_SUBSCRIPTION_ID',
  resourceGroup: 'AZURE_RESOURCE_GROUP',
  workspace: 'AZUREML_WORKSPACE_NAME',
  workspaceConfigFile: 'AZUREML_CONFIG_FILE',
  tenantId: 'AZURE_TENANT_ID',
  clientId: 'AZURE_CLIENT_ID',
  clientSecret: 'AZURE_CLIENT_SECRET',
  authorityHost: 'AZURE_AUTHORITY_HOST',
  armEndpoint: 'FTFLOW_ARM_ENDPOINT',
  registryDiscoveryUrl: 'FTFLOW_REGISTRY_DISCOVERY_URL',
  blobEndpointOverride: 'FTFLOW_BLOB_ENDPOINT',
  hfEndpoint: 'HF_ENDPOINT',
  hfToken: 'HF_TOKEN',
  temporalCli: 'TEMPORAL_CLI',
  // Temporal connection security, with the Temporal CLI's names: TLS (mTLS with a client certificate)
  // for self-hosted servers, an API key for Temporal Cloud.
  temporalApiKey: 'TEMPORAL_API_KEY',
  temporalTls: 'TEMPORAL_TLS',
  temporalTlsCert: 'TEMPORAL_TLS_CERT',
  temporalTlsKey: 'TEMPORAL_TLS_KEY',
  temporalTlsCa: 'TEMPORAL_TLS_CA',
  temporalTlsServerName: 'TEMPORAL_TLS_SERVER_NAME',
  // The HTTP API.
  apiHost: 'FTFLOW_API_HOST',
  apiPort: 'FTFLOW_API_PORT',
  apiKeysFile: 'FTFLOW_API_KEYS_FILE',
  apiKeys: 'FTFLOW_API_KEYS',
  apiRateLimit: 'FTFLOW_API_RATE_LIMIT',
  /** The shared secret(s) Event Grid deliveries carry in the receiver's URL (`?secret=`); unset: no receiver. */
  eventGridSecret: 'FTFLOW_EVENT_GRID_SECRET',
  scheduleMinInterval: 'FTFLOW_SCHEDULE_MIN_INTERVAL',
  // Prices of VM sizes (src/cost/priceFile.ts): an operator's table over the vendored list prices.
  pricesFile: 'FTFLOW_PRICES_FILE',
  // Webhooks: the operator key every endpoint's signing secret is derived from (src/webhooks/secrets.ts).
  webhookSecretKey: 'FTFLOW_WEBHOOK_SECRET_KEY',
} as const;
