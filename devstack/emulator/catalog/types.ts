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
  /** Steps of the pipeline, as the registry's component-version API returns a pipeline component's
   *  `jobs`: each node in azure-ai-ml's REST form (what the SDK sent when the asset was published). */
  jobs: Record<string, PipelineNodeSpec>;
}

/** A node input bound to a literal or to `${{parent.inputs.X}}` / `${{parent.jobs.N.outputs.Y}}`. */
export interface NodeInputBinding {
  job_input_type: 'literal';
  value: string;
}

/** A node output bound to `${{parent.outputs.X}}`. */
export interface NodeOutputBinding {
  type: 'literal';
  value: string;
}

/** One step of a pipeline component (a command node). Values are bindings (`${{parent.inputs.X}}`)
 *  or literals, as strings. */
export interface PipelineNodeSpec {
  name: string;
  type: string;
  /** The pinned sub-component, resolved in the registry: azureml://registries/{r}/components/{n}/versions/{v}. */
  componentId: string;
  /** The compute the step runs on (YAML `compute`). */
  computeId?: string;
  /** instance_type, instance_count, shm_size (snake_case, as the SDK serialises them). */
  resources?: Record<string, string>;
  /** distribution_type (PyTorch, Mpi, TensorFlow, Ray) and its settings. */
  distribution?: Record<string, string>;
  inputs: Record<string, NodeInputBinding>;
  outputs?: Record<string, NodeOutputBinding>;
  /** Where the SDK loaded the node's component from (a name:version reference: a remote component). */
  _source: string;
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
