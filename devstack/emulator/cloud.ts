// ARM's cloud metadata document (GET /metadata/endpoints?api-version=...), anonymous as ARM serves
// it, describing one cloud whose every endpoint is the local stack: the emulator is its resource
// manager and login endpoint (and a token audience), Azurite its storage. It is what azure-ai-ml
// reads for a cloud named in AZUREML_CURRENT_CLOUD or found through ARM_CLOUD_METADATA_URL
// (_get_cloud_details: resourceManager, authentication.loginEndpoint, suffixes.storage, portal)
// and what azureml-mlflow reads through ARM_CLOUD_METADATA_URL (a JSON array; authentication.
// audiences[0] and loginEndpoint, resourceManager, suffixes).
//
// The SDKs build a storage account's URL as https://<account>.blob.<suffixes.storage>, so the
// storage suffix is `core.` and Azurite's host and port, a loopback address written `localhost`
// (https://devstoreaccount1.blob.core.localhost:10000 is Azurite's production-style URL; blob.ts); that
// name has to resolve to Azurite and be in its certificate for a client to use it. The registry discovery URL is
// not part of ARM's document: azure-ai-ml takes it from REGISTRY_DISCOVERY_ENDPOINT_URL (set it to the
// emulator's origin) for a cloud it does not know.
import type { FastifyInstance } from 'fastify';
import { storageSuffix } from './blob';
import type { EmulatorContext } from './context';
import { queryParam } from './json';

/** The local cloud's name (a cloud azure-ai-ml does not know, so it reads this document). */
export const LOCAL_CLOUD_NAME = 'AzureMLEmulator';

/** api-versions of the metadata endpoint: from 2019-05-01 it answers every cloud (an array). */
export const CLOUD_METADATA_API_VERSIONS: readonly string[] = [
  '2015-01-01',
  '2018-01-01',
  '2019-05-01',
  '2020-06-01',
  '2022-09-01',
];

/** The cloud's metadata, every URL on `origin` (https://host:port, as the client reached the emulator). */
export function cloudMetadata(ctx: EmulatorContext, origin: string): Record<string, unknown> {
  return {
    portal: `${origin}/_emulator/studio`,
    authentication: {
      loginEndpoint: `${origin}/`,
      audiences: [`${origin}/`, 'https://management.core.windows.net/', 'https://management.azure.com/'],
      tenant: ctx.config.identities.tenantId,
      identityProvider: 'AAD',
    },
    name: LOCAL_CLOUD_NAME,
    suffixes: { storage: storageSuffix(ctx.config.azuriteBlobUrl) },
    resourceManager: `${origin}/`,
  };
}

export function registerCloudRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.get('/metadata/endpoints', { config: { surface: 'public', apiVersions: CLOUD_METADATA_API_VERSIONS } }, (req) => {
    const doc = cloudMetadata(ctx, `https://${req.host}`);
    const version = queryParam(req.query, 'api-version') ?? '';
    // 2015-01-01 and 2018-01-01 describe the cloud that answers; later versions list every cloud.
    return version >= '2019-05-01' ? [doc] : doc;
  });
}
