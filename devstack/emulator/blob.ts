// The workspace blob store, as Azurite holds it: the container is created at start-up, and job
// inputs are read from it when a pipeline job is submitted.
import { BlobServiceClient, ContainerClient, RestError, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT } from 'finetune-flow/config';

export interface BlobInfo {
  size: number;
  /** The first bytes of the blob (at most `headBytes`). */
  head: Buffer;
}

export interface BlobAccess {
  readonly accountName: string;
  readonly accountKey: string;
  readonly containerName: string;
  ensureContainer(): Promise<void>;
  /** undefined when the blob does not exist. */
  inspect(blobName: string, headBytes: number): Promise<BlobInfo | undefined>;
}

export function createBlobAccess(azuriteBlobUrl: string, containerName: string): BlobAccess {
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key);
  const service = new BlobServiceClient(azuriteBlobUrl, credential, {
    retryOptions: { maxTries: 3, retryDelayInMs: 200 },
  });
  const container: ContainerClient = service.getContainerClient(containerName);
  return {
    accountName: AZURITE_ACCOUNT.name,
    accountKey: AZURITE_ACCOUNT.key,
    containerName,
    async ensureContainer() {
      try {
        await container.createIfNotExists();
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new Error(
          `emulator: cannot create blob container '${containerName}' at ${azuriteBlobUrl} (is Azurite running?): ${detail}`,
        );
      }
    },
    async inspect(blobName, headBytes) {
      const blob = container.getBlobClient(blobName);
      try {
        const props = await blob.getProperties();
        const size = props.contentLength ?? 0;
        if (size === 0) return { size, head: Buffer.alloc(0) };
        const head = await blob.downloadToBuffer(0, Math.min(size, headBytes));
        return { size, head };
      } catch (err) {
        if (err instanceof RestError && err.statusCode === 404) return undefined;
        throw err;
      }
    },
  };
}
