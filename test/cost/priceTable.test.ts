// The price table: the vendored one is exactly what the public reference says (regenerate with
// FTFLOW_UPDATE_PRICES=1), prices are looked up by size and region whatever their case, and an operator's
// file (FTFLOW_PRICES_FILE) adds or replaces entries, or stops the worker naming the variable and the fault.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../src/config/errors';
import { loadPriceTable } from '../../src/cost/priceFile';
import { VENDORED_PRICE_TABLE, priceOf, regionsOf, sizeOf } from '../../src/cost/priceTable';
import { derivePriceTable, VENDORED_PRICES_FILE } from '../helpers/priceReference';

describe('the vendored price table', () => {
  test('is reference/azure-prices/ (the primary 2026-06-18 records), byte for byte', () => {
    const { text } = derivePriceTable();
    if (process.env.FTFLOW_UPDATE_PRICES === '1') fs.writeFileSync(VENDORED_PRICES_FILE, text);
    expect(fs.readFileSync(VENDORED_PRICES_FILE, 'utf8')).toBe(text);
  });

  test('prices every size of the reference in the US regions, and leaves the missing cells missing', () => {
    expect(VENDORED_PRICE_TABLE.snapshot).toBe('2026-06-18');
    expect(VENDORED_PRICE_TABLE.currency).toBe('USD');
    expect(VENDORED_PRICE_TABLE.prices).toHaveLength(51);
    expect(priceOf(VENDORED_PRICE_TABLE, 'Standard_NC24ads_A100_v4', 'eastus')).toMatchObject({
      usdPerHour: 3.673,
      confidence: 'high',
      snapshot: '2026-06-18',
    });
    expect(priceOf(VENDORED_PRICE_TABLE, 'standard_nc6s_v3', 'EastUS')?.usdPerHour).toBe(3.06);
    expect(priceOf(VENDORED_PRICE_TABLE, 'Standard_ND40rs_v2', 'eastus2')).toBeUndefined();
    expect(regionsOf(VENDORED_PRICE_TABLE, 'Standard_ND96asr_v4')).toEqual(['eastus', 'westeurope']);
    expect(sizeOf(VENDORED_PRICE_TABLE, 'Standard_NC40ads_H100_v5')).toMatchObject({ gpus: 1, vCPUs: 40 });
  });
});

describe('FTFLOW_PRICES_FILE', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-prices-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: unknown): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };

  test('unset: the vendored table', () => {
    expect(loadPriceTable({})).toBe(VENDORED_PRICE_TABLE);
  });

  test("replaces the table's price of the same size and region, adds others, and says where they came from", () => {
    const file = write('agreement.json', {
      source: 'our agreement, 2026-11',
      prices: [
        { vmSize: 'standard_nc24ads_a100_v4', region: 'eastus', usdPerHour: 2.5 },
        { vmSize: 'Standard_NC24ads_A100_v4', region: 'northeurope', usdPerHour: 4.1, confidence: 'quote' },
      ],
      sizes: [{ vmSize: 'Standard_NV36ads_A10_v5', gpus: 1, gpuType: 'NVIDIA A10' }],
    });
    const table = loadPriceTable({ FTFLOW_PRICES_FILE: file });
    expect(priceOf(table, 'Standard_NC24ads_A100_v4', 'eastus')).toMatchObject({
      usdPerHour: 2.5,
      confidence: 'operator',
    });
    expect(priceOf(table, 'Standard_NC24ads_A100_v4', 'northeurope')).toMatchObject({
      usdPerHour: 4.1,
      confidence: 'quote',
    });
    expect(priceOf(table, 'Standard_NC6s_v3', 'eastus')?.usdPerHour).toBe(3.06);
    expect(table.prices).toHaveLength(VENDORED_PRICE_TABLE.prices.length + 1);
    expect(sizeOf(table, 'Standard_NV36ads_A10_v5')?.gpuType).toBe('NVIDIA A10');
    expect(table.source).toBe(`our agreement, 2026-11 over ${VENDORED_PRICE_TABLE.source}`);
  });

  test.each([
    ['missing.json', undefined, /FTFLOW_PRICES_FILE=.*missing\.json cannot be read: ENOENT/],
    ['not-json.json', '{ prices: ', /FTFLOW_PRICES_FILE=.*not-json\.json is not JSON/],
    [
      'no-prices.json',
      { sizes: [] },
      /is not a price table: prices: prices must be a list of \{vmSize, region, usdPerHour\}/,
    ],
    [
      'negative.json',
      { prices: [{ vmSize: 'Standard_NC6s_v3', region: 'eastus', usdPerHour: 0 }] },
      /prices\[0\]\.usdPerHour: usdPerHour must be greater than 0/,
    ],
    [
      'text-price.json',
      { prices: [{ vmSize: 'Standard_NC6s_v3', region: 'eastus', usdPerHour: '3.06' }] },
      /prices\[0\]\.usdPerHour: usdPerHour must be a number of US dollars per hour/,
    ],
    ['euro.json', { currency: 'EUR', prices: [] }, /currency: currency must be "USD"/],
    [
      'typo.json',
      { prices: [{ vmSize: 'Standard_NC6s_v3', region: 'eastus', usdPerHour: 3, regoin: 'x' }] },
      /prices\[0\]: Unrecognized key: "regoin"/,
    ],
  ])('%s is refused, naming the variable, the file and the fault', (name, content, message) => {
    const file = content === undefined ? path.join(dir, name) : write(name, content);
    let error: unknown;
    try {
      loadPriceTable({ FTFLOW_PRICES_FILE: file });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});
