// The pipeline component's declared inputs, and the run's training parameters checked against them.
// resolveModel calls it so that a bad `training.*` value fails the run before any data is staged or
// cluster created; submitPipeline calls it again to build the job from the same merge (describeJob), and
// so do a dry run (the job it would submit) and the cost estimate (its epochs and nodes).
import type { ActivityDeps } from './deps';
import type { JobDescription, ResolvedModel } from './types';
import type { RegistryAssetVersion } from '../azure/registry';
import { RunFailure } from '../azure/errors';
import type { RunSpec } from '../runSpec/schema';
import { pipelineDisplayName, type ParameterValue } from '../runSpec/displayName';
import { SEED_TRAINING_PARAMETERS } from '../runSpec/defaults';
import { listWithCap } from '../runSpec/limits';
import { declaredInputs, mergeTrainingParameters, type MergedParameters } from '../runSpec/trainingParameters';

/** Inputs finetune-flow sets itself; a user may not override them through `training`. */
export const RESERVED_INPUTS: ReadonlySet<string> = new Set([
  'mlflow_model_path',
  'compute_model_import',
  'compute_preprocess',
  'compute_finetune',
  'compute_model_evaluation',
  'train_file_path',
  'test_file_path',
  'number_of_gpu_to_use_finetuning',
]);

export interface TrainingInputs {
  component: RegistryAssetVersion;
  declared: ReturnType<typeof declaredInputs>;
  merged: MergedParameters;
}

/**
 * Reads the pipeline component from the model's registry and merges the seed's defaults, the model's
 * defaults and the run's `training` over its declared inputs. Refuses (non-retryable) a component that
 * declares no inputs, and any training value the component would refuse, each named with its fix: the
 * first 20, then how many more (so the failure stays small whatever the input). Warnings (defaults the
 * component does not declare) are capped the same way: they go on the run's record.
 */
export async function trainingInputs(
  deps: Pick<ActivityDeps, 'registry'>,
  registry: string,
  pipelineComponent: RunSpec['pipelineComponent'],
  training: Readonly<Record<string, ParameterValue>>,
  modelDefaults: Readonly<Record<string, ParameterValue>> | undefined,
): Promise<TrainingInputs> {
  const component = await deps.registry.get(registry, 'components', pipelineComponent.name, pipelineComponent.version);
  const declared = declaredInputs(component.componentSpec);
  if (Object.keys(declared).length === 0) {
    throw new RunFailure(
      'validation',
      `component ${component.name} ${component.version} declares no inputs; is it a pipeline component? Check pipelineComponent.name and pipelineComponent.version`,
      'BadComponent',
    );
  }
  const merged = mergeTrainingParameters(SEED_TRAINING_PARAMETERS, modelDefaults, training, declared, RESERVED_INPUTS);
  if (merged.errors.length > 0) {
    throw new RunFailure(
      'validation',
      `training parameters rejected by ${component.name} ${component.version}:\n  - ${listWithCap(merged.errors).join('\n  - ')}`,
      'InvalidTrainingParameters',
    );
  }
  return {
    component,
    declared,
    merged: { ...merged, warnings: listWithCap(merged.warnings), notes: listWithCap(merged.notes) },
  };
}

/** A merged value, else the component's declared default, as an integer. */
function integerInput(inputs: TrainingInputs, name: string, fallback: number): number {
  const value = inputs.merged.values[name] ?? inputs.declared[name]?.default;
  const n = Math.trunc(Number(value));
  return Number.isFinite(n) ? n : fallback;
}

/** The component, display name and merged parameters of the run's job (submitPipeline builds it from these). */
export async function describeJob(
  deps: Pick<ActivityDeps, 'registry'>,
  spec: Pick<RunSpec, 'model' | 'pipelineComponent' | 'training'>,
  model: Pick<ResolvedModel, 'name' | 'modelSpecificDefaults'>,
  gpusPerNode: number,
): Promise<JobDescription & { inputs: TrainingInputs }> {
  const inputs = await trainingInputs(
    deps,
    spec.model.registry,
    spec.pipelineComponent,
    spec.training,
    model.modelSpecificDefaults,
  );
  return {
    inputs,
    componentId: inputs.component.assetId,
    displayName: pipelineDisplayName(model.name, inputs.merged.values, gpusPerNode),
    parameters: inputs.merged.literals,
    warnings: inputs.merged.warnings,
    notes: inputs.merged.notes,
    training: {
      epochs: Math.max(1, integerInput(inputs, 'num_train_epochs', 1)),
      nodes: Math.max(1, integerInput(inputs, 'num_nodes_finetune', 1)),
      maxSteps: integerInput(inputs, 'max_steps', -1),
      rowsPerStepPerGpu:
        Math.max(1, integerInput(inputs, 'per_device_train_batch_size', 1)) *
        Math.max(1, integerInput(inputs, 'gradient_accumulation_steps', 1)),
    },
  };
}
