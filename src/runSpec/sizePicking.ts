// Choosing a VM size the run spec leaves unset (compute.vmSize, deployment.instanceType). Pure: resolveModel
// gives it the region's sizes and the free quota it read, and records the choice (and why) in its result.
//
// The notebook's size (Standard_NC24ads_A100_v4 to train, Standard_NC6s_v3 to serve) is kept when the
// model's allow list names it and the quota admits it, so the seed's runs are the notebook's. Otherwise the
// run takes the smallest current (not retired) size of the model's allow list that the region offers and
// the vCPU quota admits (fewest vCPUs, then fewest GPUs, then the list's order), and says so in a warning.
import { DEFAULT_COMPUTE_VM_SIZE, SEED_INSTANCE_TYPE } from './defaults';
import { retiredPhrase, retirementOf } from './vmSizeRetirements';

/** A size as the region's VM size list describes it. */
export interface RegionSize {
  name: string;
  vCPUs?: number;
  gpus?: number;
  /** The quota family it draws vCPUs from (e.g. StandardNCADSA100v4Family). */
  family?: string;
}

export interface SizePickInput {
  use: 'finetune' | 'inference';
  /** The model, for the warning ("Phi-4 v8"). */
  model: string;
  allowList?: readonly string[];
  /** Time (ms) against which retirements are judged. */
  at: number;
  /** The workspace region's VM sizes. */
  region: readonly RegionSize[];
  /** Free vCPUs of a quota family; undefined when the region reports no usage for it (not judged). */
  freeVcpus(family: string): number | undefined;
  /** vCPUs a size needs free: one node to train, the instances and Azure's 20% reserve to serve. */
  vcpusNeeded(vCPUs: number): number;
}

export interface SizePick {
  size: string;
  /** Set when the choice is not the notebook's size: what was chosen and why. */
  warning?: string;
}

const FIELD = { finetune: 'compute.vmSize', inference: 'deployment.instanceType' } as const;
const NOTEBOOK = { finetune: DEFAULT_COMPUTE_VM_SIZE, inference: SEED_INSTANCE_TYPE } as const;

/** vCPUs a deployment of `instances` instances needs free: Azure ML reserves 20% more for upgrades. */
export function deploymentVcpus(vCPUs: number, instances: number): number {
  return Math.ceil(instances * 1.2) * vCPUs;
}

interface Fit {
  size: RegionSize;
  need?: number;
  free?: number;
  admitted: boolean;
}

export function pickSize(input: SizePickInput): SizePick {
  const { use, allowList, at } = input;
  const field = FIELD[use];
  const notebook = NOTEBOOK[use];
  const find = (name: string) => input.region.find((s) => s.name.toLowerCase() === name.toLowerCase());
  const fit = (name: string): Fit | undefined => {
    const size = find(name);
    if (!size) return undefined;
    if (size.vCPUs === undefined || size.family === undefined) return { size, admitted: true };
    const need = input.vcpusNeeded(size.vCPUs);
    const free = input.freeVcpus(size.family);
    return { size, need, free, admitted: free === undefined || free >= need };
  };

  const listed = (name: string) => allowList?.some((s) => s.toLowerCase() === name.toLowerCase()) ?? false;
  const notebookRetired = retirementOf(notebook, at);
  const notebookUsable = allowList ? listed(notebook) : !notebookRetired;
  const notebookFit = notebookUsable ? fit(notebook) : undefined;
  if (notebookUsable && (notebookFit === undefined || notebookFit.admitted)) return { size: notebook };

  // Candidates: the list's current sizes the region offers (without a list: the retired size's successors).
  const names = allowList
    ? allowList.filter((s) => !retirementOf(s, at))
    : [...(notebookRetired?.successor.sizes ?? [])];
  const order = (f: Fit) => names.findIndex((n) => n.toLowerCase() === f.size.name.toLowerCase());
  const fits = names
    .map(fit)
    .filter((f): f is Fit => f !== undefined)
    .sort(
      (a, b) =>
        (a.size.vCPUs ?? Infinity) - (b.size.vCPUs ?? Infinity) ||
        (a.size.gpus ?? Infinity) - (b.size.gpus ?? Infinity) ||
        order(a) - order(b),
    );
  const chosen = fits.find((f) => f.admitted);

  const why = !notebookUsable
    ? allowList
      ? `${notebookRetired ? `was ${retiredPhrase(notebookRetired)} and ` : ''}is not in ${input.model}'s ${use} allow list`
      : `was ${notebookRetired ? retiredPhrase(notebookRetired) : 'retired'}`
    : `does not fit the ${notebookFit?.size.family ?? ''} vCPU quota (${notebookFit?.need ?? '?'} needed, ${notebookFit?.free ?? '?'} free)`;
  const source = allowList
    ? `${input.model}'s ${use} allow list`
    : `the ${notebookRetired?.successor.series ?? ''} sizes`;
  const quota = (f: Fit) =>
    f.need !== undefined && f.free !== undefined ? `; ${f.need} vCPUs needed, ${f.free} of ${f.size.family} free` : '';

  if (chosen) {
    return {
      size: chosen.size.name,
      warning: `${field} is not set and the notebook's ${notebook} ${why}: using ${chosen.size.name}, the smallest current size of ${source} that the vCPU quota admits${quota(chosen)}`,
    };
  }
  const smallest = fits[0];
  if (smallest) {
    return {
      size: smallest.size.name,
      warning: `${field} is not set and the notebook's ${notebook} ${why}: using ${smallest.size.name}, the smallest current size of ${source}, although no size of it fits the vCPU quota${quota(smallest)}; request more quota or set ${field}`,
    };
  }
  // The region lists none of them: the first current size of the list (the checks that follow say what is wrong).
  const first = names[0];
  if (first === undefined) return { size: notebook };
  return {
    size: first,
    warning: `${field} is not set and the notebook's ${notebook} ${why}: using ${first}, the first current size of ${source} (the region's size list has none of them)`,
  };
}

/** The spec's sizes, filled: what it sets, else what resolveModel chose, else the notebook's. */
export function sizedSpec<S extends { compute: { vmSize?: string }; deployment: { instanceType?: string } }>(
  spec: S,
  chosen?: { vmSize?: string; instanceType?: string },
): S & { compute: S['compute'] & { vmSize: string }; deployment: S['deployment'] & { instanceType: string } } {
  return {
    ...spec,
    compute: { ...spec.compute, vmSize: spec.compute.vmSize ?? chosen?.vmSize ?? DEFAULT_COMPUTE_VM_SIZE },
    deployment: {
      ...spec.deployment,
      instanceType: spec.deployment.instanceType ?? chosen?.instanceType ?? SEED_INSTANCE_TYPE,
    },
  };
}
