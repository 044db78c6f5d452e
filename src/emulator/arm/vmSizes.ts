// VM sizes of the region (GPU counts are what the flow reads) and the per-family core quotas.
import type { FastifyInstance } from 'fastify';
import { ML_PROVIDER, type EmulatorContext } from '../context';
import { ArmError } from '../errors';
import { ARM_ROUTE, requireSubscription } from './common';

export interface VmSize {
  name: string;
  family: string;
  vCPUs: number;
  gpus: number;
  memoryGB: number;
  maxResourceVolumeMB: number;
  premiumIO: boolean;
}

// Public Azure VM size facts (vCPUs, memory, GPUs, temp disk).
export const VM_SIZES: readonly VmSize[] = [
  { name: 'Standard_DS3_v2', family: 'standardDSv2Family', vCPUs: 4, gpus: 0, memoryGB: 14, maxResourceVolumeMB: 28672, premiumIO: true },
  { name: 'Standard_D12_v2', family: 'standardDv2Family', vCPUs: 4, gpus: 0, memoryGB: 28, maxResourceVolumeMB: 204800, premiumIO: false },
  { name: 'Standard_NC4as_T4_v3', family: 'standardNCASv3_T4Family', vCPUs: 4, gpus: 1, memoryGB: 28, maxResourceVolumeMB: 184320, premiumIO: true },
  { name: 'Standard_NC6s_v3', family: 'standardNCSv3Family', vCPUs: 6, gpus: 1, memoryGB: 112, maxResourceVolumeMB: 753664, premiumIO: true },
  { name: 'Standard_NC12s_v3', family: 'standardNCSv3Family', vCPUs: 12, gpus: 2, memoryGB: 224, maxResourceVolumeMB: 1509376, premiumIO: true },
  { name: 'Standard_NC24s_v3', family: 'standardNCSv3Family', vCPUs: 24, gpus: 4, memoryGB: 448, maxResourceVolumeMB: 3018752, premiumIO: true },
  { name: 'Standard_NC24rs_v3', family: 'standardNCSv3Family', vCPUs: 24, gpus: 4, memoryGB: 448, maxResourceVolumeMB: 3018752, premiumIO: true },
  { name: 'Standard_NC24ads_A100_v4', family: 'StandardNCADSA100v4Family', vCPUs: 24, gpus: 1, memoryGB: 220, maxResourceVolumeMB: 65536, premiumIO: true },
  { name: 'Standard_NC48ads_A100_v4', family: 'StandardNCADSA100v4Family', vCPUs: 48, gpus: 2, memoryGB: 440, maxResourceVolumeMB: 131072, premiumIO: true },
  { name: 'Standard_NC96ads_A100_v4', family: 'StandardNCADSA100v4Family', vCPUs: 96, gpus: 4, memoryGB: 880, maxResourceVolumeMB: 262144, premiumIO: true },
  { name: 'Standard_ND96asr_v4', family: 'standardNDASv4_A100Family', vCPUs: 96, gpus: 8, memoryGB: 900, maxResourceVolumeMB: 6144000, premiumIO: true },
  { name: 'Standard_ND96amsr_A100_v4', family: 'standardNDAMSv4_A100Family', vCPUs: 96, gpus: 8, memoryGB: 1900, maxResourceVolumeMB: 6553600, premiumIO: true },
  { name: 'Standard_ND40rs_v2', family: 'standardNDSv2Family', vCPUs: 40, gpus: 8, memoryGB: 672, maxResourceVolumeMB: 3018752, premiumIO: true },
];

export function findVmSize(name: string): VmSize | undefined {
  const wanted = name.toLowerCase();
  return VM_SIZES.find((s) => s.name.toLowerCase() === wanted);
}

/** Core quota per VM family in the emulated region (enough for one of each big GPU size). */
const FAMILY_CORE_LIMIT = 96;
const REGIONAL_CORE_LIMIT = 400;

const LOCATION_PATTERN = /^[-\w._]+$/;

interface LocationParams {
  subscriptionId: string;
  location: string;
}

export function registerVmSizeRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const prefix = `/subscriptions/:subscriptionId/providers/${ML_PROVIDER}/locations/:location`;
  const check = (p: LocationParams): void => {
    requireSubscription(ctx, p.subscriptionId);
    if (!LOCATION_PATTERN.test(p.location)) throw new ArmError(400, 'UserError', `Invalid location '${p.location}'.`, 'location');
  };

  app.get<{ Params: LocationParams }>(`${prefix}/vmSizes`, ARM_ROUTE, (req) => {
    check(req.params);
    return {
      value: VM_SIZES.map((s) => ({
        name: s.name,
        family: s.family,
        vCPUs: s.vCPUs,
        gpus: s.gpus,
        osVhdSizeMB: 1047552,
        maxResourceVolumeMB: s.maxResourceVolumeMB,
        memoryGB: s.memoryGB,
        lowPriorityCapable: true,
        premiumIO: s.premiumIO,
        supportedComputeTypes: ['AmlCompute', 'ComputeInstance'],
      })),
    };
  });

  app.get<{ Params: LocationParams }>(`${prefix}/usages`, ARM_ROUTE, (req) => {
    check(req.params);
    const families = [...new Set(VM_SIZES.map((s) => s.family))];
    const base = `/subscriptions/${req.params.subscriptionId}/providers/${ML_PROVIDER}/locations/${req.params.location}/usages`;
    const usage = (name: string, limit: number) => ({
      id: `${base}/${name}`,
      aml_workspace_location: req.params.location,
      type: `${ML_PROVIDER}/usages`,
      unit: 'Count',
      currentValue: 0,
      limit,
      name: { value: name, localizedValue: name },
    });
    return { value: [usage('TotalCores', REGIONAL_CORE_LIMIT), ...families.map((f) => usage(f, FAMILY_CORE_LIMIT))] };
  });
}
