// Registry assets (models, components) through registry discovery and the registry data plane, as
// azure-ai-ml resolves them: label "latest" = one list call ordered by createdtime desc, top 1.
import type { AzureRestClient } from './rest';
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
  };
}

interface VersionList {
  value?: VersionResource[];
  nextLink?: string;
}

type AssetKind = 'models' | 'components';

export class RegistryClient {
  private readonly discovered = new Map<string, Promise<DiscoveryDto>>();

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

  private async versionsUrl(registry: string, kind: AssetKind, name: string): Promise<string> {
    const dto = await this.discover(registry);
    if (!dto.primaryRegionResourceProviderUri || !dto.subscriptionId || !dto.resourceGroup) {
      throw new RunFailure('transient', `registry discovery for "${registry}" returned an incomplete answer`);
    }
    const base = dto.primaryRegionResourceProviderUri.endsWith('/')
      ? dto.primaryRegionResourceProviderUri
      : `${dto.primaryRegionResourceProviderUri}/`;
    return (
      `${base}mferp/managementfrontend/subscriptions/${dto.subscriptionId}/resourceGroups/${dto.resourceGroup}` +
      `/providers/Microsoft.MachineLearningServices/registries/${encodeURIComponent(registry)}/${kind}/${encodeURIComponent(name)}/versions`
    );
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
    createdAt: resource.systemData?.createdAt,
  };
}
