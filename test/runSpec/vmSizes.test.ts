// VM sizes retire too: the product's retirement table (src/runSpec/vmSizeRetirements.ts) against the vendored
// reference it cites, the allow-list checks that refuse a retired size by name (computeAllowLists.ts), and
// the choice of a size the run spec leaves unset (sizePicking.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { finetuneSizeRefusal, inferenceTypeCheck, retiredButListed } from '../../src/runSpec/computeAllowLists';
import { deploymentVcpus, pickSize, sizedSpec, type RegionSize } from '../../src/runSpec/sizePicking';
import { retirementOf, VM_SIZE_RETIREMENTS } from '../../src/runSpec/vmSizeRetirements';
import { parseRunSpec } from '../../src/runSpec/schema';
import { PHI4_FINETUNE, REFERENCE_DAY } from '../helpers/assetFacts';

const TODAY = REFERENCE_DAY;
const NOTEBOOK_DAY = Date.parse('2025-01-21T00:00:00Z');

const PHI4_INFERENCE = [
  'Standard_NC24ads_A100_v4',
  'Standard_NC48ads_A100_v4',
  'Standard_NC96ads_A100_v4',
  'Standard_ND96asr_v4',
  'Standard_ND96amsr_A100_v4',
  'Standard_ND96isr_H100_v5',
  'Standard_NC40ads_H100_v5',
  'Standard_NC80adis_H100_v5',
];
/** Phi-3-mini-4k-instruct v15's inference allow list (the seed's). */
const PHI3_INFERENCE = [
  'Standard_NC6s_v3',
  'Standard_NC12s_v3',
  'Standard_NC24s_v3',
  'Standard_ND40rs_v2',
  'Standard_NC24ads_A100_v4',
  'Standard_NC48ads_A100_v4',
  'Standard_ND96asr_v4',
  'Standard_ND96amsr_A100_v4',
  'Standard_NC96ads_A100_v4',
];
const PHI3_FINETUNE = PHI4_FINETUNE.slice(0, 5);

/** The region's sizes, as the emulator's vmSizes list has them (vCPUs, GPUs, quota family). */
const REGION: RegionSize[] = [
  { name: 'Standard_NC6s_v3', vCPUs: 6, gpus: 1, family: 'standardNCSv3Family' },
  { name: 'Standard_NC12s_v3', vCPUs: 12, gpus: 2, family: 'standardNCSv3Family' },
  { name: 'Standard_NC24s_v3', vCPUs: 24, gpus: 4, family: 'standardNCSv3Family' },
  { name: 'Standard_NC24ads_A100_v4', vCPUs: 24, gpus: 1, family: 'StandardNCADSA100v4Family' },
  { name: 'Standard_NC48ads_A100_v4', vCPUs: 48, gpus: 2, family: 'StandardNCADSA100v4Family' },
  { name: 'Standard_NC96ads_A100_v4', vCPUs: 96, gpus: 4, family: 'StandardNCADSA100v4Family' },
  { name: 'Standard_ND96asr_v4', vCPUs: 96, gpus: 8, family: 'standardNDASv4_A100Family' },
  { name: 'Standard_ND96amsr_A100_v4', vCPUs: 96, gpus: 8, family: 'standardNDAMSv4_A100Family' },
  { name: 'Standard_ND40rs_v2', vCPUs: 40, gpus: 8, family: 'standardNDSv2Family' },
];

function picker(free: Record<string, number> = {}) {
  return {
    model: 'Phi-4 v8',
    at: TODAY,
    region: REGION,
    freeVcpus: (family: string) => free[family] ?? 96,
  };
}

describe('the retirement table', () => {
  test('says what reference/azure-prices/sizes.json says of every retired size it lists', () => {
    const file = path.resolve(__dirname, '../../reference/azure-prices/sizes.json');
    const sizes = JSON.parse(fs.readFileSync(file, 'utf8')) as { vmSize: string; series: string; status?: string }[];
    const retired = sizes.filter((s) => s.status?.startsWith('retired '));
    expect(retired.map((s) => s.vmSize)).toEqual(['Standard_NC6s_v3', 'Standard_NC12s_v3', 'Standard_NC24s_v3']);
    for (const s of retired) {
      const row = VM_SIZE_RETIREMENTS.find((r) => r.size === s.vmSize);
      expect(row).toMatchObject({ series: s.series, retiredOn: s.status?.slice('retired '.length) });
    }
    // Sizes the reference gives no retirement are not retired here.
    for (const s of sizes.filter((x) => !x.status)) expect(retirementOf(s.vmSize, TODAY)).toBeUndefined();
  });

  test('a size is retired from its day on, whatever the case of its name', () => {
    expect(retirementOf('standard_nc6s_v3', Date.parse('2025-09-30T00:00:00Z'))?.size).toBe('Standard_NC6s_v3');
    expect(retirementOf('Standard_NC6s_v3', Date.parse('2025-09-29T23:59:59Z'))).toBeUndefined();
    expect(retirementOf('Standard_NC24ads_A100_v4', TODAY)).toBeUndefined();
  });
});

describe('a retired size is refused by name, with the sizes to use', () => {
  test('compute.vmSize outside the list: names the field, the retirement and the current sizes', () => {
    const refusal = finetuneSizeRefusal('Standard_NC6s_v3', PHI4_FINETUNE, 'compute.vmSize', TODAY);
    expect(refusal?.code).toBe('VmSizeRetired');
    expect(refusal?.message).toBe(
      "compute.vmSize Standard_NC6s_v3 is not in the model's finetune allow list and was retired on 2025-09-30 " +
        `(NCv3 series; Microsoft recommends NC A100 v4): choose one of ${PHI4_FINETUNE.join(', ')}`,
    );
  });

  test('without a time (runs from before the patch) the refusal is the allow list one it was', () => {
    expect(finetuneSizeRefusal('Standard_NC6s_v3', PHI4_FINETUNE, 'compute.vmSize')?.code).toBe('VmSizeNotAllowed');
  });

  test('a model without an allow list: the successor sizes are named', () => {
    const refusal = finetuneSizeRefusal('Standard_NC12s_v3', undefined, 'compute.vmSize', TODAY);
    expect(refusal?.code).toBe('VmSizeRetired');
    expect(refusal?.message).toMatch(/choose a current GPU size such as Standard_NC24ads_A100_v4, /);
  });

  test('deployment.instanceType: refused even with allowInstanceTypeOutsideAllowList, which is said not to apply', () => {
    for (const override of [false, true]) {
      const { refusal, warning } = inferenceTypeCheck('Standard_NC6s_v3', PHI4_INFERENCE, override, TODAY);
      expect(warning).toBeUndefined();
      expect(refusal?.code).toBe('InstanceTypeRetired');
      expect(refusal?.message).toContain(
        "deployment.instanceType Standard_NC6s_v3 is not in the model's inference allow list and was retired on 2025-09-30",
      );
      expect(refusal?.message).toContain(`choose one of ${PHI4_INFERENCE.join(', ')}`);
      expect(refusal?.message.includes('does not apply to a retired size')).toBe(override);
    }
  });

  test("a retired size the registry's list still names is the registry's call: used, with a warning", () => {
    const { refusal, warning } = inferenceTypeCheck('Standard_NC6s_v3', PHI3_INFERENCE, false, TODAY);
    expect(refusal).toBeUndefined();
    expect(warning).toMatch(
      /^deployment.instanceType Standard_NC6s_v3 was retired on 2025-09-30 .*the model's inference allow list in the registry still names it/,
    );
    expect(retiredButListed('Standard_NC24ads_A100_v4', PHI3_FINETUNE, 'compute.vmSize', 'finetune', TODAY)).toBe(
      undefined,
    );
    // On the notebook's day nothing was retired yet.
    expect(inferenceTypeCheck('Standard_NC6s_v3', PHI3_INFERENCE, false, NOTEBOOK_DAY)).toEqual({});
  });

  test('a current size outside the list keeps its refusal and its override', () => {
    expect(inferenceTypeCheck('Standard_DS3_v2', PHI4_INFERENCE, false, TODAY).refusal?.code).toBe(
      'InstanceTypeNotAllowed',
    );
    expect(inferenceTypeCheck('Standard_DS3_v2', PHI4_INFERENCE, true, TODAY).warning).toMatch(/deploying anyway/);
  });
});

describe('a size the spec leaves unset', () => {
  test("Phi-4 today: the notebook's A100 cluster stays; the instance type becomes Phi-4's smallest, said so", () => {
    const finetune = pickSize({
      ...picker(),
      use: 'finetune',
      allowList: PHI4_FINETUNE,
      vcpusNeeded: (v) => v,
    });
    expect(finetune).toEqual({ size: 'Standard_NC24ads_A100_v4' });
    const inference = pickSize({
      ...picker(),
      use: 'inference',
      allowList: PHI4_INFERENCE,
      vcpusNeeded: (v) => deploymentVcpus(v, 1),
    });
    expect(inference.size).toBe('Standard_NC24ads_A100_v4');
    expect(inference.warning).toBe(
      "deployment.instanceType is not set and the notebook's Standard_NC6s_v3 was retired on 2025-09-30 (NCv3 series; " +
        "Microsoft recommends NC A100 v4) and is not in Phi-4 v8's inference allow list: using Standard_NC24ads_A100_v4, " +
        "the smallest current size of Phi-4 v8's inference allow list that the vCPU quota admits; 48 vCPUs needed, 96 of StandardNCADSA100v4Family free",
    );
  });

  test("the seed (Phi-3-mini-4k-instruct v15) keeps the notebook's sizes, without a word", () => {
    const common = { ...picker(), model: 'Phi-3-mini-4k-instruct v15' };
    expect(pickSize({ ...common, use: 'finetune', allowList: PHI3_FINETUNE, vcpusNeeded: (v) => v })).toEqual({
      size: 'Standard_NC24ads_A100_v4',
    });
    expect(
      pickSize({ ...common, use: 'inference', allowList: PHI3_INFERENCE, vcpusNeeded: (v) => deploymentVcpus(v, 1) }),
    ).toEqual({ size: 'Standard_NC6s_v3' });
  });

  test('the quota decides: the smallest size that fits, else the smallest with a warning that none fits', () => {
    const tight = picker({
      StandardNCADSA100v4Family: 20,
      standardNDASv4_A100Family: 0,
      standardNDAMSv4_A100Family: 96,
    });
    // The NC A100 v4 sizes need 24, 48, 96 of 20 free; ND96asr_v4 has 0 free; ND96amsr_A100_v4 fits (96 of 96).
    const cluster = pickSize({ ...tight, use: 'finetune', allowList: PHI4_FINETUNE, vcpusNeeded: (v) => v });
    expect(cluster.size).toBe('Standard_ND96amsr_A100_v4');
    expect(cluster.warning).toMatch(
      /^compute.vmSize is not set and the notebook's Standard_NC24ads_A100_v4 does not fit the StandardNCADSA100v4Family vCPU quota \(24 needed, 20 free\): using Standard_ND96amsr_A100_v4/,
    );
    const none = pickSize({
      ...picker({}),
      freeVcpus: () => 0,
      use: 'finetune',
      allowList: PHI4_FINETUNE,
      vcpusNeeded: (v) => v,
    });
    expect(none.size).toBe('Standard_NC24ads_A100_v4');
    expect(none.warning).toMatch(/does not fit the StandardNCADSA100v4Family vCPU quota \(24 needed, 0 free\)/);
    expect(none.warning).toMatch(/no size of it fits the vCPU quota.*request more quota or set compute.vmSize/);
  });

  test('ties go to fewer GPUs, then to the order of the allow list', () => {
    const pick = pickSize({
      ...picker(),
      use: 'inference',
      allowList: ['Standard_ND96asr_v4', 'Standard_NC96ads_A100_v4', 'Standard_ND96amsr_A100_v4'],
      vcpusNeeded: (v) => v,
    });
    expect(pick.size).toBe('Standard_NC96ads_A100_v4');
  });

  test('no allow list and a retired notebook size: the successor series, smallest first', () => {
    const pick = pickSize({ ...picker(), use: 'inference', vcpusNeeded: (v) => v });
    expect(pick.size).toBe('Standard_NC24ads_A100_v4');
    expect(pick.warning).toMatch(/the notebook's Standard_NC6s_v3 was retired on 2025-09-30 .*the NC A100 v4 sizes/);
  });

  test('sizedSpec: what the spec sets, else what resolveModel chose, else the notebook’s', () => {
    const unset = parseRunSpec({});
    expect(sizedSpec(unset).compute.vmSize).toBe('Standard_NC24ads_A100_v4');
    expect(sizedSpec(unset).deployment.instanceType).toBe('Standard_NC6s_v3');
    expect(sizedSpec(unset, { instanceType: 'Standard_NC24ads_A100_v4' }).deployment.instanceType).toBe(
      'Standard_NC24ads_A100_v4',
    );
    const set = parseRunSpec({ deployment: { instanceType: 'Standard_NC48ads_A100_v4' } });
    expect(sizedSpec(set, { instanceType: 'Standard_NC24ads_A100_v4' }).deployment.instanceType).toBe(
      'Standard_NC48ads_A100_v4',
    );
  });
});
