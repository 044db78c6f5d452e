// The operator's prices: FTFLOW_PRICES_FILE names a JSON file of the price table's shape (at least
// `prices`), whose entries add to or replace the vendored list prices (e.g. an agreement's rates, or a
// region the table lacks). Read once when the worker starts; a file that cannot be used stops it with the
// variable, the file and the entry at fault.
import * as fs from 'node:fs';
import { ENV } from '../config/env';
import { ConfigError } from '../config/errors';
import { VENDORED_PRICE_TABLE, mergePriceTables, priceFileProblems, type PriceTable } from './priceTable';

/** The price table this process uses: the vendored one, with the operator's file over it when set. */
export function loadPriceTable(env: NodeJS.ProcessEnv = process.env): PriceTable {
  const file = env[ENV.pricesFile]?.trim();
  if (!file) return VENDORED_PRICE_TABLE;
  const where = `${ENV.pricesFile}=${file}`;
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${where} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${where} is not JSON: ${(err as Error).message}`);
  }
  const parsed = priceFileProblems(json);
  if (Array.isArray(parsed)) {
    throw new ConfigError(
      `${where} is not a price table: ${parsed.join('; ')}. Give {"prices": [{"vmSize": "Standard_NC24ads_A100_v4", "region": "eastus", "usdPerHour": 3.673}]} (docs/configuration.md, Prices)`,
    );
  }
  return mergePriceTables(VENDORED_PRICE_TABLE, parsed, file);
}
