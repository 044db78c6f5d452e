// The embedded local stack's fixed identities and default ports. The emulator, the stack and the
// tests agree on these; production code never reads them (it reads the environment, see env.ts).

export const LOCAL_AZURE = {
  subscriptionId: '00000000-0000-4000-8000-000000000001',
  resourceGroup: 'rg-finetune-local',
  workspace: 'ws-finetune-local',
  location: 'eastus',
  tenantId: '00000000-0000-4000-8000-0000000000aa',
  clientId: '00000000-0000-4000-8000-0000000000c1',
  // The registry's own subscription and resource group, as the discovery call reports them.
  registrySubscriptionId: '00000000-0000-4000-8000-0000000000f0',
  registryResourceGroup: 'azureml-registry',
  registryName: 'azureml',
  datastoreName: 'workspaceblobstore',
  blobContainer: 'azureml-blobstore-00000000-0000-4000-8000-0000000000b1',
} as const;

// Azurite's documented development account (public, well-known values).
export const AZURITE_ACCOUNT = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
} as const;

export const DEFAULT_PORTS = {
  temporal: 7233,
  temporalUi: 8233,
  azurite: 10000,
  emulator: 8443,
} as const;

export const DEFAULT_HF_DATASET = 'HuggingFaceH4/ultrachat_200k';
