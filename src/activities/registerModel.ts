// Step 8. Registers the job's trained_model output as an MLflow model under the next integer version
// ("1", "2", ...; src/azure/modelVersions.ts): the model container's `nextVersion`, with the worker's other
// registrations of that model given the numbers after it. Idempotent: the version is tagged with the run
// id, and a retry adopts the version the run already has (the one it heartbeated, else the one its tag
// finds) instead of registering a second; a version another worker takes first (409) is left to it.
import { Context } from '@temporalio/activity';
import type { ModelVersion } from '@azure/arm-machinelearning';
import type { ActivityDeps } from './deps';
import type { RegisterModelInput, RegisteredModel } from './types';
import { classified, isConflict, isNotFound, RunFailure } from '../azure/errors';
import {
  containerNextVersion,
  MAX_VERSION_CLAIMS,
  nextIntegerVersion,
  ownVersion,
  runTagFilter,
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

      // The version an earlier attempt was about to create: read first, it may be there already (ours) or
      // taken meanwhile (someone else's); still free, it is claimed again below.
      let planned = (ctx.info.heartbeatDetails as RegisterModelProgress | undefined)?.version;
      if (planned) {
        const found = await arm.modelVersions.get(rg, ws, input.modelName, planned).catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        if (found && ownVersion([listed(planned, found)], RUN_TAG, input.runId, modelUri))
          return adopted(planned, found.id);
        if (found) planned = undefined;
      }
      // Else the version the run's tag finds (an attempt that did not heartbeat, a resumed run).
      const tagged = await listVersions(deps, input.modelName, runTagFilter(RUN_TAG, input.runId));
      const mine = ownVersion(tagged, RUN_TAG, input.runId, modelUri);
      if (mine !== undefined) return adopted(mine, tagged.find((v) => v.name === mine)?.id);

      for (let claim = 0; claim < MAX_VERSION_CLAIMS; claim++) {
        const version = planned ?? deps.versionClaims.claim(input.modelName, await nextVersion(deps, input.modelName));
        planned = undefined;
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
          // Another worker registered this version first (versions are immutable): take the next one.
          if (!isConflict(err)) throw err;
          deps.versionClaims.taken(input.modelName, version);
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

/** The container's next integer version; "1" for a model with no version yet. */
async function nextVersion(deps: ActivityDeps, modelName: string): Promise<string> {
  const container = await deps.arm.modelContainers
    .get(deps.config.resourceGroup, deps.config.workspace, modelName)
    .catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
  if (!container) return '1';
  // A container that does not say (or names no integer): count the versions themselves.
  return (
    containerNextVersion(container.properties.nextVersion) ??
    nextIntegerVersion((await listVersions(deps, modelName)).map((v) => v.name ?? ''))
  );
}

/** The model's versions (archived ones too: they keep their numbers), all or those with a tag, page by page. */
async function listVersions(
  deps: ActivityDeps,
  modelName: string,
  tags?: string,
): Promise<(ListedVersion & { id?: string })[]> {
  const out: (ListedVersion & { id?: string })[] = [];
  try {
    for await (const v of deps.arm.modelVersions.list(deps.config.resourceGroup, deps.config.workspace, modelName, {
      listViewType: 'All',
      ...(tags ? { tags } : {}),
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
