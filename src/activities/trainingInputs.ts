// The pipeline component's declared inputs, and the run's training parameters checked against them.
// resolveModel calls it so that a bad `training.*` value fails the run before any data is staged or
// cluster created; submitPipeline calls it again to build the job from the same merge.
import type { ActivityDeps } from './deps';
import type { RegistryAssetVersion } from '../azure/registry';
import { RunFailure } from '../azure/errors';
import type { RunSpec } from '../runSpec/schema';
import type { ParameterValue } from '../runSpec/displayName';
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
