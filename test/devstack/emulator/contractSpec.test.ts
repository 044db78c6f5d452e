// The committed contract (devstack/emulator/contract/contract.generated.json) is what the swagger files in
// reference/azure-ml-rest and the api-version table (contract/apiVersionTable.ts) derive to (vendored in
// the repository: never skipped), uses only formats the validator knows, and is all the emulator needs at
// run time; the table in devstack/emulator/README.md is the same table.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Contract, resourceTypeOf, SUPPORTED_FORMATS } from '../../../devstack/emulator/contract';
import { API_VERSION_TABLE, renderApiVersionTable } from '../../../devstack/emulator/contract/apiVersionTable';
import { registeredVersions } from '../../../devstack/emulator/contract/apiVersions';
import { CONTRACT_DATA } from '../../../devstack/emulator/contract/data';
import { checkApiVersionTable, deriveContract } from '../../../devstack/emulator/contract/derive';
import { CONTRACT_FILE, renderContract } from '../../../devstack/emulator/contract/generate';
import type { ApiVersionRow } from '../../../devstack/emulator/contract/types';
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

test('both vendored swagger versions are derived and every schema compiles', () => {
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

const PROVIDER = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices';
const WS_PATH = `${PROVIDER}/workspaces/ws1`;
const concrete = (template: string): string => template.replace(/\{[^}]+\}/g, 'x1-abc');

describe('the api-version table', () => {
  test('is one table in code, in the committed data and in devstack/emulator/README.md', () => {
    expect(CONTRACT_DATA.apiVersions).toEqual(API_VERSION_TABLE);
    const readme = readFileSync(join(ROOT, 'devstack', 'emulator', 'README.md'), 'utf8');
    expect(readme).toContain(renderApiVersionTable(CONTRACT_DATA.apiVersions));
  });

  test("has azure-ai-ml 1.35.2's preview api-versions for the resource types it calls them for", () => {
    const typesOf = (version: string): string[] =>
      [...(CONTRACT_DATA.apiVersions.find((r) => r.version === version)?.resourceTypes ?? [])].sort();
    expect(typesOf('2023-08-01-preview')).toEqual(
      expect.arrayContaining(['workspaces', 'workspaces/computes', 'locations/vmSizes', 'workspaces/models/versions']),
    );
    expect(typesOf('2024-10-01-preview')).toEqual(['workspaces', 'workspaces/datastores']);
    expect(typesOf('2024-01-01-preview')).toEqual(['workspaces/jobs']);
    expect(typesOf('2022-02-01-preview')).toEqual(expect.arrayContaining(['workspaces/onlineEndpoints']));
    expect(typesOf('2023-04-01-preview')).toEqual(
      expect.arrayContaining(['workspaces/onlineEndpoints', 'workspaces/onlineEndpoints/deployments']),
    );
    // No preview swagger is vendored: every preview is checked against a stable swagger, and says so.
    for (const row of CONTRACT_DATA.apiVersions) {
      const stable = /^\d{4}-\d{2}-\d{2}$/.test(row.version);
      expect({ version: row.version, source: row.source }).toEqual({
        version: row.version,
        source: stable ? 'own swagger' : 'nearest stable',
      });
      expect(Object.keys(CONTRACT_DATA.versions)).toContain(row.schema);
    }
  });

  test('a request in an accepted api-version is checked against the swagger its row names', () => {
    const contract = new Contract();
    let checked = 0;
    for (const row of CONTRACT_DATA.apiVersions) {
      for (const op of CONTRACT_DATA.versions[row.schema]?.operations ?? []) {
        const type = resourceTypeOf(op.path);
        const path = concrete(op.path);
        const registered = row.resourceTypes.includes(type);
        const m = contract.match(
          op.method,
          row.surface === 'arm' ? path : `/mferp/managementfrontend${path}`,
          row.version,
        );
        if (registered) {
          expect(
            m && { operationId: m.operation.operationId, apiVersion: m.apiVersion, specVersion: m.specVersion },
          ).toEqual({
            operationId: op.operationId,
            apiVersion: row.version,
            specVersion: row.schema,
          });
          checked += 1;
        } else {
          expect({ version: row.version, operationId: op.operationId, matched: m !== undefined }).toEqual({
            version: row.version,
            operationId: op.operationId,
            matched: false,
          });
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    // Versions no row has match nothing (the api-version policy refuses them before the contract check).
    for (const version of ['2099-01-01', '2023-13-01-preview', '2024-04-01-preview'])
      expect(contract.match('GET', WS_PATH, version)).toBeUndefined();
    // The data-plane version is a data-plane one only.
    expect(
      contract.match('GET', `${PROVIDER}/registries/r1/models/m/versions`, '2021-10-01-dataplanepreview'),
    ).toBeUndefined();
    // Operation status URLs answer in every ARM api-version.
    const status = `/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/op1`;
    for (const row of CONTRACT_DATA.apiVersions.filter((r) => r.surface === 'arm'))
      expect(contract.match('GET', status, row.version)?.specVersion).toBe(row.schema);
  });

  test("2022-02-01-preview is checked against 2024-04-01: azure-ai-ml's endpoint PUT carries mirrorTraffic", () => {
    const contract = new Contract();
    const body = {
      location: 'eastus',
      identity: { type: 'SystemAssigned' },
      properties: { authMode: 'Key', traffic: {}, mirrorTraffic: {} },
    };
    const check = (version: string) => {
      const m = contract.match('PUT', `${WS_PATH}/onlineEndpoints/ep1`, version);
      if (!m) throw new Error(`no match in ${version}`);
      return contract.validateRequest(m, {}, body);
    };
    expect(check('2022-02-01-preview')).toEqual([]);
    // The older stable swagger, nearer in date, has no such member: it would refuse the SDK's request.
    expect(check('2022-10-01')).toEqual([expect.objectContaining({ target: 'properties.mirrorTraffic' })]);
  });

  test('resource types: actions fold into their resource, the registered versions come newest first', () => {
    expect(resourceTypeOf(WS_PATH)).toBe('workspaces');
    expect(resourceTypeOf(`${WS_PATH}/jobs`)).toBe('workspaces/jobs');
    expect(resourceTypeOf(`${WS_PATH}/jobs/j1/cancel`)).toBe('workspaces/jobs');
    expect(resourceTypeOf(`${WS_PATH}/datastores/d1/listSecrets`)).toBe('workspaces/datastores');
    expect(resourceTypeOf(`${WS_PATH}/onlineEndpoints/e1/listKeys`)).toBe('workspaces/onlineEndpoints');
    expect(resourceTypeOf(`${WS_PATH}/onlineEndpoints/e1/deployments`)).toBe('workspaces/onlineEndpoints/deployments');
    expect(resourceTypeOf(`/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/l/vmSizes`)).toBe(
      'locations/vmSizes',
    );
    const rows = CONTRACT_DATA.apiVersions;
    expect(registeredVersions(rows, `${WS_PATH}/onlineEndpoints/e1/deployments/d1`)).toEqual([
      '2024-04-01',
      '2023-04-01-preview',
      '2022-10-01',
      '2022-02-01-preview',
    ]);
    expect(registeredVersions(rows, `${PROVIDER}/registries/r1/models/m/versions`)).toEqual(['2024-04-01']);
  });

  test('a table that does not hold together is refused at generation', () => {
    const row: ApiVersionRow = {
      version: '2023-08-01-preview',
      surface: 'arm',
      resourceTypes: ['workspaces/computes'],
      schema: '2024-04-01',
      source: 'nearest stable',
      why: 'test',
    };
    const check = (rows: ApiVersionRow[]) => () => checkApiVersionTable(rows, CONTRACT_DATA.versions);
    expect(check([row])).not.toThrow();
    expect(check([row, row])).toThrow(/listed twice/);
    expect(check([{ ...row, schema: '2023-08-01-preview' }])).toThrow(/no swagger/);
    expect(check([{ ...row, source: 'own swagger' }])).toThrow(/says 'own swagger'/);
    expect(check([{ ...row, resourceTypes: ['workspaces/schedules'] }])).toThrow(/no operation on resource type/);
    expect(check([{ ...row, resourceTypes: [] }])).toThrow(/names no resource type/);
  });
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
