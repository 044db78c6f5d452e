// The dataset part of the run spec: the two shapes, their defaults, and errors that name the field and the fix.
import { DatasetSpec, parseFileRef } from '../../src/runSpec/dataset';

function issues(input: unknown): { field: string; message: string }[] {
  const result = DatasetSpec.safeParse(input);
  if (result.success) throw new Error(`expected a rejection of ${JSON.stringify(input)}`);
  return result.error.issues.map((i) => ({ field: ['dataset', ...i.path.map(String)].join('.'), message: i.message }));
}

describe('DatasetSpec', () => {
  test('{} is the notebook: 5% of ultrachat_200k at main, first rows (no sampling field)', () => {
    expect(DatasetSpec.parse({})).toEqual({
      source: 'HuggingFaceH4/ultrachat_200k',
      revision: 'main',
      trainSplit: 'train_sft',
      testSplit: 'test_sft',
      scoringSplit: 'test_gen',
      percent: 5,
      maxInvalidFraction: 0.01,
    });
  });

  test('hash sampling with a seed (default seed 0)', () => {
    expect(DatasetSpec.parse({ sampling: { method: 'hash', seed: 7 }, percent: 10 })).toMatchObject({
      sampling: { method: 'hash', seed: 7 },
      percent: 10,
    });
    expect(DatasetSpec.parse({ sampling: { method: 'hash' } }).sampling).toEqual({ method: 'hash', seed: 0 });
    expect(DatasetSpec.parse({ sampling: { method: 'first' } }).sampling).toEqual({ method: 'first' });
  });

  test('files: all of each file by default, scoring defaults to the test file, source "files" may be left out', () => {
    const files = { train: '/data/train.jsonl', test: 'https://example.org/chat/test.parquet' };
    const spec = { source: 'files', files: { ...files, scoring: files.test }, percent: 100, maxInvalidFraction: 0.01 };
    expect(DatasetSpec.parse({ source: 'files', files })).toEqual(spec);
    expect(DatasetSpec.parse({ files })).toEqual(spec);
    expect(
      DatasetSpec.parse({
        files: { ...files, scoring: 'azureml://datastores/workspaceblobstore/paths/s/sample.jsonl' },
        percent: 20,
      }),
    ).toMatchObject({
      percent: 20,
      files: { scoring: 'azureml://datastores/workspaceblobstore/paths/s/sample.jsonl' },
    });
  });

  test('file references: kinds and formats', () => {
    expect(parseFileRef('/data/train.jsonl')).toEqual({
      kind: 'local',
      location: '/data/train.jsonl',
      format: 'jsonl',
    });
    expect(parseFileRef('file:///data/my%20set/t.parquet')).toEqual({
      kind: 'local',
      location: '/data/my set/t.parquet',
      format: 'parquet',
    });
    expect(parseFileRef('https://host/x/t.ndjson?v=2')).toEqual({
      kind: 'http',
      location: 'https://host/x/t.ndjson?v=2',
      format: 'jsonl',
    });
    expect(parseFileRef('azureml://datastores/workspaceblobstore/paths/a/b.jsonl')).toEqual({
      kind: 'datastore',
      location: 'workspaceblobstore',
      path: 'a/b.jsonl',
      format: 'jsonl',
    });
    expect(
      parseFileRef('azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/store1/paths/a/b.parquet'),
    ).toEqual({ kind: 'datastore', location: 'store1', path: 'a/b.parquet', format: 'parquet' });
  });

  test.each([
    [{ source: 'ultrachat_200k' }, 'dataset.source', 'Hugging Face dataset id'],
    [{ source: 'files' }, 'dataset.files', 'required when dataset.source is "files"'],
    [
      { files: { train: '/a.jsonl', test: '/b.jsonl' }, revision: 'v1' },
      'dataset.revision',
      'Hugging Face datasets only',
    ],
    [
      { source: 'files', files: { train: '/a.jsonl', test: '/b.jsonl' }, trainSplit: 'x' },
      'dataset.trainSplit',
      'remove it',
    ],
    [
      { source: 'HuggingFaceH4/ultrachat_200k', files: { train: '/a.jsonl', test: '/b.jsonl' } },
      'dataset.files',
      'set dataset.source to "files"',
    ],
    [{ files: { train: '/a.jsonl' } }, 'dataset.files.test', ''],
    [{ files: { train: 'data/a.jsonl', test: '/b.jsonl' } }, 'dataset.files.train', 'relative path'],
    [{ files: { train: '/a.csv', test: '/b.jsonl' } }, 'dataset.files.train', 'name the file .jsonl'],
    [
      { files: { train: '/a.jsonl', test: 'https://acct.blob.core.windows.net/c/b.jsonl?sv=1&sig=abc' } },
      'dataset.files.test',
      'SAS signature',
    ],
    [{ files: { train: 'https://user:pw@host/a.jsonl', test: '/b.jsonl' } }, 'dataset.files.train', 'password'],
    [{ files: { train: 's3://bucket/a.jsonl', test: '/b.jsonl' } }, 'dataset.files.train', 'not supported'],
    [
      { files: { train: 'azureml://jobs/x/outputs/y', test: '/b.jsonl' } },
      'dataset.files.train',
      'azureml://datastores/<datastore>/paths/',
    ],
    [{ files: { train: '/a.jsonl', test: '/b.jsonl', extra: '/c.jsonl' } }, 'dataset.files', '"extra"'],
    [{ files: ['/a.jsonl'] }, 'dataset.files', 'must be an object { train, test, scoring? }'],
    [{ sampling: { method: 'random' } }, 'dataset.sampling.method', ''],
    [{ sampling: 'hash' }, 'dataset.sampling', 'method: "hash", seed'],
    [{ sampling: { method: 'hash', seed: 1.5 } }, 'dataset.sampling.seed', 'whole number'],
    [{ percent: 0 }, 'dataset.percent', 'greater than 0'],
    [{ maxInvalidFraction: 5 }, 'dataset.maxInvalidFraction', 'between 0 and 1'],
  ])('%j is rejected at %s', (input, field, text) => {
    const found = issues(input);
    expect(found.map((i) => i.field)).toContain(field);
    const issue = found.find((i) => i.field === field);
    expect(issue?.message).toContain(text);
  });

  test('every file error message names its field', () => {
    for (const issue of issues({ files: { train: 'rel.jsonl', test: '/b.txt', scoring: 'ftp://x/y.jsonl' } })) {
      expect(issue.message).toContain(issue.field);
    }
  });
});
