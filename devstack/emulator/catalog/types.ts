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
  /**
   * The spec's `system_metadata` block (today's registry: supportedComputes, tasks, deprecation, ...),
   * as JSON; absent in the tags form. The registry serves it as one JSON string in the version's
   * properties (registry.ts says why).
   */
  systemMetadata?: Record<string, unknown>;
}

export interface CatalogData {
  models: { seed: RegistryModelVersion[]; current: RegistryModelVersion[] };
  components: RegistryComponentVersion[];
}

/** The registry's content: the seed notebook's (Phi-3-mini-4k-instruct v15, tags form) or today's
 *  (models-current: Phi-4 v8 fine-tunable, Phi-3/3.5 and Llama-2 retired; system_metadata form). */
export type CatalogName = 'seed' | 'current';
