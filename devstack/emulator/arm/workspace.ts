// The one workspace (GET), its datastores (the default blob store, and the artifact store where runs
// keep their files and logs) and their account key.
import type { FastifyInstance } from 'fastify';
import { AZURITE_ACCOUNT } from 'finetune-flow/config';
import { stableGuid } from '../auth';
import { ARTIFACT_CONTAINER } from '../blob';
import { ML_PROVIDER, sameName, systemData, workspaceArmId, type EmulatorContext } from '../context';
import { notFound } from '../errors';
import { queryParam } from '../json';
import { ARM_ROUTE, requireWorkspace, WS_PREFIX, type WorkspaceParams } from './common';

/** When the emulated workspace was created (fixed, so responses are stable across restarts). */
const WORKSPACE_CREATED_AT = Date.parse('2024-05-01T00:00:00Z');

export function mlflowTrackingUri(ctx: EmulatorContext): string {
  const host = new URL(ctx.baseUrl()).host;
  return `azureml://${host}/mlflow/v1.0${workspaceArmId(ctx)}`;
}

export function workspaceResource(ctx: EmulatorContext): Record<string, unknown> {
  const ids = ctx.config.identities;
  const rgId = `/subscriptions/${ids.subscriptionId}/resourceGroups/${ids.resourceGroup}`;
  return {
    id: workspaceArmId(ctx),
    name: ids.workspace,
    type: `${ML_PROVIDER}/workspaces`,
    location: ids.location,
    tags: {},
    kind: 'Default',
    identity: {
      type: 'SystemAssigned',
      principalId: stableGuid(`ws-identity:${ids.workspace}`),
      tenantId: ids.tenantId,
    },
    sku: { name: 'Basic', tier: 'Basic' },
    systemData: systemData(ctx, WORKSPACE_CREATED_AT, WORKSPACE_CREATED_AT),
    properties: {
      workspaceId: stableGuid(`workspace:${ids.subscriptionId}:${ids.resourceGroup}:${ids.workspace}`),
      friendlyName: ids.workspace,
      description: 'Local Azure ML workspace (finetune-flow emulator)',
      storageAccount: `${rgId}/providers/Microsoft.Storage/storageAccounts/${AZURITE_ACCOUNT.name}`,
      keyVault: `${rgId}/providers/Microsoft.KeyVault/vaults/kv-${ids.workspace}`.slice(0, 200),
      applicationInsights: `${rgId}/providers/Microsoft.insights/components/ai-${ids.workspace}`,
      containerRegistry: null,
      discoveryUrl: `${ctx.baseUrl()}/discovery`,
      mlFlowTrackingUri: mlflowTrackingUri(ctx),
      provisioningState: 'Succeeded',
      tenantId: ids.tenantId,
      hbiWorkspace: false,
      publicNetworkAccess: 'Enabled',
      v1LegacyMode: false,
      storageHnsEnabled: false,
      privateLinkCount: 0,
    },
  };
}

/** The artifact store Azure ML creates with every workspace (runs' outputs and logs). */
export const ARTIFACT_DATASTORE = 'workspaceartifactstore';

interface Datastore {
  name: string;
  containerName: string;
  isDefault: boolean;
}

function datastores(ctx: EmulatorContext): Datastore[] {
  const ids = ctx.config.identities;
  return [
    { name: ids.datastoreName, containerName: ids.blobContainer, isDefault: true },
    { name: ARTIFACT_DATASTORE, containerName: ARTIFACT_CONTAINER, isDefault: false },
  ];
}

function findDatastore(ctx: EmulatorContext, name: string): Datastore {
  const found = datastores(ctx).find((d) => sameName(d.name, name));
  if (!found) throw notFound('datastore', name);
  return found;
}

function datastoreResource(ctx: EmulatorContext, d: Datastore): Record<string, unknown> {
  return {
    id: `${workspaceArmId(ctx)}/datastores/${d.name}`,
    name: d.name,
    type: `${ML_PROVIDER}/workspaces/datastores`,
    systemData: systemData(ctx, WORKSPACE_CREATED_AT, WORKSPACE_CREATED_AT),
    properties: {
      description: null,
      tags: {},
      properties: {},
      isDefault: d.isDefault,
      datastoreType: 'AzureBlob',
      accountName: AZURITE_ACCOUNT.name,
      containerName: d.containerName,
      endpoint: 'core.windows.net',
      protocol: 'https',
      serviceDataAccessAuthIdentity: 'None',
      credentials: { credentialsType: 'AccountKey' },
    },
  };
}

export function registerWorkspaceRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.get<{ Params: WorkspaceParams }>(WS_PREFIX, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params, false);
    return workspaceResource(ctx);
  });

  app.get<{ Params: WorkspaceParams }>(`${WS_PREFIX}/datastores`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    const isDefault = queryParam(req.query, 'isDefault')?.toLowerCase();
    const listed = datastores(ctx).filter((d) => isDefault === undefined || String(d.isDefault) === isDefault);
    return { value: listed.map((d) => datastoreResource(ctx, d)) };
  });

  app.get<{ Params: WorkspaceParams & { name: string } }>(`${WS_PREFIX}/datastores/:name`, ARM_ROUTE, (req) => {
    requireWorkspace(ctx, req.params);
    return datastoreResource(ctx, findDatastore(ctx, req.params.name));
  });

  app.post<{ Params: WorkspaceParams & { name: string } }>(
    `${WS_PREFIX}/datastores/:name/listSecrets`,
    ARM_ROUTE,
    (req) => {
      requireWorkspace(ctx, req.params);
      findDatastore(ctx, req.params.name);
      return { secretsType: 'AccountKey', key: ctx.blob?.accountKey ?? AZURITE_ACCOUNT.key };
    },
  );

  // The workspace's discoveryUrl: where the data-plane services of the region live (anonymous).
  app.get('/discovery', { config: { surface: 'public' } }, () => {
    const base = ctx.baseUrl();
    return {
      api: base,
      catalog: base,
      experimentation: base,
      gallery: base,
      history: base,
      hyperdrive: base,
      labeling: base,
      modelmanagement: base,
      pipelines: base,
      studio: `${base}/_emulator/studio`,
    };
  });
}
