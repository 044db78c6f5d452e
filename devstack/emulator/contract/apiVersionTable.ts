// Every api-version the emulator accepts: the resource types ARM registers it for here, the swagger its
// requests and responses are checked against, and why. Written by hand (the choices are not in any
// reference file). generate.ts copies it into contract.generated.json (`apiVersions`), which the emulator
// reads when it starts; devstack/emulator/README.md shows it as `renderApiVersionTable` writes it; and
// test/devstack/emulator/contractSpec.test.ts holds the three to each other.
//
// Preview api-versions: their swagger files are not vendored (reference/azure-ml-rest holds the stable
// 2022-10-01 and 2024-04-01 only), so each is checked against the stable version nearest to it in
// members, measured against the REST models azure-ai-ml 1.34.1 generated for that preview (the last
// release that ships them per api-version; README, "API versions"). Nearest in members, not in date:
// a member the schema lacks is refused in a request (`additionalProperties: false`), so the schema that
// lacks the fewest of the preview's members wins.
import type { ApiVersionRow } from './types';

const WORKSPACE_TYPES = [
  'workspaces',
  'workspaces/datastores',
  'workspaces/computes',
  'locations/vmSizes',
  'locations/usages',
  'workspaces/jobs',
  'workspaces/models',
  'workspaces/models/versions',
  'workspaces/onlineEndpoints',
  'workspaces/onlineEndpoints/deployments',
];
const REGISTRY_TYPES = ['registries/models/versions', 'registries/components/versions'];

export const API_VERSION_TABLE: readonly ApiVersionRow[] = [
  {
    version: '2022-10-01',
    surface: 'arm',
    resourceTypes: WORKSPACE_TYPES,
    schema: '2022-10-01',
    source: 'own swagger',
    why: "The product's ARM client (@azure/arm-machinelearning 2.1.1, src/azure/arm.ts) speaks it.",
  },
  {
    version: '2024-04-01',
    surface: 'arm',
    resourceTypes: [...WORKSPACE_TYPES, ...REGISTRY_TYPES],
    schema: '2024-04-01',
    source: 'own swagger',
    why: 'The newest stable api-version whose swagger is vendored; the only one here with registries (the registry asset listings at their ARM paths).',
  },
  {
    version: '2021-10-01-dataplanepreview',
    surface: 'registry data plane',
    resourceTypes: REGISTRY_TYPES,
    schema: '2024-04-01',
    source: 'nearest stable',
    why: 'The registry data plane (/mferp/managementfrontend/...) the product (src/azure/registry.ts) and azure-ai-ml read registry models and components from. No data-plane swagger is vendored; its assets have the 2024-04-01 registry shapes.',
  },
  {
    version: '2022-02-01-preview',
    surface: 'arm',
    resourceTypes: ['workspaces/onlineEndpoints', 'workspaces/onlineEndpoints/deployments'],
    schema: '2024-04-01',
    source: 'nearest stable',
    why: "azure-ai-ml 1.35.2 ml_client.online_endpoints: get (which also lists the endpoint's deployments), list, begin_create_or_update, begin_delete, get_keys (listKeys). Not the older 2022-10-01: the SDK sends properties.mirrorTraffic in every endpoint PUT, a member 2022-10-01 lacks.",
  },
  {
    version: '2023-04-01-preview',
    surface: 'arm',
    resourceTypes: ['workspaces/onlineEndpoints', 'workspaces/onlineEndpoints/deployments', 'workspaces/jobs'],
    schema: '2024-04-01',
    source: 'nearest stable',
    why: 'azure-ai-ml 1.35.2 ml_client.online_deployments (get, list, begin_create_or_update with the endpoint GET before it, begin_delete) and ml_client.jobs.begin_cancel. Its endpoint and deployment members are exactly the 2024-04-01 ones; 2022-10-01 lacks mirrorTraffic and dataCollector.',
  },
  {
    version: '2023-08-01-preview',
    surface: 'arm',
    resourceTypes: [
      'workspaces',
      'workspaces/computes',
      'locations/vmSizes',
      'locations/usages',
      'workspaces/models',
      'workspaces/models/versions',
    ],
    schema: '2024-04-01',
    source: 'nearest stable',
    why: "azure-ai-ml 1.35.2 ml_client.compute (get, list, begin_create_or_update, begin_delete, list_sizes, list_usage, and the workspace GET for its location) and ml_client.models (create_or_update, get, list; get by label reads the model container). 2024-04-01 lacks 23 of the preview's members for these operations, 2022-10-01 lacks 32; none is one the flow's requests carry.",
  },
  {
    version: '2024-01-01-preview',
    surface: 'arm',
    resourceTypes: ['workspaces/jobs'],
    schema: '2024-04-01',
    source: 'nearest stable',
    why: "azure-ai-ml 1.35.2 ml_client.jobs for pipeline jobs: create_or_update, get, list. 2024-04-01 lacks 71 of the preview's job members (mostly AutoML and sweep settings, output assetName/assetVersion, pathOnCompute), 2022-10-01 lacks 77.",
  },
  {
    version: '2024-10-01-preview',
    surface: 'arm',
    resourceTypes: ['workspaces', 'workspaces/datastores'],
    schema: '2024-04-01',
    source: 'nearest stable',
    why: 'azure-ai-ml 1.35.2 ml_client.workspaces.get and ml_client.datastores (get, list, get_default, and listSecrets when secrets are asked for). Its datastore members are exactly the 2024-04-01 ones; 2024-04-01 lacks 29 of its workspace members (2022-10-01 lacks 34 of its members), all optional.',
  },
];

/** The table as devstack/emulator/README.md shows it (markdown). */
export function renderApiVersionTable(rows: readonly ApiVersionRow[]): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    '| api-version | resource types | checked against | why |',
    '|---|---|---|---|',
    ...rows.map((r) => {
      const types = r.resourceTypes.map((t) => `\`${t}\``).join(', ');
      const schema = r.source === 'own swagger' ? 'its own swagger' : `nearest stable: the \`${r.schema}\` swagger`;
      const where = r.surface === 'arm' ? types : `${types} (registry data plane)`;
      return `| \`${r.version}\` | ${where} | ${schema} | ${cell(r.why)} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}
