// The workspace's storage account, as Azurite holds it: the default blob datastore's container
// (created at start-up; job inputs are read from it when a pipeline job is submitted) and the
// artifact store's container `azureml` (workspaceartifactstore), where each run's files live under
// ExperimentRun/dcid.<run>/ (its logs: user_logs/std_log.txt).
import {
  BlobSASPermissions,
  BlobServiceClient,
  ContainerClient,
  RestError,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { AZURITE_ACCOUNT, DEFAULT_PORTS } from 'finetune-flow/config';

export interface BlobInfo {
  size: number;
  /** The first bytes of the blob (at most `headBytes`). */
  head: Buffer;
}

/** A blob of the artifact store, as a listing names it. */
export interface ArtifactBlob {
  name: string;
  size: number;
}

/**
 * Azurite's blob host as a storage endpoint suffix (Azure's is core.windows.net), so that
 * `https://<account>.blob.<suffix>` (how the SDKs and Azure's SAS URLs name a storage account) is
 * Azurite's production-style URL: `core.` and its host and port, a loopback address written
 * `localhost` (<account>.blob.core.localhost:<port>; the Python storage SDK finds the account name
 * in a host only before `.blob.core.`). That name has to resolve to Azurite (*.localhost is the
 * loopback address, RFC 6761, where the resolver follows it) and be in its certificate for a
 * client to use it.
 */
export function storageSuffix(azuriteBlobUrl: string | undefined): string {
  const url = new URL(azuriteBlobUrl ?? `http://127.0.0.1:${DEFAULT_PORTS.azurite}/${AZURITE_ACCOUNT.name}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  return `core.${loopback ? 'localhost' : host}${url.port === '' ? '' : `:${url.port}`}`;
}

/** The container Azure ML's workspaceartifactstore datastore points at. */
export const ARTIFACT_CONTAINER = 'azureml';

export interface BlobAccess {
  readonly accountName: string;
  readonly accountKey: string;
  readonly containerName: string;
  readonly artifactContainerName: string;
  ensureContainer(): Promise<void>;
  /** undefined when the blob does not exist. */
  inspect(blobName: string, headBytes: number): Promise<BlobInfo | undefined>;
  /** Writes (replaces) a text blob in the artifact store. */
  writeArtifact(blobName: string, text: string): Promise<void>;
  /** The artifact store's blobs under a prefix, by name. */
  listArtifacts(prefix: string): Promise<ArtifactBlob[]>;
  /** A read-only SAS URL of an artifact blob, valid until `expiresOn`, in the storage account's
   *  production-style form (<scheme>://<account>.blob.<storageSuffix>/<container>/<blob>?<sas>), as
   *  Azure hands them out. */
  artifactReadUrl(blobName: string, expiresOn: Date): Promise<string>;
}

/** What the emulator's own Blob requests start their User-Agent with. */
export const EMULATOR_BLOB_USER_AGENT = 'azureml-emulator';

export function createBlobAccess(azuriteBlobUrl: string, containerName: string): BlobAccess {
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key);
  const service = new BlobServiceClient(azuriteBlobUrl, credential, {
    retryOptions: { maxTries: 3, retryDelayInMs: 200 },
    // Azure's own reads and writes (job inputs, run logs), told apart from the clients' in Azurite's log.
    userAgentOptions: { userAgentPrefix: EMULATOR_BLOB_USER_AGENT },
  });
  const container: ContainerClient = service.getContainerClient(containerName);
  const artifacts: ContainerClient = service.getContainerClient(ARTIFACT_CONTAINER);
  return {
    accountName: AZURITE_ACCOUNT.name,
    accountKey: AZURITE_ACCOUNT.key,
    containerName,
    artifactContainerName: ARTIFACT_CONTAINER,
    async ensureContainer() {
      for (const c of [container, artifacts]) {
        try {
          await c.createIfNotExists();
        } catch (err) {
          const detail = err instanceof Error ? err.message : String(err);
          throw new Error(
            `emulator: cannot create blob container '${c.containerName}' at ${azuriteBlobUrl} (is Azurite running?): ${detail}`,
          );
        }
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
    async writeArtifact(blobName, text) {
      const body = Buffer.from(text, 'utf8');
      await artifacts.getBlockBlobClient(blobName).upload(body, body.length, {
        blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' },
      });
    },
    async listArtifacts(prefix) {
      const out: ArtifactBlob[] = [];
      for await (const item of artifacts.listBlobsFlat({ prefix })) {
        out.push({ name: item.name, size: item.properties.contentLength ?? 0 });
      }
      return out;
    },
    async artifactReadUrl(blobName, expiresOn) {
      const signed = new URL(
        await artifacts
          .getBlobClient(blobName)
          .generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn }),
      );
      // Azurite's path-style URL names the account first: /<account>/<container>/<blob>.
      const path = signed.pathname.replace(new RegExp(`^/${AZURITE_ACCOUNT.name}(?=/)`), '');
      return `${signed.protocol}//${AZURITE_ACCOUNT.name}.blob.${storageSuffix(azuriteBlobUrl)}${path}${signed.search}`;
    },
  };
}
