// The workspace's default datastore, resolved as on Azure, opened with an Entra token (default) or the
// account key from listSecrets: both reach the same container on Azurite (HTTPS, OAuth enabled).
import { ContainerClient } from '@azure/storage-blob';
import { createArmClient } from '../../src/azure/arm';
import { loadAzureConfig } from '../../src/azure/config';
import { createCredential } from '../../src/azure/credentials';
import { openDefaultDatastore } from '../../src/azure/datastore';

function open(auth: 'identity' | 'accountKey') {
  const env = { ...process.env, FTFLOW_DATASTORE_AUTH: auth };
  const config = loadAzureConfig(env);
  const credential = createCredential(config, env);
  return openDefaultDatastore(createArmClient(config, credential), config, credential);
}

describe('default datastore', () => {
  test('an Entra token (no account key) writes and reads the workspace container', async () => {
    const ds = await open('identity');
    expect(ds.name).toBe('workspaceblobstore');
    const blob = ds.container.getBlockBlobClient(`tests/identity-${Date.now()}.txt`);
    await blob.upload('hello', 5);
    expect((await blob.downloadToBuffer()).toString()).toBe('hello');
    expect(ds.uriFor('a/b.jsonl')).toBe('azureml://datastores/workspaceblobstore/paths/a/b.jsonl');
  });

  test('the account key from listSecrets works when FTFLOW_DATASTORE_AUTH=accountKey', async () => {
    const ds = await open('accountKey');
    const blob = ds.container.getBlockBlobClient(`tests/key-${Date.now()}.txt`);
    await blob.upload('key', 3);
    expect((await blob.downloadToBuffer()).toString()).toBe('key');
  });

  test('the container refuses a request with no credential', async () => {
    const ds = await open('identity');
    const anonymous = new ContainerClient(ds.container.url);
    await expect(anonymous.getBlockBlobClient('tests/x.txt').upload('x', 1)).rejects.toMatchObject({
      statusCode: expect.any(Number),
    });
  });

  test('an unknown FTFLOW_DATASTORE_AUTH is refused with the values it accepts', () => {
    expect(() => loadAzureConfig({ ...process.env, FTFLOW_DATASTORE_AUTH: 'sas' })).toThrow(
      /FTFLOW_DATASTORE_AUTH must be "identity".*or "accountKey"/,
    );
  });
});
