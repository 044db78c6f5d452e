// Registry assets (models, components) through registry discovery and the registry data plane, as
// azure-ai-ml resolves them: label "latest" = one list call ordered by createdtime desc, top 1. Read-only:
// listModels() lists the registry's model containers and reads each one's latest active version, as
// azure-ai-ml's `models.list(registry_name=...)` does (what `ftflow models` shows, and how resolveModel
// names the models to use instead of a retired one).
import { AzureRestClient } from './rest';
import { sharedArmBudget } from './budget';
import { loadAzureConfig } from './config';
import { createCredential } from './credentials';
import { RunFailure } from './errors';

export const REGISTRY_DATAPLANE_API_VERSION = '2021-10-01-dataplanepreview';

interface DiscoveryDto {
  registryName?: string;
  primaryRegionResourceProviderUri?: string;
  subscriptionId?: string;
  resourceGroup?: string;
}

export interface RegistryAssetVersion {
  /** azureml://registries/<registry>/<kind>/<name>/versions/<version>, what pipelines reference. */
  assetId: string;
  name: string;
  version: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
  isArchived: boolean;
  description?: string;
  /** Component spec (components only). */
  componentSpec?: Record<string, unknown>;
  /** The version's system_metadata, when the answer carries it as a field (modelTags.ts reads both forms). */
  systemMetadata?: Record<string, unknown>;
  createdAt?: string;
}

interface VersionResource {
  id?: string;
  name?: string;
  systemData?: { createdAt?: string };
  properties?: {
    description?: string;
    tags?: Record<string, string> | null;
    properties?: Record<string, string> | null;
    isArchived?: boolean;
    componentSpec?: Record<string, unknown>;
    systemMetadata?: unknown;
  };
}

interface VersionList {
  value?: VersionResource[];
  nextLink?: string;
}

/** A model container of the registry (ModelContainers_List). */
interface ContainerResource {
  name?: string;
  properties?: { isArchived?: boolean; latestVersion?: string | null };
}

interface ContainerList {
  value?: ContainerResource[];
  nextLink?: string;
}

/** How long a registry's model listing is reused (it changes when Microsoft publishes a model). */
export const MODEL_LISTING_TTL_MS = 10 * 60_000;
/** Latest versions read at once while listing (each is one GET). */
const LISTING_CONCURRENCY = 8;
/** A listing follows at most this many pages of containers. */
const MAX_LISTING_PAGES = 200;

type AssetKind = 'models' | 'components';

export class RegistryClient {
  private readonly discovered = new Map<string, Promise<DiscoveryDto>>();
  private readonly listings = new Map<string, { at: number; models: Promise<RegistryAssetVersion[]> }>();

  constructor(
    private readonly rest: AzureRestClient,
    private readonly discoveryUrl: string,
  ) {}

  private discover(registry: string): Promise<DiscoveryDto> {
    const key = registry.toLowerCase();
    let pending = this.discovered.get(key);
    if (!pending) {
      pending = this.rest
        .get<DiscoveryDto>(
          `${this.discoveryUrl}registrymanagement/v1.0/registries/${encodeURIComponent(registry)}/discovery`,
        )
        .catch((err: unknown) => {
          if ((err as { statusCode?: number }).statusCode === 404) {
            throw new RunFailure(
              'validation',
              `registry ${registry} does not exist: check model.registry (the foundation models are in "azureml")`,
              'RegistryNotFound',
            );
          }
          throw err;
        });
      pending.catch(() => this.discovered.delete(key));
      this.discovered.set(key, pending);
    }
    return pending;
  }

  /** The data-plane URL of the registry's models or components (…/registries/<registry>/<kind>). */
  private async assetsUrl(registry: string, kind: AssetKind): Promise<string> {
    const dto = await this.discover(registry);
    if (!dto.primaryRegionResourceProviderUri || !dto.subscriptionId || !dto.resourceGroup) {
      throw new RunFailure('transient', `registry discovery for "${registry}" returned an incomplete answer`);
    }
    const base = dto.primaryRegionResourceProviderUri.endsWith('/')
      ? dto.primaryRegionResourceProviderUri
      : `${dto.primaryRegionResourceProviderUri}/`;
    return (
      `${base}mferp/managementfrontend/subscriptions/${dto.subscriptionId}/resourceGroups/${dto.resourceGroup}` +
      `/providers/Microsoft.MachineLearningServices/registries/${encodeURIComponent(registry)}/${kind}`
    );
  }

  private async versionsUrl(registry: string, kind: AssetKind, name: string): Promise<string> {
    return `${await this.assetsUrl(registry, kind)}/${encodeURIComponent(name)}/versions`;
  }

  /** Gets a pinned version, or the latest (most recently created) one. */
  async get(registry: string, kind: AssetKind, name: string, version?: string): Promise<RegistryAssetVersion> {
    const url = await this.versionsUrl(registry, kind, name);
    const what = kind === 'models' ? 'model' : 'component';
    if (version !== undefined) {
      try {
        const resource = await this.rest.get<VersionResource>(
          `${url}/${encodeURIComponent(version)}?api-version=${REGISTRY_DATAPLANE_API_VERSION}`,
        );
        return toAsset(registry, kind, name, resource, version);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) {
          throw new RunFailure(
            'validation',
            `${what} ${name} version ${version} does not exist in registry ${registry}: check ${kind === 'models' ? 'model.version' : 'pipelineComponent.version'} or leave it unset for the latest`,
            'AssetNotFound',
          );
        }
        throw err;
      }
    }
    const list = await this.rest.get<VersionList>(
      `${url}?api-version=${REGISTRY_DATAPLANE_API_VERSION}&$orderBy=${encodeURIComponent('createdtime desc')}&$top=1`,
    );
    const latest = list.value?.[0];
    if (!latest) {
      const field = kind === 'models' ? 'model.name' : 'pipelineComponent.name';
      // "latest" skips archived versions: say so when those are all there is.
      const archived = await this.rest.get<VersionList>(
        `${url}?api-version=${REGISTRY_DATAPLANE_API_VERSION}&$orderBy=${encodeURIComponent('createdtime desc')}&$top=1&listViewType=ArchivedOnly`,
      );
      const last = archived.value?.[0];
      if (last) {
        throw new RunFailure(
          'validation',
          `${what} ${name} in registry ${registry} is archived (every version, the last ${last.name ?? '?'}): fine-tuning it is no longer supported. Choose a current model in ${field}`,
          'ModelRetired',
        );
      }
      throw new RunFailure(
        'validation',
        `${what} ${name} does not exist in registry ${registry}: check ${field} (case matters) or model.registry`,
        'AssetNotFound',
      );
    }
    return toAsset(registry, kind, name, latest);
  }

  /**
   * Every model of the registry that is not archived, each as its latest active version (the same
   * answer `get` gives for it). Read-only: one GET per page of containers and one per model. Reused
   * for MODEL_LISTING_TTL_MS (unless `fresh`); a failed listing is not kept.
   */
  async listModels(
    registry: string,
    options: { signal?: AbortSignal; fresh?: boolean } = {},
  ): Promise<RegistryAssetVersion[]> {
    const key = registry.toLowerCase();
    const cached = this.listings.get(key);
    if (!options.fresh && cached && Date.now() - cached.at < MODEL_LISTING_TTL_MS) return cached.models;
    const models = this.readModels(registry, options.signal);
    models.catch(() => {
      if (this.listings.get(key)?.models === models) this.listings.delete(key);
    });
    this.listings.set(key, { at: Date.now(), models });
    return models;
  }

  private async readModels(registry: string, signal?: AbortSignal): Promise<RegistryAssetVersion[]> {
    const names: string[] = [];
    let next: string | undefined =
      `${await this.assetsUrl(registry, 'models')}?api-version=${REGISTRY_DATAPLANE_API_VERSION}&listViewType=ActiveOnly`;
    for (let page = 0; next !== undefined && page < MAX_LISTING_PAGES; page++) {
      const list: ContainerList = await this.rest.get<ContainerList>(next, signal);
      for (const c of list.value ?? []) if (c.name && c.properties?.isArchived !== true) names.push(c.name);
      next = list.nextLink || undefined;
    }
    const found: (RegistryAssetVersion | undefined)[] = new Array<RegistryAssetVersion | undefined>(names.length);
    let cursor = 0;
    const readNext = async (): Promise<void> => {
      while (cursor < names.length) {
        const i = cursor++;
        const name = names[i];
        const url = await this.versionsUrl(registry, 'models', name);
        const list = await this.rest.get<VersionList>(
          `${url}?api-version=${REGISTRY_DATAPLANE_API_VERSION}&$orderBy=${encodeURIComponent('createdtime desc')}&$top=1`,
          signal,
        );
        const latest = list.value?.[0];
        found[i] = latest ? toAsset(registry, 'models', name, latest) : undefined;
      }
    };
    await Promise.all(Array.from({ length: Math.min(LISTING_CONCURRENCY, names.length) }, readNext));
    return found.filter((a): a is RegistryAssetVersion => a !== undefined);
  }
}

function toAsset(
  registry: string,
  kind: AssetKind,
  name: string,
  resource: VersionResource,
  pinned?: string,
): RegistryAssetVersion {
  const version = resource.name ?? pinned;
  if (!version) throw new RunFailure('transient', `registry answered a ${kind} version without a name`);
  return {
    assetId: `azureml://registries/${registry}/${kind}/${name}/versions/${version}`,
    name,
    version,
    tags: resource.properties?.tags ?? {},
    properties: resource.properties?.properties ?? {},
    isArchived: resource.properties?.isArchived === true,
    description: resource.properties?.description,
    componentSpec: resource.properties?.componentSpec,
    ...(isRecord(resource.properties?.systemMetadata) ? { systemMetadata: resource.properties.systemMetadata } : {}),
    createdAt: resource.systemData?.createdAt,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A registry client for a command line (`ftflow models`): the worker's Azure settings and credential. */
export function registryClientFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryClient {
  const config = loadAzureConfig(env);
  const rest = new AzureRestClient(createCredential(config, env), sharedArmBudget(config.armBudget));
  return new RegistryClient(rest, config.registryDiscoveryUrl);
}
