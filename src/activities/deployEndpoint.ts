// Step 9. Managed online endpoint (key auth) + deployment + 100% traffic, each get-or-create under the
// names derived from the run, so a retry adopts what the first attempt started. The endpoint is tagged
// with the run id and namespace so the janitor can find orphans. Billing starts here; the workflow's finally deletes it.
// Each creation's operation travels in the heartbeat: a retry that finds the endpoint or deployment Failed
// (its worker died while it provisioned) asks that operation why, so quota reads as quota after a crash too.
import type {
  OnlineEndpoint,
  OnlineEndpointProperties,
  OnlineDeployment,
  ManagedOnlineDeployment,
} from '@azure/arm-machinelearning';
import type { ActivityDeps } from './deps';
import type { DeployEndpointInput, DeployedEndpoint } from './types';
import { classified, isNotFound, RunFailure } from '../azure/errors';
import { CREATED_BY, CREATED_BY_TAG, NAMESPACE_TAG, RUN_TAG } from '../azure/tags';
import { inferenceTypeCheck } from '../runSpec/computeAllowLists';
import { Context } from '@temporalio/activity';
import { isoDuration, withHeartbeat } from './heartbeat';

/** What a heartbeat carries: the serialized state of the operations this step started. */
export interface DeployProgress {
  endpointOperation?: string;
  deploymentOperation?: string;
}

function readProgress(details: unknown): DeployProgress {
  if (typeof details !== 'object' || details === null) return {};
  const d = details as Record<string, unknown>;
  return {
    ...(typeof d.endpointOperation === 'string' ? { endpointOperation: d.endpointOperation } : {}),
    ...(typeof d.deploymentOperation === 'string' ? { deploymentOperation: d.deploymentOperation } : {}),
  };
}

interface ResumablePoller {
  pollUntilDone(options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * Follows an operation an earlier attempt started, to surface why it failed (the poller rejects with the
 * operation's error code, which `classified` reads: OutOfQuota is a quota failure). Returns when there is
 * nothing to learn: no operation was recorded, Azure no longer knows it, or it did not fail.
 */
async function explainFailure(
  state: string | undefined,
  resume: (resumeFrom: string) => Promise<ResumablePoller>,
  signal: AbortSignal,
): Promise<void> {
  if (!state) return;
  try {
    await (await resume(state)).pollUntilDone({ abortSignal: signal });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
}

export function makeDeployEndpoint(deps: ActivityDeps) {
  const { config, arm } = deps;
  const rg = config.resourceGroup;
  const ws = config.workspace;
  return async function deployEndpoint(input: DeployEndpointInput): Promise<DeployedEndpoint> {
    const previous = readProgress(Context.current().info.heartbeatDetails);
    const progress: DeployProgress = { ...previous };
    const started = (key: keyof DeployProgress, poller: { toString(): string }): void => {
      progress[key] = poller.toString();
      Context.current().heartbeat(progress);
    };
    return classified('deployEndpoint', () =>
      withHeartbeat(
        async (signal) => {
          const { endpointName, deployment } = input;
          const { refusal } = inferenceTypeCheck(
            deployment.instanceType,
            input.inferenceComputeAllowList,
            deployment.allowInstanceTypeOutsideAllowList,
            Date.now(),
          );
          if (refusal) throw new RunFailure('validation', refusal.message, refusal.code);
          const location = (await deps.workspace()).location;
          const namespace = Context.current().info.workflowNamespace;
          const lro = { updateIntervalInMs: config.lroPollMs, abortSignal: signal };

          // 1. Endpoint.
          let endpoint = await getOrUndefined(() =>
            arm.onlineEndpoints.get(rg, ws, endpointName, { abortSignal: signal }),
          );
          const adopted = endpoint !== undefined;
          const endpointBody = (traffic: Record<string, number>): OnlineEndpoint => ({
            location: location ?? 'eastus',
            identity: { type: 'SystemAssigned' },
            tags: {
              [RUN_TAG]: input.runId,
              [CREATED_BY_TAG]: CREATED_BY,
              ...(namespace ? { [NAMESPACE_TAG]: namespace } : {}),
            },
            properties: {
              authMode: 'Key',
              description: `Online endpoint for ${input.modelName}, fine tuned model for ultrachat-200k-chat-completion`,
              properties: {},
              traffic,
            } satisfies OnlineEndpointProperties,
          });
          if (endpoint?.properties.provisioningState === 'Failed') {
            await explainFailure(
              previous.endpointOperation,
              (resumeFrom) =>
                arm.onlineEndpoints.beginCreateOrUpdate(rg, ws, endpointName, endpointBody({}), { ...lro, resumeFrom }),
              signal,
            );
            throw new RunFailure(
              'capacity',
              `endpoint ${endpointName} failed to provision; check the subscription's endpoint quota and the region's capacity`,
              'EndpointFailed',
            );
          }
          if (endpoint?.properties.provisioningState === 'Deleting') {
            throw new RunFailure(
              'transient',
              `endpoint ${endpointName} is still being deleted; retrying once it is gone`,
              'EndpointDeleting',
            );
          }
          if (endpoint === undefined || endpoint.properties.provisioningState !== 'Succeeded') {
            const poller = await arm.onlineEndpoints.beginCreateOrUpdate(
              rg,
              ws,
              endpointName,
              endpointBody(endpoint?.properties.traffic ?? {}),
              lro,
            );
            started('endpointOperation', poller);
            endpoint = await poller.pollUntilDone({ abortSignal: signal });
          }

          // 2. Deployment.
          const existingDeployment = await getOrUndefined(() =>
            arm.onlineDeployments.get(rg, ws, endpointName, deployment.name, { abortSignal: signal }),
          );
          const deploymentBody: OnlineDeployment = {
            location: location ?? 'eastus',
            tags: { [RUN_TAG]: input.runId },
            sku: { name: 'Default', capacity: deployment.instanceCount },
            properties: {
              endpointComputeType: 'Managed',
              model: input.modelId,
              instanceType: deployment.instanceType,
              livenessProbe: { initialDelay: isoDuration(deployment.livenessInitialDelaySeconds) },
              requestSettings: { requestTimeout: isoDuration(deployment.requestTimeoutMs / 1000) },
              appInsightsEnabled: false,
              properties: {},
            } as ManagedOnlineDeployment,
          };
          if (existingDeployment?.properties.provisioningState === 'Failed') {
            await explainFailure(
              previous.deploymentOperation,
              (resumeFrom) =>
                arm.onlineDeployments.beginCreateOrUpdate(rg, ws, endpointName, deployment.name, deploymentBody, {
                  ...lro,
                  resumeFrom,
                }),
              signal,
            );
            throw new RunFailure(
              'capacity',
              `deployment ${deployment.name} on ${endpointName} failed to provision (${deployment.instanceType}); check quota and capacity for this instance type`,
              'DeploymentFailed',
            );
          }
          if (existingDeployment?.properties.provisioningState !== 'Succeeded') {
            const poller = await arm.onlineDeployments.beginCreateOrUpdate(
              rg,
              ws,
              endpointName,
              deployment.name,
              deploymentBody,
              lro,
            );
            started('deploymentOperation', poller);
            await poller.pollUntilDone({ abortSignal: signal });
          }

          // 3. All traffic to the deployment (a second PUT of the whole endpoint, as the notebook does).
          if (endpoint.properties.traffic?.[deployment.name] !== 100) {
            const poller = await arm.onlineEndpoints.beginCreateOrUpdate(
              rg,
              ws,
              endpointName,
              endpointBody({ [deployment.name]: 100 }),
              lro,
            );
            endpoint = await poller.pollUntilDone({ abortSignal: signal });
          }
          const scoringUri = endpoint.properties.scoringUri;
          if (!scoringUri) throw new RunFailure('transient', `endpoint ${endpointName} has no scoring URI yet`);
          return { endpointName, deploymentName: deployment.name, scoringUri, adopted };
        },
        () => progress,
      ),
    );
  };
}

async function getOrUndefined<T>(get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
