// VM sizes Microsoft has retired: the day each one stopped and what to use instead. Pure data, read by
// the allow-list checks (computeAllowLists.ts) in the workflow and the activities, and by size picking.
//
// Provenance (nothing here is read from reference/ at run time; test/runSpec/vmSizes.test.ts holds this
// table to reference/azure-prices/sizes.json):
// - The NCv3 series (Standard_NC6s_v3, NC12s_v3, NC24s_v3, NC24rs_v3; NVIDIA Tesla V100 16GB) was retired
//   on 2025-09-30. Microsoft Learn, NCv3-series page ("The NCv3-series will be retired on September 30,
//   2025"): MicrosoftDocs/azure-compute-docs articles/virtual-machines/sizes/gpu-accelerated/ncv3-series.md
//   @ 1827cf353b07fd08b3141bd2e40291e1dbdd4a5f, as recorded in reference/azure-prices/sizes.json
//   (`"status": "retired 2025-09-30"` for NC6s_v3, NC12s_v3 and NC24s_v3; collected 2026-12-05). The page
//   retires the whole series, so the series' RDMA size NC24rs_v3 (not priced there) is listed too.
// - The successor: "The NCv3 retirement doc says Microsoft recommends NC A100 v4 instead"
//   (reference/azure-prices/README.md).
// - Not listed: ND40rs_v2 (NDv2); reference/azure-prices/README.md did not find a retirement date for it.

export interface VmSizeRetirement {
  /** Azure's size name, e.g. Standard_NC6s_v3. */
  size: string;
  series: string;
  /** The day the size was retired (YYYY-MM-DD, UTC): from that day on it is refused. */
  retiredOn: string;
  /** The series Microsoft recommends instead, and its sizes (smallest first). */
  successor: { series: string; sizes: readonly string[] };
}

const NC_A100_V4 = {
  series: 'NC A100 v4',
  sizes: ['Standard_NC24ads_A100_v4', 'Standard_NC48ads_A100_v4', 'Standard_NC96ads_A100_v4'],
} as const;

export const VM_SIZE_RETIREMENTS: readonly VmSizeRetirement[] = [
  { size: 'Standard_NC6s_v3', series: 'NCv3', retiredOn: '2025-09-30', successor: NC_A100_V4 },
  { size: 'Standard_NC12s_v3', series: 'NCv3', retiredOn: '2025-09-30', successor: NC_A100_V4 },
  { size: 'Standard_NC24s_v3', series: 'NCv3', retiredOn: '2025-09-30', successor: NC_A100_V4 },
  { size: 'Standard_NC24rs_v3', series: 'NCv3', retiredOn: '2025-09-30', successor: NC_A100_V4 },
];

/** The retirement of `size` (any case) if it has been retired at time `at` (ms since the epoch). */
export function retirementOf(size: string, at: number): VmSizeRetirement | undefined {
  const wanted = size.toLowerCase();
  const found = VM_SIZE_RETIREMENTS.find((r) => r.size.toLowerCase() === wanted);
  if (!found) return undefined;
  return Date.parse(`${found.retiredOn}T00:00:00Z`) <= at ? found : undefined;
}

/** "retired on 2025-09-30 (NCv3 series; Microsoft recommends NC A100 v4)". */
export function retiredPhrase(r: VmSizeRetirement): string {
  return `retired on ${r.retiredOn} (${r.series} series; Microsoft recommends ${r.successor.series})`;
}
