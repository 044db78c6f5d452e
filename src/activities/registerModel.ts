// Step 8. Registers the job's trained_model output as an MLflow model under the next integer version
// ("1", "2", ...; src/azure/modelVersions.ts). Idempotent: the version is tagged with the run id, and a
// retry adopts the version the run already has (the one it heartbeated, else the one the list shows)
// instead of registering a second; a version another run takes first is left to it (409) and the next
// integer is tried.
import { Context } from '@temporalio/activity';
import type { ModelVersion } from '@azure/arm-machinelearning';
import type { ActivityDeps } from './deps';
import type { RegisterModelInput, RegisteredModel } from './types';
import { classified, isConflict, isNotFound, RunFailure } from '../azure/errors';
import {
  MAX_VERSION_CLAIMS,
  nextIntegerVersion,
  ownVersion,
  type ListedVersion,
  type RegisterModelProgress,
} from '../azure/modelVersions';
import { RUN_TAG } from '../azure/tags';

export function makeRegisterModel(deps: ActivityDeps) {
  const { config, arm } = deps;
  const rg = config.resourceGroup;
  const ws = config.workspace;
  return async function registerModel(input: RegisterModelInput): Promise<RegisteredModel> {
    return classified('registerModel', async () => {
      const ctx = Context.current();
      const modelUri = `azureml://jobs/${input.jobName}/outputs/trained_model`;
      const adopted = (version: string, id: string | undefined): RegisteredModel => ({
        name: input.modelName,
        version,
        id: id ?? '',
        adopted: true,
      });
      const isOurs = (v: ListedVersion) => ownVersion([v], RUN_TAG, input.runId, modelUri) !== undefined;

      // The version an earlier attempt was about to create: read first, it may be there already.
      const planned = (ctx.info.heartbeatDetails as RegisterModelProgress | undefined)?.version;
      if (planned) {
        const found = await arm.modelVersions.get(rg, ws, input.modelName, planned).catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        if (found && isOurs(listed(planned, found))) return adopted(planned, found.id);
      }

      for (let claim = 0; claim < MAX_VERSION_CLAIMS; claim++) {
        const versions = await listVersions(deps, input.modelName);
        const mine = ownVersion(versions, RUN_TAG, input.runId, modelUri);
        if (mine !== undefined) {
          const found = versions.find((v) => v.name === mine);
          return adopted(mine, (found as { id?: string } | undefined)?.id);
        }
        const version = nextIntegerVersion(versions.map((v) => v.name ?? ''));
        ctx.heartbeat({ version } satisfies RegisterModelProgress);
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
        try {
          const created = await arm.modelVersions.createOrUpdate(rg, ws, input.modelName, version, body);
          if (!created.id)
            throw new RunFailure('transient', `registering ${input.modelName}:${version} returned no id`);
          return { name: input.modelName, version, id: created.id, adopted: false };
        } catch (err) {
          // Another run registered this version first (versions are immutable): take the next one.
          if (!isConflict(err)) throw err;
        }
      }
      throw new RunFailure(
        'transient',
        `model ${input.modelName}: other registrations took the next version ${MAX_VERSION_CLAIMS} times in a row; retrying`,
        'ModelVersionContended',
      );
    });
  };
}

/** Every version of the model, archived ones too (they keep their numbers), page by page. */
async function listVersions(deps: ActivityDeps, modelName: string): Promise<(ListedVersion & { id?: string })[]> {
  const out: (ListedVersion & { id?: string })[] = [];
  try {
    for await (const v of deps.arm.modelVersions.list(deps.config.resourceGroup, deps.config.workspace, modelName, {
      listViewType: 'All',
    }))
      out.push(listed(v.name, v));
  } catch (err) {
    // A model with no version yet: its container does not exist.
    if (!isNotFound(err)) throw err;
  }
  return out;
}

/** A model version as the version planning reads it (tags without their nulls). */
function listed(name: string | undefined, v: ModelVersion): ListedVersion & { id?: string } {
  const tags: Record<string, string> = {};
  for (const [k, value] of Object.entries(v.properties.tags ?? {})) if (typeof value === 'string') tags[k] = value;
  return { name, id: v.id, properties: { modelUri: v.properties.modelUri, tags } };
}
