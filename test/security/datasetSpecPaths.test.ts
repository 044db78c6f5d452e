// Issue 13 items 1 and 6 at spec validation and in the data-root check: a datastore path or a blob URL
// that would leave the datastore's container, and malformed escapes, are refused when the run starts,
// naming the field and the fix; local paths are read only under the worker's data root, symlinks
// resolved.
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confineLocalPath, FileNotReadable, SourceRefused, type DataRoots } from '../../src/dataset';
import { DatasetSpec, localFileEntries, parseFileRef } from '../../src/runSpec/dataset';
import { parseRunSpec, RunSpecError } from '../../src/runSpec/schema';

const GOOD = '/data/test.jsonl';
const DS = 'azureml://datastores/workspaceblobstore/paths';
const BLOB = 'https://acct.blob.core.windows.net/azureml-blobstore-123';

/** The issues parseRunSpec (the client, CLI and API's schema) reports for dataset.files.train = value. */
function trainIssues(value: string): { field: string; message: string }[] {
  try {
    parseRunSpec({ dataset: { files: { train: value, test: GOOD } } });
  } catch (err) {
    if (err instanceof RunSpecError) return err.issues;
    throw err;
  }
  throw new Error(`expected ${value} to be refused`);
}

describe('datastore paths and blob URLs that would leave the container', () => {
  test.each([
    [`${DS}/../other-container/x.jsonl`, '".." segment'],
    [`${DS}/chat/../../other-container/x.jsonl`, '".." segment'],
    [`${DS}/%2e%2e/other-container/x.jsonl`, '".." segment'],
    [`${DS}/%2E./other-container/x.jsonl`, '".." segment'],
    [`${DS}/.%2e/other-container/x.jsonl`, '".." segment'],
    [`${DS}/chat%2F..%2F..%2Fother%2Fx.jsonl`, '".." segment'],
    [`${DS}/./chat/x.jsonl`, '"." segment'],
    [`${DS}/chat//x.jsonl`, 'empty segment'],
    [`${DS}/chat\\..\\x.jsonl`, 'backslash'],
    [`${DS}/chat%5C..%5Cx.jsonl`, 'backslash'],
    [`${DS}/chat/100%.jsonl`, 'malformed %-escape'],
    [`${DS}/chat/%zz.jsonl`, 'malformed %-escape'],
    ['azureml://datastores/work%zzspace/paths/a.jsonl', 'malformed %-escape'],
    [
      'azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/workspaceblobstore/paths/../c2/x.jsonl',
      '".." segment',
    ],
    [`${BLOB}/../other-container/x.jsonl`, '".." segment'],
    [`${BLOB}/%2e%2e/other-container/x.jsonl`, '".." segment'],
    [`${BLOB}/chat//x.jsonl`, 'empty segment'],
    [`${BLOB}/chat/%zz.jsonl`, 'malformed %-escape'],
    ['https://files.example.org/a/%2E%2E/b.jsonl', '".." segment'],
    ['https://files.example.org\\@evil.example/b.jsonl', 'backslash'],
  ])('%s is refused at dataset.files.train', (value, why) => {
    const issues = trainIssues(value);
    const issue = issues.find((i) => i.field === 'dataset.files.train');
    expect(issue?.message).toContain(why);
    expect(issue?.message).toMatch(/^dataset\.files\.train: /);
    // ... and says what to give instead
    expect(issue?.message).toMatch(/give |use |write a literal/);
  });

  test('ordinary datastore paths and blob URLs still parse, names decoded once', () => {
    expect(parseFileRef(`${DS}/chat/2024%20q1/x.jsonl`)).toEqual({
      kind: 'datastore',
      location: 'workspaceblobstore',
      path: 'chat/2024 q1/x.jsonl',
      format: 'jsonl',
    });
    expect(parseFileRef(`${DS}/chat/100%25.jsonl`)).toMatchObject({ path: 'chat/100%.jsonl' });
    expect(parseFileRef(`${DS}/chat/..data/x..y.jsonl`)).toMatchObject({ path: 'chat/..data/x..y.jsonl' });
    expect(parseFileRef(`${DS}//chat/x.jsonl`)).toMatchObject({ path: 'chat/x.jsonl' }); // a leading "/" as before
    expect(parseFileRef(`${BLOB}/chat/x.jsonl`)).toMatchObject({ kind: 'http' });
    expect(parseFileRef('https://files.example.org/a//b.jsonl')).toMatchObject({ kind: 'http' }); // not a blob URL
  });
});

describe('local paths', () => {
  test('localFileEntries names the local entries (for a front end that takes specs from remote callers)', () => {
    const spec = DatasetSpec.parse({
      files: { train: '/data/train.jsonl', test: 'https://files.example.org/t.jsonl', scoring: 'file:///x/s.jsonl' },
    });
    expect(localFileEntries(spec)).toEqual([
      { field: 'dataset.files.train', value: '/data/train.jsonl' },
      { field: 'dataset.files.scoring', value: 'file:///x/s.jsonl' },
    ]);
    expect(localFileEntries(DatasetSpec.parse({}))).toEqual([]);
  });

  describe('confineLocalPath', () => {
    let top: string;
    let roots: DataRoots;
    beforeAll(async () => {
      top = await mkdtemp(join(tmpdir(), 'ftflow-data-root-'));
      await mkdir(join(top, 'root', 'sub'), { recursive: true });
      await mkdir(join(top, 'elsewhere'));
      await writeFile(join(top, 'root', 'sub', 'ok.jsonl'), '{}\n');
      await writeFile(join(top, 'elsewhere', 'secret.jsonl'), '{}\n');
      await writeFile(join(top, 'root-sibling.jsonl'), '{}\n');
      await symlink(join(top, 'elsewhere', 'secret.jsonl'), join(top, 'root', 'link.jsonl'));
      await symlink(join(top, 'elsewhere'), join(top, 'root', 'dirlink'));
      await symlink(join(top, 'root', 'sub', 'ok.jsonl'), join(top, 'root', 'inside-link.jsonl'));
      roots = { dirs: [join(top, 'root')], origin: 'env', variable: 'FTFLOW_DATA_ROOT' };
    });
    afterAll(() => rm(top, { recursive: true, force: true }));

    const refusedWith = async (file: string, r: DataRoots | undefined, text: RegExp) => {
      const err = await confineLocalPath(file, r).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SourceRefused);
      expect((err as Error).message).toMatch(text);
    };

    test('under the root: the real path', async () => {
      expect(await confineLocalPath(join(top, 'root', 'sub', 'ok.jsonl'), roots)).toBe(
        join(top, 'root', 'sub', 'ok.jsonl'),
      );
      expect(await confineLocalPath(join(top, 'root', 'inside-link.jsonl'), roots)).toBe(
        join(top, 'root', 'sub', 'ok.jsonl'),
      );
    });

    test('outside it, also through "..", a symlinked file or folder, or a sibling with the same prefix: refused', async () => {
      const outside = /is outside the directories this worker reads dataset files from \(FTFLOW_DATA_ROOT\)/;
      await refusedWith(join(top, 'elsewhere', 'secret.jsonl'), roots, outside);
      await refusedWith(join(top, 'root', '..', 'elsewhere', 'secret.jsonl'), roots, outside);
      await refusedWith(join(top, 'root', 'link.jsonl'), roots, outside);
      await refusedWith(join(top, 'root', 'dirlink', 'secret.jsonl'), roots, outside);
      await refusedWith(join(top, 'root-sibling.jsonl'), roots, outside);
      // a missing file outside the root is refused the same way (no existence oracle)
      await refusedWith('/nonexistent/ftflow/x.jsonl', roots, outside);
      await refusedWith('/etc/passwd', roots, outside);
    });

    test('a missing file under the root is a readable error naming it', async () => {
      const missing = join(top, 'root', 'sub', 'missing.jsonl');
      const err = await confineLocalPath(missing, roots).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FileNotReadable);
      expect((err as Error).message).toContain(missing);
    });

    test('no data root: every local path is refused, naming the variable to set', async () => {
      await refusedWith(
        join(top, 'root', 'sub', 'ok.jsonl'),
        undefined,
        /local paths are not accepted by this worker \(FTFLOW_DATA_ROOT is not set\)/,
      );
    });
  });
});
