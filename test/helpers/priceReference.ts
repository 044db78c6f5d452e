// The price table the product ships (src/cost/prices.generated.json), derived from the vendored public
// reference (reference/azure-prices/): the primary records only (karpenter's 2026-06-18 snapshot, one per
// size and region), without the cells that have no price, and the GPU facts of each size. The second
// source (SkyPilot) agrees wherever it has a figure and the superseded value is history: both are left out.
import * as fs from 'node:fs';
import * as path from 'node:path';

const REFERENCE = path.resolve(__dirname, '..', '..', 'reference', 'azure-prices');
export const VENDORED_PRICES_FILE = path.resolve(__dirname, '..', '..', 'src', 'cost', 'prices.generated.json');

interface ReferencePrice {
  vmSize: string;
  region: string;
  usdPerHour: number | null;
  currency: string;
  sourceRepo: string;
  sourceCommit: string;
  sourceDate: string;
  confidence: string;
  status?: string;
}

interface ReferenceSize {
  vmSize: string;
  series: string;
  vCPUs: number;
  gpus: number;
  gpuType: string;
  status?: string;
}

const PRIMARY_REPO = 'Azure/karpenter-provider-azure';

/** The table as the product vendors it, and its text (two-space JSON and a final newline). */
export function derivePriceTable(): { table: unknown; text: string } {
  const prices = JSON.parse(fs.readFileSync(path.join(REFERENCE, 'prices.json'), 'utf8')) as ReferencePrice[];
  const sizes = JSON.parse(fs.readFileSync(path.join(REFERENCE, 'sizes.json'), 'utf8')) as ReferenceSize[];
  const primary = prices.filter((p) => p.sourceRepo === PRIMARY_REPO && p.status === undefined);
  const commits = [...new Set(primary.map((p) => p.sourceCommit))];
  const dates = [...new Set(primary.map((p) => p.sourceDate))];
  if (commits.length !== 1 || dates.length !== 1)
    throw new Error('the primary records come from more than one snapshot');
  const table = {
    currency: 'USD',
    priceType: 'Linux pay-as-you-go (Consumption) retail list price per hour',
    snapshot: dates[0].slice(0, 10),
    source: `${PRIMARY_REPO} pkg/providers/pricing/zz_generated.pricing.go @ ${commits[0]} (generated ${dates[0]}), from the Azure Retail Prices API; vendored in reference/azure-prices/`,
    prices: primary
      .filter((p) => p.usdPerHour !== null && p.currency === 'USD')
      .map((p) => ({
        vmSize: p.vmSize,
        region: p.region,
        usdPerHour: p.usdPerHour,
        confidence: p.confidence.split(':')[0].trim(),
      })),
    sizes: sizes.map((s) => ({
      vmSize: s.vmSize,
      vCPUs: s.vCPUs,
      gpus: s.gpus,
      gpuType: s.gpuType,
      ...(s.status ? { status: s.status } : {}),
    })),
  };
  return { table, text: `${JSON.stringify(table, null, 2)}\n` };
}
