// The VM sizes of the emulated region: what the vmSizes API lists, what computes and managed online
// deployments may use, and the family each size draws its vCPU quota from. Public Azure VM facts
// (vCPUs, memory, GPUs, temporary disk).

export interface VmSize {
  name: string;
  /** Quota family as the vmSizes API names it (e.g. standardNCSv3Family). */
  family: string;
  vCPUs: number;
  gpus: number;
  memoryGB: number;
  maxResourceVolumeMB: number;
  premiumIO: boolean;
  /** Offered for managed online deployments (instanceType). */
  managedOnline: boolean;
}

export const VM_SIZES: readonly VmSize[] = [
  {
    name: 'Standard_DS3_v2',
    family: 'standardDSv2Family',
    vCPUs: 4,
    gpus: 0,
    memoryGB: 14,
    maxResourceVolumeMB: 28672,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_D12_v2',
    family: 'standardDv2Family',
    vCPUs: 4,
    gpus: 0,
    memoryGB: 28,
    maxResourceVolumeMB: 204800,
    premiumIO: false,
    managedOnline: false,
  },
  {
    name: 'Standard_NC4as_T4_v3',
    family: 'standardNCASv3_T4Family',
    vCPUs: 4,
    gpus: 1,
    memoryGB: 28,
    maxResourceVolumeMB: 184320,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_NC6s_v3',
    family: 'standardNCSv3Family',
    vCPUs: 6,
    gpus: 1,
    memoryGB: 112,
    maxResourceVolumeMB: 753664,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_NC12s_v3',
    family: 'standardNCSv3Family',
    vCPUs: 12,
    gpus: 2,
    memoryGB: 224,
    maxResourceVolumeMB: 1509376,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_NC24s_v3',
    family: 'standardNCSv3Family',
    vCPUs: 24,
    gpus: 4,
    memoryGB: 448,
    maxResourceVolumeMB: 3018752,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_NC24rs_v3',
    family: 'standardNCSv3Family',
    vCPUs: 24,
    gpus: 4,
    memoryGB: 448,
    maxResourceVolumeMB: 3018752,
    premiumIO: true,
    managedOnline: false,
  },
  {
    name: 'Standard_NC24ads_A100_v4',
    family: 'StandardNCADSA100v4Family',
    vCPUs: 24,
    gpus: 1,
    memoryGB: 220,
    maxResourceVolumeMB: 65536,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_NC48ads_A100_v4',
    family: 'StandardNCADSA100v4Family',
    vCPUs: 48,
    gpus: 2,
    memoryGB: 440,
    maxResourceVolumeMB: 131072,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_NC96ads_A100_v4',
    family: 'StandardNCADSA100v4Family',
    vCPUs: 96,
    gpus: 4,
    memoryGB: 880,
    maxResourceVolumeMB: 262144,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_ND96asr_v4',
    family: 'standardNDASv4_A100Family',
    vCPUs: 96,
    gpus: 8,
    memoryGB: 900,
    maxResourceVolumeMB: 6144000,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_ND96amsr_A100_v4',
    family: 'standardNDAMSv4_A100Family',
    vCPUs: 96,
    gpus: 8,
    memoryGB: 1900,
    maxResourceVolumeMB: 6553600,
    premiumIO: true,
    managedOnline: true,
  },
  {
    name: 'Standard_ND40rs_v2',
    family: 'standardNDSv2Family',
    vCPUs: 40,
    gpus: 8,
    memoryGB: 672,
    maxResourceVolumeMB: 3018752,
    premiumIO: true,
    managedOnline: true,
  },
];

export function findVmSize(name: string): VmSize | undefined {
  const wanted = name.toLowerCase();
  return VM_SIZES.find((s) => s.name.toLowerCase() === wanted);
}

export function vmFamilies(): string[] {
  return [...new Set(VM_SIZES.map((s) => s.family))];
}

/** The usage name of a family's dedicated cluster vCPUs, as the usages API writes it:
 *  standardNCSv3Family → "Standard NCSv3 Family Cluster Dedicated vCPUs". */
export function familyUsageName(family: string): string {
  const core = family.replace(/^standard/i, '').replace(/Family$/i, '');
  return `Standard ${core} Family Cluster Dedicated vCPUs`;
}
