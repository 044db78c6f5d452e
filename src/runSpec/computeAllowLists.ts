// The model's compute allow lists, checked as pure functions: by validateCompute (before it creates a
// cluster), by the workflow itself before the dataset is staged, so a refused size fails the run before
// anything exists in Azure, and again by deployEndpoint before it creates the endpoint.
import { SEED_UNSUPPORTED_FINETUNE_VM_SIZES } from './defaults';

export interface ComputeRefusal {
  code: 'VmSizeNotAllowed' | 'VmSizeNotSupported' | 'InstanceTypeNotAllowed';
  message: string;
}

const lower = (list: readonly string[]) => list.map((s) => s.toLowerCase());

/** Why `vmSize` may not fine-tune this model, if it may not. `field` names where the size came from. */
export function finetuneSizeRefusal(
  vmSize: string,
  allowList: readonly string[] | undefined,
  field: string,
): ComputeRefusal | undefined {
  if (allowList) {
    if (lower(allowList).includes(vmSize.toLowerCase())) return undefined;
    return {
      code: 'VmSizeNotAllowed',
      message: `${field} ${vmSize} is not in the model's finetune allow list: choose one of ${allowList.join(', ')}`,
    };
  }
  if (SEED_UNSUPPORTED_FINETUNE_VM_SIZES.includes(vmSize.toLowerCase())) {
    return {
      code: 'VmSizeNotSupported',
      message: `${field} ${vmSize} is not supported for fine-tuning: choose a newer GPU size`,
    };
  }
  return undefined;
}

/** Whether the inference instance type is outside the model's allow list: refused, or a warning when overridden. */
export function inferenceTypeCheck(
  instanceType: string,
  allowList: readonly string[] | undefined,
  override: boolean,
): { refusal?: ComputeRefusal; warning?: string } {
  if (!allowList || lower(allowList).includes(instanceType.toLowerCase())) return {};
  const message = `deployment.instanceType ${instanceType} is not in the model's inference allow list (${allowList.join(', ')})`;
  if (!override) {
    return {
      refusal: {
        code: 'InstanceTypeNotAllowed',
        message: `${message}: choose one of them, or set deployment.allowInstanceTypeOutsideAllowList to deploy anyway`,
      },
    };
  }
  return { warning: `${message}; deploying anyway because deployment.allowInstanceTypeOutsideAllowList is set` };
}
