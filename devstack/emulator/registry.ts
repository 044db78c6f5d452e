// The `azureml` system registry: discovery (registrymanagement) and the asset data plane
// (mferp/managementfrontend, api-version 2021-10-01-dataplanepreview), plus the same listings at
// their ARM paths (2024-04-01). Content comes from the catalog; registry names are case-insensitive.
// Model containers are listed too (`GET .../models`, as azure-ai-ml's `models.list(registry_name=...)`
// asks), each with its latest active version.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RegistryComponentVersion, RegistryModelVersion } from './catalog';
import { ML_PROVIDER, sameName, type EmulatorContext } from './context';
import { ArmError, notFound, userError } from './errors';
import { asObject, queryParam, type JsonObject } from './json';
import { REGISTRY_API_VERSIONS } from './policies';

interface RegistryParams {
  subscriptionId: string;
  resourceGroupName: string;
  registryName: string;
  name: string;
  version?: string;
}

/** What a listing pages over: versions, or model containers. */
interface Listed {
  createdAt: string;
  isArchived: boolean;
}

/** A model container: its name and versions (a container is archived when every version is). */
interface ModelContainer extends Listed {
  name: string;
  versions: RegistryModelVersion[];
}

/**
 * The key under which a version's `system_metadata` travels in its `properties` dictionary. Where the
 * references are silent: the 2024-04-01 ModelVersion schema (what the data plane is checked against)
 * has no field for it and allows no other, so the emulator serves the block as one JSON string there.
 */
export const SYSTEM_METADATA_PROPERTY = 'system_metadata';

const ROUTE = { config: { surface: 'registry' as const, apiVersions: REGISTRY_API_VERSIONS } };
const DEFAULT_PAGE_SIZE = 100;

export function registerRegistryRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const ids = ctx.config.identities;

  app.get<{ Params: { registryName: string } }>(
    '/registrymanagement/v1.0/registries/:registryName/discovery',
    { config: { surface: 'registry' } },
    (req) => {
      if (!sameName(req.params.registryName, ids.registryName)) throw notFound('registry', req.params.registryName);
      return {
        registryName: ids.registryName,
        tenantId: ids.tenantId,
        primaryRegion: ids.location,
        regions: [ids.location],
        subscriptionId: ids.registrySubscriptionId,
        resourceGroup: ids.registryResourceGroup,
        workspaceName: null,
        primaryRegionResourceProviderUri: `${ctx.baseUrl()}/`,
      };
    },
  );

  const checkRegistry = (p: RegistryParams): void => {
    if (!sameName(p.registryName, ids.registryName)) throw notFound('registry', p.registryName);
    if (
      !sameName(p.subscriptionId, ids.registrySubscriptionId) ||
      !sameName(p.resourceGroupName, ids.registryResourceGroup)
    ) {
      throw notFound(
        'registry',
        p.registryName,
        `resource group '${p.resourceGroupName}' of subscription '${p.subscriptionId}'`,
      );
    }
  };

  const modelItem = (m: RegistryModelVersion): JsonObject => ({
    id: `azureml://registries/${ids.registryName}/models/${m.name}/versions/${m.version}`,
    name: m.version,
    type: `${ML_PROVIDER}/registries/models/versions`,
    systemData: assetSystemData(m),
    properties: {
      description: null,
      tags: { ...m.tags },
      properties: {
        ...m.properties,
        ...(m.systemMetadata ? { [SYSTEM_METADATA_PROPERTY]: JSON.stringify(m.systemMetadata) } : {}),
      },
      isAnonymous: false,
      isArchived: m.isArchived,
      flavors: structuredClone(m.flavors),
      modelType: m.modelType,
      modelUri: m.modelUri,
      jobName: null,
      provisioningState: 'Succeeded',
    },
  });

  const componentItem = (c: RegistryComponentVersion): JsonObject => ({
    id: `azureml://registries/${ids.registryName}/components/${c.name}/versions/${c.version}`,
    name: c.version,
    type: `${ML_PROVIDER}/registries/components/versions`,
    systemData: assetSystemData(c),
    properties: {
      description: null,
      tags: {},
      properties: {},
      isAnonymous: false,
      isArchived: c.isArchived,
      componentSpec: structuredClone(c.componentSpec),
      provisioningState: 'Succeeded',
    },
  });

  const containerItem = (c: ModelContainer): JsonObject => {
    const byTime = [...c.versions].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const latest = byTime.find((v) => !v.isArchived) ?? byTime[0];
    return {
      id: `azureml://registries/${ids.registryName}/models/${c.name}`,
      name: c.name,
      type: `${ML_PROVIDER}/registries/models`,
      systemData: assetSystemData(c),
      properties: {
        description: null,
        tags: {},
        properties: {},
        isArchived: c.isArchived,
        latestVersion: latest?.version ?? null,
        nextVersion: null,
        provisioningState: 'Succeeded',
      },
    };
  };

  const containers = (): ModelContainer[] => {
    const byName = new Map<string, RegistryModelVersion[]>();
    for (const m of ctx.catalog.models) byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
    return [...byName].map(([name, versions]) => ({
      name,
      versions,
      isArchived: versions.every((v) => v.isArchived),
      createdAt: versions.map((v) => v.createdAt).sort()[0] ?? '',
    }));
  };

  for (const prefix of ['/mferp/managementfrontend', '']) {
    const base = `${prefix}/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/${ML_PROVIDER}/registries/:registryName`;
    app.get<{ Params: RegistryParams }>(`${base}/models`, ROUTE, (req) => {
      checkRegistry(req.params);
      return listPage(ctx, req, containers(), containerItem);
    });
    app.get<{ Params: RegistryParams }>(`${base}/models/:name/versions`, ROUTE, (req) => {
      checkRegistry(req.params);
      return listPage(
        ctx,
        req,
        ctx.catalog.models.filter((m) => m.name === req.params.name),
        modelItem,
      );
    });
    app.get<{ Params: RegistryParams }>(`${base}/models/:name/versions/:version`, ROUTE, (req) => {
      checkRegistry(req.params);
      const m = ctx.catalog.model(req.params.name, req.params.version ?? '');
      if (!m)
        throw notFound(
          'model version',
          `${req.params.name}:${req.params.version ?? ''}`,
          `registry '${req.params.registryName}'`,
        );
      return modelItem(m);
    });
    app.get<{ Params: RegistryParams }>(`${base}/components/:name/versions`, ROUTE, (req) => {
      checkRegistry(req.params);
      return listPage(
        ctx,
        req,
        ctx.catalog.components.filter((c) => c.name === req.params.name),
        componentItem,
      );
    });
    app.get<{ Params: RegistryParams }>(`${base}/components/:name/versions/:version`, ROUTE, (req) => {
      checkRegistry(req.params);
      const c = ctx.catalog.component(req.params.name, req.params.version ?? '');
      if (!c)
        throw notFound(
          'component version',
          `${req.params.name}:${req.params.version ?? ''}`,
          `registry '${req.params.registryName}'`,
        );
      return componentItem(c);
    });
  }
}

function assetSystemData(a: Listed): Record<string, string> {
  return {
    createdAt: a.createdAt,
    createdBy: 'azureml',
    createdByType: 'Application',
    lastModifiedAt: a.createdAt,
    lastModifiedBy: 'azureml',
    lastModifiedByType: 'Application',
  };
}

/** `$orderBy` (createdtime desc|asc), `listViewType` (ActiveOnly default), `$top` (page size) and
 *  `$skip`; `nextLink` carries the same query with the next `$skip`. */
function listPage<T extends Listed>(
  ctx: EmulatorContext,
  req: FastifyRequest,
  assets: readonly T[],
  render: (a: T) => JsonObject,
): JsonObject {
  const q = req.query;
  const orderBy = (queryParam(q, '$orderBy') ?? 'createdtime desc').trim().toLowerCase().replace(/\s+/g, ' ');
  if (orderBy !== 'createdtime desc' && orderBy !== 'createdtime asc' && orderBy !== 'createdtime') {
    throw userError(
      '$orderBy',
      `$orderBy '${queryParam(q, '$orderBy') ?? ''}' is not supported; use 'createdtime desc' or 'createdtime asc'.`,
    );
  }
  const view = (queryParam(q, 'listViewType') ?? 'ActiveOnly').toLowerCase();
  if (!['activeonly', 'archivedonly', 'all'].includes(view))
    throw userError('listViewType', 'listViewType must be ActiveOnly, ArchivedOnly or All.');
  const top = intParam(q, '$top', DEFAULT_PAGE_SIZE);
  const skip = intParam(q, '$skip', 0);
  if (top < 1) throw userError('$top', '$top must be a positive integer.');
  const visible = assets.filter((a) =>
    view === 'all' ? true : view === 'archivedonly' ? a.isArchived : !a.isArchived,
  );
  const sorted = [...visible].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  if (orderBy !== 'createdtime asc' && orderBy !== 'createdtime') sorted.reverse();
  const page = sorted.slice(skip, skip + top);
  const result: JsonObject = { value: page.map(render) };
  if (skip + top < sorted.length) {
    const [path = ''] = req.url.split('?', 2);
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries(asObject(q) ?? {})) {
      if (k.toLowerCase() !== '$skip' && typeof v === 'string') next.set(k, v);
    }
    next.set('$skip', String(skip + top));
    result['nextLink'] = `${ctx.baseUrl()}${path}?${next.toString()}`;
  }
  return result;
}

function intParam(query: unknown, name: string, fallback: number): number {
  const raw = queryParam(query, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ArmError(400, 'UserError', `${name} must be a non-negative integer.`, name);
  return Number(raw);
}
