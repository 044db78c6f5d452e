// The workspace's default datastore, resolved as on Azure (datastore → account, container, endpoint,
// account key via listSecrets), opened as a blob ContainerClient.
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { AzureBlobDatastore, AccountKeyDatastoreSecrets } from '@azure/arm-machinelearning';
import type { TokenCredential } from '@azure/core-auth';
import type { ArmClient } from './arm';
import type { AzureConfig } from './config';
import { RunFailure } from './errors';

export interface OpenDatastore {
  name: string;
  container: ContainerClient;
  /** azureml://datastores/<name>/paths/<path>, the form pipeline inputs take. */
  uriFor(path: string): string;
}

/**
 * Opens the default datastore with an Entra token (the worker's credential, scope storage), or with the
 * account key from listSecrets when FTFLOW_DATASTORE_AUTH=accountKey.
 */
export async function openDefaultDatastore(
  arm: ArmClient,
  config: AzureConfig,
  credential: TokenCredential,
): Promise<OpenDatastore> {
  let found: { name?: string; properties: AzureBlobDatastore } | undefined;
  for await (const ds of arm.datastores.list(config.resourceGroup, config.workspace, { isDefault: true })) {
    if (ds.properties.datastoreType === 'AzureBlob') {
      found = { name: ds.name, properties: ds.properties as AzureBlobDatastore };
      break;
    }
  }
  if (!found?.name)
    throw new RunFailure(
      'validation',
      `workspace ${config.workspace} has no default Azure Blob datastore`,
      'NoDefaultDatastore',
    );
  const { accountName, containerName, endpoint, protocol } = found.properties;
  if (!accountName || !containerName)
    throw new RunFailure('validation', `datastore ${found.name} has no account or container`, 'BadDatastore');
  const serviceUrl =
    config.blobEndpointOverride ?? `${protocol ?? 'https'}://${accountName}.blob.${endpoint ?? 'core.windows.net'}`;
  const containerUrl = `${serviceUrl.replace(/\/+$/, '')}/${containerName}`;
  let container: ContainerClient;
  if (config.datastoreAuth === 'accountKey') {
    const secrets = (await arm.datastores.listSecrets(
      config.resourceGroup,
      config.workspace,
      found.name,
    )) as AccountKeyDatastoreSecrets;
    if (secrets.secretsType !== 'AccountKey' || !secrets.key) {
      throw new RunFailure(
        'validation',
        `datastore ${found.name} has no account key (${secrets.secretsType}): unset FTFLOW_DATASTORE_AUTH to use an Entra token`,
        'NoAccountKey',
      );
    }
    container = new ContainerClient(containerUrl, new StorageSharedKeyCredential(accountName, secrets.key));
  } else {
    container = new ContainerClient(containerUrl, credential);
  }
  const name = found.name;
  return { name, container, uriFor: (path) => `azureml://datastores/${name}/paths/${path}` };
}
