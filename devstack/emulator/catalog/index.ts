// The `azureml` registry as the emulator serves it: Phi-3-mini-4k-instruct and the
// chat_completion_pipeline versions, from the committed, generated data, plus model versions a test
// adds through the admin API (e.g. an archived model), which a reset forgets.
import { CATALOG_DATA } from './data';
import type { CatalogName, RegistryComponentVersion, RegistryModelVersion } from './types';

export type { RegistryComponentVersion, RegistryModelVersion } from './types';

export interface Catalog {
  readonly name: CatalogName;
  readonly models: readonly RegistryModelVersion[];
  readonly components: readonly RegistryComponentVersion[];
  model(name: string, version: string): RegistryModelVersion | undefined;
  component(name: string, version: string): RegistryComponentVersion | undefined;
  /** The newest component version that is not archived (the `latest` label). */
  latestComponent(name: string): RegistryComponentVersion | undefined;
  /** Adds (or replaces) a model version; served until reset(). */
  addModel(model: RegistryModelVersion): void;
  /** Back to the generated content. */
  reset(): void;
}

export function loadCatalog(name: CatalogName): Catalog {
  const generated = CATALOG_DATA.models[name];
  const models: RegistryModelVersion[] = [...generated];
  const components = CATALOG_DATA.components;
  return {
    name,
    models,
    components,
    // Asset names are case-sensitive in Azure ML; versions are exact strings.
    model: (n, v) => models.find((m) => m.name === n && m.version === v),
    component: (n, v) => components.find((c) => c.name === n && c.version === v),
    latestComponent: (n) =>
      components.filter((c) => c.name === n && !c.isArchived).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0],
    addModel(model) {
      const at = models.findIndex((m) => m.name === model.name && m.version === model.version);
      if (at >= 0) models.splice(at, 1);
      models.push(model);
    },
    reset() {
      models.splice(0, models.length, ...generated);
    },
  };
}
