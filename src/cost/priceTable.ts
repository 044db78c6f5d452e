// The price table: Azure's Linux pay-as-you-go list price per hour of each VM size in each region, and the
// GPU facts of each size, as the estimate and the measured cost read them. The vendored table
// (prices.generated.json, PROVENANCE.md) is the default; an operator's file (priceFile.ts) adds or replaces
// entries. Parsing is strict: a bad table is refused naming the entry and the field.
import { z } from 'zod';
import vendored from './prices.generated.json';

export interface PriceEntry {
  vmSize: string;
  region: string;
  usdPerHour: number;
  /** How far the figure can be trusted (the vendored table's "high" / "medium-high"; an operator's own). */
  confidence?: string;
}

export interface SizeFacts {
  vmSize: string;
  vCPUs?: number;
  gpus: number;
  /** e.g. "NVIDIA A100 80GB PCIe": the estimate reads the GPU generation from it. */
  gpuType: string;
  status?: string;
}

export interface PriceTable {
  currency: 'USD';
  /** What kind of price: the vendored table's are retail list prices (no agreement, reservation or spot). */
  priceType: string;
  /** When the prices were read from their source (YYYY-MM-DD). */
  snapshot: string;
  /** Where they come from. */
  source: string;
  prices: PriceEntry[];
  sizes: SizeFacts[];
}

/** A region's price of a size, with what the price is and where it comes from. */
export interface PriceQuote {
  vmSize: string;
  region: string;
  usdPerHour: number;
  confidence?: string;
  snapshot: string;
  source: string;
}

const text = (what: string) => z.string({ error: `${what} must be a string` }).min(1, `${what} must not be empty`);

const PriceEntrySchema = z.strictObject({
  vmSize: text('vmSize'),
  region: text('region'),
  usdPerHour: z
    .number({ error: 'usdPerHour must be a number of US dollars per hour' })
    .positive('usdPerHour must be greater than 0')
    .max(10_000, 'usdPerHour must be at most 10000 (US dollars per hour of one VM)'),
  confidence: text('confidence').optional(),
});

const SizeFactsSchema = z.strictObject({
  vmSize: text('vmSize'),
  vCPUs: z.number().int().positive().optional(),
  gpus: z.number({ error: 'gpus must be a number' }).int('gpus must be a whole number').min(0),
  gpuType: z.string({ error: 'gpuType must be a string' }),
  status: z.string().optional(),
});

/** An operator's file: prices (required) and sizes; its currency must be USD, as the vendored table's. */
export const PriceFileSchema = z.strictObject({
  currency: z
    .literal('USD', { error: 'currency must be "USD" (the prices Azure quotes in its pricing currency)' })
    .optional(),
  priceType: text('priceType').optional(),
  snapshot: text('snapshot').optional(),
  source: text('source').optional(),
  prices: z.array(PriceEntrySchema, { error: 'prices must be a list of {vmSize, region, usdPerHour}' }),
  sizes: z.array(SizeFactsSchema, { error: 'sizes must be a list of {vmSize, gpus, gpuType}' }).optional(),
});
export type PriceFile = z.output<typeof PriceFileSchema>;

/** Where a table failed validation: "prices[3].usdPerHour: usdPerHour must be greater than 0". */
export function priceFileProblems(value: unknown): string[] | PriceFile {
  const result = PriceFileSchema.safeParse(value);
  if (result.success) return result.data;
  return result.error.issues.slice(0, 10).map((i) => {
    const where =
      i.path.length > 0 ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
    return `${where.replace(/^\./, '') || '(file)'}: ${i.message}`;
  });
}

function checked(value: unknown): PriceTable {
  const parsed = priceFileProblems(value);
  if (Array.isArray(parsed)) throw new Error(`internal: the vendored price table is invalid: ${parsed.join('; ')}`);
  return {
    currency: 'USD',
    priceType: parsed.priceType ?? '',
    snapshot: parsed.snapshot ?? '',
    source: parsed.source ?? '',
    prices: parsed.prices,
    sizes: parsed.sizes ?? [],
  };
}

/** The table finetune-flow ships: list prices of the 2026-06-18 snapshot (PROVENANCE.md). */
export const VENDORED_PRICE_TABLE: PriceTable = checked(vendored);

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The file's entries over the table's: a price for the same size and region replaces the table's, others are added. */
export function mergePriceTables(base: PriceTable, file: PriceFile, fileName: string): PriceTable {
  const prices = [...base.prices];
  for (const entry of file.prices) {
    const i = prices.findIndex((p) => same(p.vmSize, entry.vmSize) && same(p.region, entry.region));
    const withConfidence = { ...entry, confidence: entry.confidence ?? 'operator' };
    if (i >= 0) prices[i] = withConfidence;
    else prices.push(withConfidence);
  }
  const sizes = [...base.sizes];
  for (const size of file.sizes ?? []) {
    const i = sizes.findIndex((s) => same(s.vmSize, size.vmSize));
    if (i >= 0) sizes[i] = size;
    else sizes.push(size);
  }
  return {
    currency: 'USD',
    priceType: file.priceType ?? base.priceType,
    snapshot: file.snapshot ?? base.snapshot,
    source: `${file.source ?? fileName} over ${base.source}`,
    prices,
    sizes,
  };
}

/** The price of one `vmSize` in `region` (names compared without case), or undefined when the table has none. */
export function priceOf(table: PriceTable, vmSize: string, region: string): PriceQuote | undefined {
  const entry = table.prices.find((p) => same(p.vmSize, vmSize) && same(p.region, region));
  if (!entry) return undefined;
  return {
    vmSize: entry.vmSize,
    region: entry.region,
    usdPerHour: entry.usdPerHour,
    ...(entry.confidence ? { confidence: entry.confidence } : {}),
    snapshot: table.snapshot,
    source: table.source,
  };
}

/** GPU facts of a size, or undefined when the table does not describe it. */
export function sizeOf(table: PriceTable, vmSize: string): SizeFacts | undefined {
  return table.sizes.find((s) => same(s.vmSize, vmSize));
}

/** The regions the table prices `vmSize` in (for a message saying what it knows). */
export function regionsOf(table: PriceTable, vmSize: string): string[] {
  return table.prices.filter((p) => same(p.vmSize, vmSize)).map((p) => p.region);
}
