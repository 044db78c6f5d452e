// Shapes of the `azureml` registry content the emulator serves (model and component versions).

export type Scalar = string | number | boolean;

export interface ComponentInputSpec {
  type: string;
  optional?: boolean;
  default?: Scalar;
  enum?: Scalar[];
  min?: number;
  max?: number;
  mode?: string;
}

export interface ComponentOutputSpec {
  type: string;
  mode?: string;
}

export interface PipelineComponentSpec {
  $schema: string;
  name: string;
  version: string;
  display_name: string;
  type: string;
  inputs: Record<string, ComponentInputSpec>;
  outputs: Record<string, ComponentOutputSpec>;
  /** Steps of the pipeline: step name → pinned sub-component. */
  jobs: Record<string, { type: string; component: string }>;
}

export interface RegistryComponentVersion {
  name: string;
  version: string;
  /** ISO time; "latest" = most recently created. */
  createdAt: string;
  isArchived: boolean;
  componentSpec: PipelineComponentSpec;
}

export interface RegistryModelVersion {
  name: string;
  version: string;
  createdAt: string;
  isArchived: boolean;
  modelType: string;
  modelUri: string;
  /** Tag values are strings as the registry stores them: lists as Python repr, dicts as JSON. */
  tags: Record<string, string>;
  properties: Record<string, string>;
  flavors: Record<string, { data: Record<string, string> }>;
}

export interface CatalogData {
  models: { seed: RegistryModelVersion[]; current: RegistryModelVersion[] };
  components: RegistryComponentVersion[];
}

/** The registry's content: the seed notebook's (Phi-3, 2025) or today's (Phi-4). */
export type CatalogName = 'seed' | 'current';
