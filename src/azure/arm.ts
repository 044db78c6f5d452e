// ARM client for the workspace: @azure/arm-machinelearning 2.1.1 (api-version 2022-10-01), pointed at
// the configured ARM endpoint (Azure, or the local emulator over HTTPS).
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TokenCredential } from '@azure/core-auth';
import type { AzureConfig } from './config';
import { ARM_SCOPE } from './credentials';

export type ArmClient = AzureMachineLearningWorkspaces;

export function createArmClient(config: AzureConfig, credential: TokenCredential): ArmClient {
  return new AzureMachineLearningWorkspaces(credential, config.subscriptionId, {
    endpoint: config.armEndpoint,
    credentialScopes: [ARM_SCOPE],
    userAgentOptions: { userAgentPrefix: 'finetune-flow' },
  });
}
