// The model's compute allow lists, checked as pure functions: by validateCompute (before it creates a
// cluster), by the workflow itself before the dataset is staged, so a refused size fails the run before
// anything exists in Azure, and again by deployEndpoint before it creates the endpoint.
//
// Given a time (`at`, ms), a retired VM size (vmSizeRetirements.ts) is judged too: one the model's allow
// list does not name is refused by name, whatever deployment.allowInstanceTypeOutsideAllowList says, with
// the current sizes of the list to use instead. One the registry's allow list still names (an entry written
// before the retirement, such as the seed notebook's Phi-3-mini-4k-instruct v15 with Standard_NC6s_v3) is
// the registry's call: it is used, with a warning.
import { SEED_UNSUPPORTED_FINETUNE_VM_SIZES } from './defaults';
import { retiredPhrase, retirementOf, type VmSizeRetirement } from './vmSizeRetirements';

export interface ComputeRefusal {
  code: 'VmSizeNotAllowed' | 'VmSizeNotSupported' | 'InstanceTypeNotAllowed' | 'VmSizeRetired' | 'InstanceTypeRetired';
  message: string;
}

const lower = (list: readonly string[]) => list.map((s) => s.toLowerCase());
const names = (list: readonly string[], size: string) => lower(list).includes(size.toLowerCase());

/** The sizes of an allow list that are not retired at `at` (every one without a time). */
export function currentSizes(allowList: readonly string[], at?: number): string[] {
  return at === undefined ? [...allowList] : allowList.filter((s) => !retirementOf(s, at));
}

/** What to choose instead of a retired size: the list's current sizes, or (no list, or none current) its successors. */
function instead(retired: VmSizeRetirement, allowList: readonly string[] | undefined, at: number): string {
  const current = allowList ? currentSizes(allowList, at) : [];
  return current.length > 0
    ? `choose one of ${current.join(', ')}`
    : `choose a current GPU size such as ${retired.successor.sizes.join(', ')}`;
}

/**
 * Why `vmSize` may not fine-tune this model, if it may not. `field` names where the size came from; with
 * `at`, a retired size the allow list does not name is refused as retired.
 */
export function finetuneSizeRefusal(
  vmSize: string,
  allowList: readonly string[] | undefined,
  field: string,
  at?: number,
): ComputeRefusal | undefined {
  const retired = at !== undefined ? retirementOf(vmSize, at) : undefined;
  if (allowList) {
    if (names(allowList, vmSize)) return undefined;
    if (retired && at !== undefined) {
      return {
        code: 'VmSizeRetired',
        message: `${field} ${vmSize} is not in the model's finetune allow list and was ${retiredPhrase(retired)}: ${instead(retired, allowList, at)}`,
      };
    }
    return {
      code: 'VmSizeNotAllowed',
      message: `${field} ${vmSize} is not in the model's finetune allow list: choose one of ${allowList.join(', ')}`,
    };
  }
  if (retired && at !== undefined) {
    return {
      code: 'VmSizeRetired',
      message: `${field} ${vmSize} was ${retiredPhrase(retired)}: ${instead(retired, undefined, at)}`,
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

/** A warning when `size` is retired at `at` but the model's allow list (`list`, "finetune" or "inference") names it. */
export function retiredButListed(
  size: string,
  allowList: readonly string[] | undefined,
  field: string,
  list: 'finetune' | 'inference',
  at: number,
): string | undefined {
  const retired = retirementOf(size, at);
  if (!retired || !allowList || !names(allowList, size)) return undefined;
  return (
    `${field} ${size} was ${retiredPhrase(retired)}; the model's ${list} allow list in the registry still names it, ` +
    'so it is used (Azure may refuse it)'
  );
}

/**
 * Whether the inference instance type is outside the model's allow list: refused, or a warning when
 * overridden. With `at`, a retired type the list does not name is refused, override or not, and one it
 * names is a warning.
 */
export function inferenceTypeCheck(
  instanceType: string,
  allowList: readonly string[] | undefined,
  override: boolean,
  at?: number,
): { refusal?: ComputeRefusal; warning?: string } {
  const field = 'deployment.instanceType';
  const retired = at !== undefined ? retirementOf(instanceType, at) : undefined;
  if (retired && at !== undefined && !(allowList && names(allowList, instanceType))) {
    const outside = allowList ? " is not in the model's inference allow list and" : '';
    return {
      refusal: {
        code: 'InstanceTypeRetired',
        message:
          `${field} ${instanceType}${outside} was ${retiredPhrase(retired)}: ${instead(retired, allowList, at)}` +
          (override ? ' (deployment.allowInstanceTypeOutsideAllowList does not apply to a retired size)' : ''),
      },
    };
  }
  if (retired && at !== undefined)
    return { warning: retiredButListed(instanceType, allowList, field, 'inference', at) };
  if (!allowList || names(allowList, instanceType)) return {};
  const message = `${field} ${instanceType} is not in the model's inference allow list (${allowList.join(', ')})`;
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
