// A dry run's look at the data (src/dataset/preview.ts): the same plan and the same reading as staging, a
// bounded read, nothing written. A slice read whole gives staging's own figures; a larger one is scaled from
// the rows read (marked estimated); a failure within the rows read is staging's own failure; a threshold only
// the rows read break is a warning.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import {
  fileSplitSource,
  localByteSource,
  planSplits,
  PREVIEW_MAX_ROWS,
  previewDataset,
  stageSplit,
  type BlockBlobTarget,
  type StagingDatastore,
} from '../../src/dataset';
import { DatasetSpec } from '../../src/runSpec/dataset';

/** The datastore as staging sees it, with nothing staged in it and no way to write. */
const EMPTY_DATASTORE: StagingDatastore = {
  name: 'workspaceblobstore',
  uriFor: (p) => `azureml://datastores/workspaceblobstore/paths/${p}`,
  container: {
    url: 'https://acct.blob.core.windows.net/azureml-blobstore',
    getBlockBlobClient: () => ({
      getProperties: async () => {
        throw Object.assign(new Error('BlobNotFound'), { statusCode: 404 });
      },
      stageBlock: async () => {
        throw new Error('a dry run wrote a block');
      },
      commitBlockList: async () => {
        throw new Error('a dry run committed a blob');
      },
    }),
  } as unknown as ContainerClient,
};

const good = (i: number) =>
  JSON.stringify({
    prompt: `q${i}`,
    prompt_id: `id-${i}`,
    messages: [
      { role: 'user', content: `question ${i} ${'x'.repeat(i % 50)}` },
      { role: 'assistant', content: `answer ${i}` },
    ],
  });
const bad = () => JSON.stringify({ messages: [{ role: 'user', content: 'no answer' }] });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ftflow-preview-'));
  const file = (name: string, lines: string[]) => writeFile(join(dir, name), lines.join('\n') + '\n');
  await file(
    'small.jsonl',
    Array.from({ length: 120 }, (_, i) => good(i)),
  );
  await file(
    'large.jsonl',
    Array.from({ length: 5000 }, (_, i) => good(i)),
  );
  // Bad for its first 300 rows, fine after: the whole file is under a 10% threshold, its first 2,000 rows not.
  await file(
    'bad-start.jsonl',
    Array.from({ length: 5000 }, (_, i) => (i < 300 ? bad() : good(i))),
  );
  // Bad throughout: at 50% the slice of 2,500 rows has more than 10% bad long before 2,000 are read.
  await file(
    'bad-all.jsonl',
    Array.from({ length: 5000 }, () => bad()),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function preview(files: { train: string; test: string }, extra: Record<string, unknown> = {}) {
  const dataset = DatasetSpec.parse({
    files: { train: join(dir, files.train), test: join(dir, files.test) },
    maxInvalidFraction: 0.1,
    ...extra,
  });
  const sources = { settings: { localMode: true, access: {} as never, dataRoots: undefined }, fetch: fetch };
  const { revision, plans } = await planSplits(dataset, EMPTY_DATASTORE, { endpoint: 'https://hub.invalid' }, sources, {
    train: join(dir, files.train),
    test: join(dir, files.test),
    scoring: join(dir, files.test),
  });
  return { dataset, plans, result: await previewDataset({ dataset, ds: EMPTY_DATASTORE, revision, plans }) };
}

/** What staging itself writes for `file` (rows and bytes), into memory. */
async function staged(file: string, percent: number) {
  const sink: BlockBlobTarget = { stageBlock: async () => undefined, commitBlockList: async () => undefined };
  return stageSplit({
    source: fileSplitSource(localByteSource(join(dir, file)), 'jsonl', join(dir, file)),
    target: sink,
    label: file,
    percent,
    maxInvalidFraction: 0.1,
  });
}

test("a slice read whole: staging's figures exactly, the blob path staging uses, nothing written", async () => {
  const { plans, result } = await preview({ train: 'small.jsonl', test: 'small.jsonl' });
  const real = await staged('small.jsonl', 100);
  expect(result.train).toMatchObject({
    rows: real.rows,
    bytes: real.bytes,
    sourceRows: 120,
    blobPath: plans.train.blobPath,
    sha256: '',
    reused: false,
    preview: { complete: true, rowsRead: 120 },
  });
  expect(result.warnings).toEqual([]);
});

test(`a slice larger than ${PREVIEW_MAX_ROWS} rows: read up to there, the rows and bytes scaled to the slice`, async () => {
  const { result } = await preview({ train: 'large.jsonl', test: 'small.jsonl' });
  const real = await staged('large.jsonl', 100);
  expect(result.train.preview).toMatchObject({ complete: false, estimated: true });
  expect(result.train.preview?.rowsRead).toBeGreaterThanOrEqual(PREVIEW_MAX_ROWS);
  expect(result.train.rows).toBe(5000);
  expect(Math.abs(result.train.bytes - real.bytes) / real.bytes).toBeLessThan(0.05);
});

test('bad rows only in the rows read: a warning, not a refusal (the rest of the slice decides)', async () => {
  const { result } = await preview({ train: 'bad-start.jsonl', test: 'small.jsonl' });
  await expect(staged('bad-start.jsonl', 100)).resolves.toMatchObject({ rows: 4700 });
  expect(result.warnings).toEqual([
    expect.stringMatching(
      /^dataset\.files\.train: 300 of the first 2000 rows of .* are invalid, more than dataset\.maxInvalidFraction 0\.1: the run fails unless the rest of the slice is cleaner$/,
    ),
  ]);
});

test("a threshold the rows read already break for good: staging's own failure, word for word", async () => {
  const expected = await staged('bad-all.jsonl', 50).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  expect(expected?.name).toBe('StagingError');
  const got = await preview({ train: 'bad-all.jsonl', test: 'small.jsonl' }, { percent: 50 }).then(
    () => undefined,
    (err: unknown) => err as Error & { field?: string; cause?: Error },
  );
  // Reported under its field (FieldFailure), as staging reports it; the cause is staging's error (after the
  // split's label, which the plan gives: "dataset.files.train <file> (first 50%)").
  expect(got?.field).toBe('dataset.files.train');
  expect(got?.cause?.name).toBe('StagingError');
  const afterLabel = (m: string | undefined) => m?.slice(m.indexOf(': '));
  expect(afterLabel(got?.cause?.message)).toBe(afterLabel(expected?.message));
  expect(got?.cause?.message).toMatch(
    /^dataset\.files\.train \S+bad-all\.jsonl \(first 50%\): 251 of the first 251 rows are invalid/,
  );
});
