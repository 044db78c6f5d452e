// The registry catalog, loaded once when the emulator starts from catalog.generated.json, which
// generate.ts writes from Azure/azureml-assets specs (reference/azureml-assets). The file is data, not
// code: regenerate it instead of editing it; test/devstack/emulator/catalog.test.ts holds it to the reference.
import { loadDataFile } from '../dataFile';
import type { CatalogData } from './types';

export const CATALOG_DATA = loadDataFile('catalog/catalog.generated.json') as CatalogData;
