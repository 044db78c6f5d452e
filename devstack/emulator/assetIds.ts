// Parsers for the asset URIs and ids that appear in request bodies.

export interface RegistryAssetRef {
  registry: string;
  kind: 'models' | 'components';
  name: string;
  version?: string;
  label?: string;
}

/** azureml://registries/{registry}/{models|components}/{name}/(versions/{v}|labels/{label}) */
export function parseRegistryAssetId(uri: string): RegistryAssetRef | undefined {
  const m = /^azureml:\/\/registries\/([^/]+)\/(models|components)\/([^/]+)\/(versions|labels)\/([^/]+)$/i.exec(uri);
  if (!m?.[1] || !m[2] || !m[3] || !m[4] || !m[5]) return undefined;
  const kind = m[2].toLowerCase() === 'models' ? 'models' : 'components';
  return m[4].toLowerCase() === 'versions'
    ? { registry: m[1], kind, name: m[3], version: m[5] }
    : { registry: m[1], kind, name: m[3], label: m[5] };
}

export interface DatastorePath {
  datastore: string;
  path: string;
}

/** azureml://datastores/{ds}/paths/{path}, also the long form with subscriptions/.../workspaces/{ws}/. */
export function parseDatastoreUri(uri: string): DatastorePath | undefined {
  const m =
    /^azureml:\/\/(?:subscriptions\/[^/]+\/resource[gG]roups\/[^/]+\/(?:providers\/Microsoft\.MachineLearningServices\/)?workspaces\/[^/]+\/)?datastores\/([^/]+)\/paths\/(.+)$/i.exec(
      uri,
    );
  if (!m?.[1] || !m[2]) return undefined;
  return { datastore: m[1], path: decodeURIComponent(m[2]) };
}

/** azureml://jobs/{job}/outputs/{output} */
export function parseJobOutputUri(uri: string): { job: string; output: string } | undefined {
  const m = /^azureml:\/\/jobs\/([^/]+)\/outputs\/([^/]+)\/?$/i.exec(uri);
  if (!m?.[1] || !m[2]) return undefined;
  return { job: m[1], output: m[2] };
}

export interface WorkspaceModelRef {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  name: string;
  version: string;
}

/** /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.MachineLearningServices/workspaces/{w}/models/{n}/versions/{v} */
export function parseWorkspaceModelId(id: string): WorkspaceModelRef | undefined {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)$/i.exec(
      id,
    );
  if (!m?.[1] || !m[2] || !m[3] || !m[4] || !m[5]) return undefined;
  return { subscriptionId: m[1], resourceGroup: m[2], workspace: m[3], name: m[4], version: m[5] };
}
