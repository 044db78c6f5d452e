// VM sizes of the region (GPU counts are what the flow reads) and the usages against the quotas.
import type { FastifyInstance } from 'fastify';
import { ML_PROVIDER, type EmulatorContext } from '../context';
import { ArmError } from '../errors';
import { ARM_ROUTE, requireSubscription } from './common';

import { usageList } from '../quota';
import { VM_SIZES } from '../vmCatalog';

export { findVmSize, VM_SIZES, type VmSize } from '../vmCatalog';

const LOCATION_PATTERN = /^[-\w._]+$/;

interface LocationParams {
  subscriptionId: string;
  location: string;
}

export function registerVmSizeRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const prefix = `/subscriptions/:subscriptionId/providers/${ML_PROVIDER}/locations/:location`;
  const check = (p: LocationParams): void => {
    requireSubscription(ctx, p.subscriptionId);
    if (!LOCATION_PATTERN.test(p.location))
      throw new ArmError(400, 'UserError', `Invalid location '${p.location}'.`, 'location');
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

  // Usages_List: what the clusters, deployments and running jobs hold against the quotas.
  app.get<{ Params: LocationParams }>(`${prefix}/usages`, ARM_ROUTE, (req) => {
    check(req.params);
    return { value: usageList(ctx, req.params.subscriptionId, req.params.location) };
  });
}
