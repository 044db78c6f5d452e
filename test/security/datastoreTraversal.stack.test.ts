// Issue 13 item 1 in the worker: a datastore path (or the datastore's blob URL) with ".." segments
// must not read another container of the storage account with the worker's identity. The schema
// refuses such specs when a run starts (test/security/datasetSpecPaths.test.ts); this is the
// activity itself, given the input as an older client or a recorded run could carry it: it refuses
// the path naming the field, and no blob outside the datastore's container is touched.
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { BlobClient, ContainerClient } from '@azure/storage-blob';
import type { StagedDataset } from '../../src/activities/types';
import type { OpenDatastore } from '../../src/azure/datastore';
import { failureOf, stackDeps, stageActivity, type StageFn } from '../activities/stageDatasetHelpers';

const row = (i: number) =>
  JSON.stringify({
    messages: [
      { role: 'user', content: `secret question ${i}` },
      { role: 'assistant', content: `secret answer ${i}` },
    ],
  });

/** Runs the activity on an input that did not go through the schema. */
function runRaw(stage: StageFn, files: Record<string, string>): Promise<StagedDataset> {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 30_000 }, { logger: new DefaultLogger('ERROR') });
  const dataset = { source: 'files', files, percent: 100, maxInvalidFraction: 0.01 };
  return env.run(stage as (input: unknown) => Promise<StagedDataset>, { dataset }) as Promise<StagedDataset>;
}

describe('a datastore path that leaves the datastore container', () => {
  let stage: StageFn;
  let ds: OpenDatastore;
  let other: ContainerClient;
  let reads: string[];
  let spies: jest.SpyInstance[];

  beforeAll(async () => {
    const deps = stackDeps();
    stage = stageActivity(deps);
    ds = await deps.datastore();
    // another container of the same storage account, which the worker's identity can read
    const service = ds.container.url.replace(/\/[^/]+\/?$/, '');
    other = new ContainerClient(`${service}/private-${randomUUID().slice(0, 8)}`, ds.container.credential);
    await other.create();
    const secret = `${[0, 1, 2].map(row).join('\n')}\n`;
    await other.getBlockBlobClient('secret.jsonl').upload(secret, Buffer.byteLength(secret));
    await ds.container.getBlockBlobClient('user-data/ok.jsonl').upload(`${row(9)}\n`, Buffer.byteLength(`${row(9)}\n`));
  });

  beforeEach(() => {
    reads = [];
    const getProperties = BlobClient.prototype.getProperties;
    const download = BlobClient.prototype.download;
    spies = [
      jest.spyOn(BlobClient.prototype, 'getProperties').mockImplementation(function (this: BlobClient, ...args) {
        reads.push(this.containerName);
        return getProperties.apply(this, args);
      }),
      jest.spyOn(BlobClient.prototype, 'download').mockImplementation(function (this: BlobClient, ...args) {
        reads.push(this.containerName);
        return download.apply(this, args);
      }),
    ];
  });

  afterEach(() => spies.forEach((s) => s.mockRestore()));

  afterAll(async () => {
    await other?.deleteIfExists();
  });

  test.each([
    ['azureml URI with ..', (o: string) => `azureml://datastores/workspaceblobstore/paths/../${o}/secret.jsonl`],
    [
      'azureml URI with %2e%2e',
      (o: string) => `azureml://datastores/workspaceblobstore/paths/%2e%2e/${o}/secret.jsonl`,
    ],
    ['azureml URI with %2E.', (o: string) => `azureml://datastores/workspaceblobstore/paths/%2E./${o}/secret.jsonl`],
    ['blob URL with ..', (o: string) => `@container/../${o}/secret.jsonl`],
    ['blob URL with %2e%2e', (o: string) => `@container/%2e%2e/${o}/secret.jsonl`],
  ])('%s: refused naming dataset.files.train; nothing outside the container is read', async (_name, make) => {
    const train = make(other.containerName).replace('@container', ds.container.url);
    const ok = `azureml://datastores/${ds.name}/paths/user-data/ok.jsonl`;
    const err = await failureOf(runRaw(stage, { train, test: ok, scoring: ok }));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/dataset\.files\.train: .*("\.\." segment|does not name a blob)/);
    expect(reads.filter((c) => c !== ds.container.containerName)).toEqual([]);
  });
});
