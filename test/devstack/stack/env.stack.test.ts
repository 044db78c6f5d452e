// stackEnv: what a worker, client or demo gets to reach the local stack.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadOrCreateClientSecret, searchAttributeArgs, stackEnv } from '../../../devstack/stack';
import { ENV } from '../../../src/config/env';
import { LOCAL_AZURE } from '../../../src/config/local';
import { scratchDir } from './helpers';

test('stackEnv maps the stack urls onto the variables the worker reads', () => {
  const env = stackEnv({
    namespace: 'default',
    caFile: '/x/.data/certs/ca.pem',
    clientSecret: 's3cret',
    urls: {
      temporalAddress: '127.0.0.1:7233',
      azuriteBlob: 'http://127.0.0.1:10000/devstoreaccount1',
      emulator: 'https://127.0.0.1:8443',
    },
  });
  expect(env).toEqual({
    [ENV.temporalAddress]: '127.0.0.1:7233',
    [ENV.temporalNamespace]: 'default',
    [ENV.subscriptionId]: LOCAL_AZURE.subscriptionId,
    [ENV.resourceGroup]: LOCAL_AZURE.resourceGroup,
    [ENV.workspace]: LOCAL_AZURE.workspace,
    [ENV.tenantId]: LOCAL_AZURE.tenantId,
    [ENV.clientId]: LOCAL_AZURE.clientId,
    [ENV.clientSecret]: 's3cret',
    [ENV.authorityHost]: 'https://127.0.0.1:8443',
    [ENV.armEndpoint]: 'https://127.0.0.1:8443',
    [ENV.registryDiscoveryUrl]: 'https://127.0.0.1:8443/',
    [ENV.blobEndpointOverride]: 'http://127.0.0.1:10000/devstoreaccount1',
    [ENV.hfEndpoint]: 'https://127.0.0.1:8443/hf',
    NODE_EXTRA_CA_CERTS: '/x/.data/certs/ca.pem',
  });
});

test('the emulator client secret is generated once per data folder, mode 600', () => {
  const dir = scratchDir('secret');
  const a = loadOrCreateClientSecret(dir);
  const b = loadOrCreateClientSecret(dir);
  expect(a).toBe(b);
  expect(a.length).toBeGreaterThanOrEqual(32);
  const st = fs.statSync(path.join(dir, 'emulator', 'client-secret'));
  expect(st.mode & 0o777).toBe(0o600);
});

test('search attributes are passed to the dev server as Name=Keyword', () => {
  expect(searchAttributeArgs()).toEqual([
    '--search-attribute',
    'FineTuneStage=Keyword',
    '--search-attribute',
    'FineTuneStatus=Keyword',
    '--search-attribute',
    'FineTuneModel=Keyword',
    '--search-attribute',
    'FineTuneDataset=Keyword',
    '--search-attribute',
    'FineTuneRunKey=Keyword',
    '--search-attribute',
    'FineTuneContentKey=Keyword',
  ]);
});
