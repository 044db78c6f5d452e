// Janitor, step 1. Lists the workspace's online endpoints that finetune-flow created (tag
// ftflow-created-by), with the run and namespace each belongs to. Read-only; retried like any read.
import type { ActivityDeps } from './deps';
import type { TaggedEndpoint } from './types';
import { classified } from '../azure/errors';
import { CREATED_BY, CREATED_BY_TAG, NAMESPACE_TAG, RUN_TAG } from '../azure/tags';

export function makeListTaggedEndpoints(deps: ActivityDeps) {
  const { config, arm } = deps;
  return async function listTaggedEndpoints(): Promise<TaggedEndpoint[]> {
    return classified('listTaggedEndpoints', async () => {
      const found: TaggedEndpoint[] = [];
      for await (const endpoint of arm.onlineEndpoints.list(config.resourceGroup, config.workspace)) {
        const tags = endpoint.tags ?? {};
        if (tags[CREATED_BY_TAG] !== CREATED_BY || !endpoint.name) continue;
        found.push({
          endpointName: endpoint.name,
          runId: tags[RUN_TAG],
          namespace: tags[NAMESPACE_TAG],
          createdAt: endpoint.systemData?.createdAt?.toISOString(),
          provisioningState: endpoint.properties.provisioningState,
        });
      }
      return found;
    });
  };
}
