// Step 8. Registers the job's trained_model output as an MLflow model under a version derived from the
// run. Reads first: an existing version from this job is adopted, one from another job is refused.
import type { ModelVersion } from '@azure/arm-machinelearning';
import type { ActivityDeps } from './deps';
import type { RegisterModelInput, RegisteredModel } from './types';
import { classified, isNotFound, RunFailure } from '../azure/errors';
import { RUN_TAG } from '../azure/tags';

export function makeRegisterModel(deps: ActivityDeps) {
  const { config, arm } = deps;
  return async function registerModel(input: RegisterModelInput): Promise<RegisteredModel> {
    return classified('registerModel', async () => {
      const modelUri = `azureml://jobs/${input.jobName}/outputs/trained_model`;
      try {
        const existing = await arm.modelVersions.get(
          config.resourceGroup,
          config.workspace,
          input.modelName,
          input.version,
        );
        if (existing.properties.modelUri && existing.properties.modelUri !== modelUri) {
          throw new RunFailure(
            'validation',
            `model ${input.modelName} version ${input.version} already exists from ${existing.properties.modelUri}, not ${modelUri}`,
            'ModelVersionTaken',
          );
        }
        return { name: input.modelName, version: input.version, id: existing.id ?? '', adopted: true };
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      const body: ModelVersion = {
        properties: {
          description: input.description,
          tags: { [RUN_TAG]: input.runId },
          properties: {},
          isAnonymous: false,
          modelType: 'mlflow_model',
          modelUri,
        },
      };
      const created = await arm.modelVersions.createOrUpdate(
        config.resourceGroup,
        config.workspace,
        input.modelName,
        input.version,
        body,
      );
      if (!created.id)
        throw new RunFailure('transient', `registering ${input.modelName}:${input.version} returned no id`);
      return { name: input.modelName, version: input.version, id: created.id, adopted: false };
    });
  };
}
