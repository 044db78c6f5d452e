// Step 2. Resolves the foundation model in its registry (label latest, or a pinned version) and reads the
// tags the notebook reads. Read-only, so idempotent; an unknown, archived or retired model is refused.
// Given the run's pipeline component and training parameters, it also reads the component and checks
// them against its inputs (with this model's defaults), so a bad `training.*` value fails the run here,
// before data is staged or a cluster created.
import type { ActivityDeps } from './deps';
import type { ResolvedModel } from './types';
import type { RunSpec } from '../runSpec/schema';
import { classified, RunFailure } from '../azure/errors';
import { readModelTags } from '../azure/modelTags';
import { trainingInputs } from './trainingInputs';

/** What resolveModel checks besides the model (absent in runs scheduled before the check existed). */
export type TrainingCheck = Pick<RunSpec, 'pipelineComponent' | 'training'>;

export function makeResolveModel(deps: ActivityDeps) {
  return async function resolveModel(model: RunSpec['model'], check?: TrainingCheck): Promise<ResolvedModel> {
    return classified('resolveModel', async () => {
      const asset = await deps.registry.get(model.registry, 'models', model.name, model.version);
      const tags = readModelTags(asset.tags, asset.properties);
      const retirement = Object.entries(tags.lifecycleDates).find(([k]) => /finetuneRetirementDate/i.test(k))?.[1];
      if (asset.isArchived || (retirement !== undefined && Date.parse(retirement) <= Date.now())) {
        const dates = Object.entries(tags.lifecycleDates)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        throw new RunFailure(
          'validation',
          `model ${asset.name} version ${asset.version} in registry ${model.registry} is ${asset.isArchived ? 'archived' : 'retired'}` +
            `${dates ? ` (${dates})` : ''}: fine-tuning it is no longer supported. Choose a current model in model.name (for example a newer Phi version)`,
          'ModelRetired',
        );
      }
      if (check)
        await trainingInputs(deps, model.registry, check.pipelineComponent, check.training, tags.modelSpecificDefaults);
      return {
        registry: model.registry,
        name: asset.name,
        version: asset.version,
        assetId: asset.assetId,
        finetuneComputeAllowList: tags.finetuneComputeAllowList,
        inferenceComputeAllowList: tags.inferenceComputeAllowList,
        modelSpecificDefaults: tags.modelSpecificDefaults,
        lifecycleDates: tags.lifecycleDates,
      };
    });
  };
}
