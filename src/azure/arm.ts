// ARM client for the workspace: @azure/arm-machinelearning 2.1.1 (api-version 2022-10-01), pointed at
// the configured ARM endpoint (Azure, or the local emulator over HTTPS).
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TokenCredential } from '@azure/core-auth';
import type { AzureConfig } from './config';
import { ARM_SCOPE } from './credentials';
import type { ArmRequestBudget } from './budget';
import { azureCallMetricsPolicy } from '../observability/azureCalls';

export type ArmClient = AzureMachineLearningWorkspaces;

export function createArmClient(
  config: AzureConfig,
  credential: TokenCredential,
  budget?: ArmRequestBudget,
): ArmClient {
  return new AzureMachineLearningWorkspaces(credential, config.subscriptionId, {
    endpoint: config.armEndpoint,
    credentialScopes: [ARM_SCOPE],
    userAgentOptions: { userAgentPrefix: 'finetune-flow' },
    // perCall: the budget is taken once per logical call, before the SDK's own retries.
    // perRetry: every attempt is counted by status (ftflow_azure_calls_total).
    additionalPolicies: [
      ...(budget ? [{ policy: budget.policy(), position: 'perCall' as const }] : []),
      { policy: azureCallMetricsPolicy('arm'), position: 'perRetry' },
    ],
  });
}
