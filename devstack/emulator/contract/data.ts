// The REST contract, loaded once when the emulator starts from contract.generated.json, which generate.ts
// writes from Azure's swagger files (reference/azure-ml-rest: Microsoft.MachineLearningServices stable
// 2022-10-01 and 2024-04-01, common-types v3). The file is data, not code: regenerate it instead of editing
// it; test/devstack/emulator/contractSpec.test.ts holds it to the reference.
import { loadDataFile } from '../dataFile';
import type { ContractData } from './types';

export const CONTRACT_DATA = loadDataFile('contract/contract.generated.json') as ContractData;
