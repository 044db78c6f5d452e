// The committed contract (devstack/emulator/contract/contract.generated.json) is what the swagger files in
// reference/azure-ml-rest derive to (vendored in the repository: never skipped), uses only formats
// the validator knows, and is all the emulator needs at run time.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Contract, SUPPORTED_FORMATS } from '../../../devstack/emulator/contract';
import { CONTRACT_DATA } from '../../../devstack/emulator/contract/data';
import { deriveContract } from '../../../devstack/emulator/contract/derive';
import { CONTRACT_FILE, renderContract } from '../../../devstack/emulator/contract/generate';
import { ROOT } from './helpers';

const REFERENCE = join(ROOT, 'reference', 'azure-ml-rest');

/** The reference folder, or a failure that says which folder is missing (it is part of the repository). */
function reference(): string {
  if (!existsSync(REFERENCE)) {
    throw new Error(
      `Missing ${REFERENCE}: reference/azure-ml-rest is vendored in the repository (see reference/README.md); ` +
        'restore it from git instead of skipping this check.',
    );
  }
  return REFERENCE;
}

test('the committed contract is what the reference swagger files derive to', () => {
  const derived = deriveContract(reference());
  expect(derived).toEqual(CONTRACT_DATA);
  expect(renderContract(derived)).toBe(readFileSync(join(ROOT, CONTRACT_FILE), 'utf8'));
});

test('every format the schemas use is one the validator checks', () => {
  const formats = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'format' && typeof x === 'string') formats.add(x);
        visit(x);
      }
    }
  };
  visit(CONTRACT_DATA);
  expect([...formats].filter((f) => !SUPPORTED_FORMATS.includes(f))).toEqual([]);
});

test('both api-versions are covered and every schema compiles', () => {
  expect(Object.keys(CONTRACT_DATA.versions)).toEqual(['2022-10-01', '2024-04-01']);
  const contract = new Contract();
  for (const [version, v] of Object.entries(CONTRACT_DATA.versions)) {
    for (const op of v.operations) {
      const m = contract.match(op.method, op.path.replace(/\{[^}]+\}/g, 'x1-abc'), version);
      expect(m?.operation.operationId).toBe(op.operationId);
      if (!m) continue;
      for (const status of Object.keys(op.responses)) {
        expect(() => contract.validateResponse(m, status === 'default' ? 500 : Number(status), {}, {})).not.toThrow();
      }
      expect(() => contract.validateRequest(m, {}, {})).not.toThrow();
    }
  }
});

test('discriminators dispatch to the right subtype; an unknown value gets only the enum error', () => {
  const contract = new Contract();
  const path =
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep/deployments/d1';
  const m = contract.match('PUT', path, '2022-10-01');
  if (!m) throw new Error('no match');
  expect(
    contract.validateRequest(
      m,
      {},
      {
        location: 'eastus',
        properties: { endpointComputeType: 'Managed', instanceType: 'Standard_NC6s_v3', model: 'x' },
      },
    ),
  ).toEqual([]);
  expect(
    contract.validateRequest(
      m,
      {},
      { location: 'eastus', properties: { endpointComputeType: 'Managed', containerResourceRequirements: {} } },
    ),
  ).toEqual([
    {
      target: 'properties.containerResourceRequirements',
      message: "Could not find member 'containerResourceRequirements' on object of type 'properties'.",
    },
  ]);
  // Kubernetes deployments may carry it.
  expect(
    contract.validateRequest(
      m,
      {},
      { location: 'eastus', properties: { endpointComputeType: 'Kubernetes', containerResourceRequirements: {} } },
    ),
  ).toEqual([]);
  expect(
    contract.validateRequest(m, {}, { location: 'eastus', properties: { endpointComputeType: 'Edge', anything: 1 } }),
  ).toEqual([
    {
      target: 'properties.endpointComputeType',
      message:
        'The value of \'properties.endpointComputeType\' must be one of ["Managed","Kubernetes","AzureMLCompute"].',
    },
  ]);
  // Read-only properties may be sent back (ARM ignores them); secrets are never required in responses.
  expect(
    contract.validateRequest(
      m,
      {},
      {
        id: 'whatever',
        name: 'd1',
        location: 'eastus',
        properties: { endpointComputeType: 'Managed', provisioningState: 'Succeeded' },
      },
    ),
  ).toEqual([]);
});

test('nothing the emulator runs reads the reference folder', () => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !/\/(derive|generate)\.ts$/.test(p)) files.push(p);
    }
  };
  walk(join(ROOT, 'devstack', 'emulator'));
  expect(
    files.filter((f) =>
      /\breference\/|'reference'|azure-ml-rest|azureml-assets|azure-prices/.test(
        readFileSync(f, 'utf8').replace(/^\s*(\/\/|\*).*$/gm, ''),
      ),
    ),
  ).toEqual([]);
});
