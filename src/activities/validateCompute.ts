// Step 3. The notebook's compute checks, made strict and run before anything billable exists: the
// cluster exists (or is created with min 0 nodes), is not failed, its size is allowed for this model and
// not retired, its GPU count is known, and the inference instance type is allowed (and not retired).
// Get-or-create, so idempotent. With readOnly (a dry run) it creates nothing: a missing cluster is one the
// run would create, checked with the spec's size; the deployment's vCPU quota is looked at too.
import type { ComputeResource, AmlCompute } from '@azure/arm-machinelearning';
import type { ActivityDeps } from './deps';
import type { ValidateComputeInput, ValidatedCompute } from './types';
import { classified, isNotFound, RunFailure } from '../azure/errors';
import { finetuneSizeRefusal, inferenceTypeCheck, retiredButListed } from '../runSpec/computeAllowLists';
import { deploymentVcpus } from '../runSpec/sizePicking';
import { withHeartbeat } from './heartbeat';

export function makeValidateCompute(deps: ActivityDeps) {
  const { config, arm } = deps;
  return async function validateCompute(input: ValidateComputeInput): Promise<ValidatedCompute> {
    return classified('validateCompute', () =>
      withHeartbeat(async (signal) => {
        const { compute, deployment, model } = input;
        const warnings: string[] = [];
        const at = Date.now();
        // Refuse a size the model does not allow (or a retired one) before creating anything.
        checkFinetuneSize(compute.vmSize, model.finetuneComputeAllowList, 'compute.vmSize', at, warnings);
        checkInferenceType(
          deployment.instanceType,
          model.inferenceComputeAllowList,
          deployment.allowInstanceTypeOutsideAllowList,
          at,
          warnings,
        );

        let resource: ComputeResource | undefined;
        let created = false;
        let wouldCreate = false;
        try {
          resource = await arm.computeOperations.get(config.resourceGroup, config.workspace, compute.name, {
            abortSignal: signal,
          });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        if (!resource && !compute.createIfMissing) {
          throw new RunFailure(
            'validation',
            `compute cluster ${compute.name} does not exist in workspace ${config.workspace}: create it, or set compute.createIfMissing`,
            'ComputeNotFound',
          );
        }
        if (!resource && input.readOnly) {
          // A dry run: the cluster the run would create, with the spec's size.
          wouldCreate = true;
          resource = {
            properties: { computeType: 'AmlCompute', properties: { vmSize: compute.vmSize } } as AmlCompute,
          };
        }
        if (!resource) {
          const ws = await deps.workspace();
          const body: ComputeResource = {
            location: ws.location,
            properties: {
              computeType: 'AmlCompute',
              description: 'GPU cluster for finetune-flow runs',
              // As azure-ai-ml creates clusters (the notebook's AmlCompute): no local (key) authentication.
              disableLocalAuth: true,
              properties: {
                vmSize: compute.vmSize,
                vmPriority: 'Dedicated',
                osType: 'Linux',
                scaleSettings: {
                  maxNodeCount: compute.maxNodes,
                  minNodeCount: 0,
                  nodeIdleTimeBeforeScaleDown: 'PT2M',
                },
              },
            } as AmlCompute,
          };
          const poller = await arm.computeOperations.beginCreateOrUpdate(
            config.resourceGroup,
            config.workspace,
            compute.name,
            body,
            {
              updateIntervalInMs: config.lroPollMs,
              abortSignal: signal,
            },
          );
          resource = await poller.pollUntilDone({ abortSignal: signal });
          created = true;
        }
        const props = resource.properties;
        const state = props?.provisioningState ?? 'Unknown';
        if (state.toLowerCase() === 'failed') {
          throw new RunFailure(
            'validation',
            `compute ${compute.name} is in failed provisioning state: delete it or choose another cluster in compute.name`,
            'ComputeFailed',
          );
        }
        const vmSize = props?.computeType === 'AmlCompute' ? (props as AmlCompute).properties?.vmSize : undefined;
        if (!vmSize)
          throw new RunFailure(
            'validation',
            `compute ${compute.name} is not an AmlCompute cluster with a VM size`,
            'ComputeNotAmlCompute',
          );
        if (vmSize.toLowerCase() !== compute.vmSize.toLowerCase()) {
          warnings.push(`compute ${compute.name} exists with size ${vmSize}, not ${compute.vmSize}; using ${vmSize}`);
          checkFinetuneSize(vmSize, model.finetuneComputeAllowList, `compute ${compute.name}'s size`, at, warnings);
        }
        const ws = await deps.workspace();
        const sizes = await arm.virtualMachineSizes.list(ws.location ?? 'eastus', { abortSignal: signal });
        const match = (sizes.value ?? []).find((s) => s.name?.toLowerCase() === vmSize.toLowerCase());
        if (!match || typeof match.gpus !== 'number') {
          const available = (sizes.value ?? []).map((s) => s.name).join(', ');
          throw new RunFailure(
            'validation',
            `number of GPUs of ${vmSize} not found in region ${ws.location}. Available sizes: ${available}. Check compute ${compute.name}`,
            'GpuCountUnknown',
          );
        }
        if (match.gpus < 1) {
          throw new RunFailure(
            'validation',
            `${vmSize} has no GPU; fine-tuning needs a GPU cluster. Choose a size from the model's allow list`,
            'NoGpu',
          );
        }
        await checkQuota(
          deps,
          ws.location ?? 'eastus',
          match.family,
          match.vCPUs,
          compute.maxNodes,
          vmSize,
          warnings,
          signal,
        );
        if (input.readOnly) {
          const instance = (sizes.value ?? []).find(
            (s) => s.name?.toLowerCase() === deployment.instanceType.toLowerCase(),
          );
          await warnOnEndpointQuota(deps, ws.location ?? 'eastus', instance, deployment, warnings, signal);
        }
        return {
          name: compute.name,
          vmSize,
          gpusPerNode: match.gpus,
          created,
          ...(wouldCreate ? { wouldCreate } : {}),
          warnings,
        };
      }),
    );
  };
}

/** vCPU quota of the size's family in the region: at least one node must fit before a job is submitted. */
async function checkQuota(
  deps: ActivityDeps,
  location: string,
  family: string | undefined,
  vCPUs: number | undefined,
  maxNodes: number,
  vmSize: string,
  warnings: string[],
  signal: AbortSignal,
): Promise<void> {
  if (!family || !vCPUs) return;
  for await (const usage of deps.arm.usages.list(location, { abortSignal: signal })) {
    if (usage.name?.value?.toLowerCase() !== family.toLowerCase()) continue;
    const free = (usage.limit ?? 0) - (usage.currentValue ?? 0);
    if (free < vCPUs) {
      throw new RunFailure(
        'quota',
        `not enough ${family} vCPU quota in ${location} for one ${vmSize} node: ${vCPUs} vCPUs needed, ${Math.max(0, free)} of ${usage.limit ?? 0} free. ` +
          'Request more quota for this family or choose another compute.vmSize',
        'QuotaExceeded',
      );
    }
    if (free < vCPUs * maxNodes) {
      warnings.push(
        `${family} quota in ${location} fits ${Math.floor(free / vCPUs)} of compute.maxNodes ${maxNodes} nodes`,
      );
    }
    return;
  }
}

/**
 * A dry run looks ahead to step 9: the deployment needs its instances' vCPUs plus Azure ML's 20% reserve free
 * in its family. Quota can change while the job trains, so a shortfall is a warning, not a refusal.
 */
async function warnOnEndpointQuota(
  deps: ActivityDeps,
  location: string,
  size: { name?: string; family?: string; vCPUs?: number } | undefined,
  deployment: ValidateComputeInput['deployment'],
  warnings: string[],
  signal: AbortSignal,
): Promise<void> {
  if (!size?.family || !size.vCPUs) return;
  const need = deploymentVcpus(size.vCPUs, deployment.instanceCount);
  for await (const usage of deps.arm.usages.list(location, { abortSignal: signal })) {
    if (usage.name?.value?.toLowerCase() !== size.family.toLowerCase()) continue;
    const free = Math.max(0, (usage.limit ?? 0) - (usage.currentValue ?? 0));
    if (free < need)
      warnings.push(
        `deployment.instanceType ${deployment.instanceType} × ${deployment.instanceCount} needs ${need} ${size.family} vCPUs (with Azure ML's 20% reserve), ${free} of ${usage.limit ?? 0} free in ${location} now: the deployment would fail after training unless quota is freed or raised`,
      );
    return;
  }
}

function checkFinetuneSize(
  vmSize: string,
  allowList: string[] | undefined,
  field: string,
  at: number,
  warnings: string[],
): void {
  const refusal = finetuneSizeRefusal(vmSize, allowList, field, at);
  if (refusal) throw new RunFailure('validation', refusal.message, refusal.code);
  const warning = retiredButListed(vmSize, allowList, field, 'finetune', at);
  if (warning) warnings.push(warning);
}

function checkInferenceType(
  instanceType: string,
  allowList: string[] | undefined,
  override: boolean,
  at: number,
  warnings: string[],
): void {
  const { refusal, warning } = inferenceTypeCheck(instanceType, allowList, override, at);
  if (refusal) throw new RunFailure('validation', refusal.message, refusal.code);
  if (warning) warnings.push(warning);
}
