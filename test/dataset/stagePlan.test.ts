// The staging plan and its records (src/dataset/stagePlan.ts, src/dataset/stageResult.ts), without the
// activity or the stack: which source each role reads, the content keys and blob names derived from it,
// what is refused before anything is read, the resume plan, and what a staged blob records for reuse.
// Datastores are fakes over a real ContainerClient (URLs only, no request); the Hub is the stand-in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BlobClient, ContainerClient } from '@azure/storage-blob';
import { DEFAULT_REPO_ID, hubCommit } from '../../devstack/emulator/hub';
import {
  FieldFailure,
  PlanRefusal,
  SourceRefused,
  asIsSplitOf,
  checkReused,
  confineLocalFiles,
  confinedBlob,
  contentKeyOf,
  findStaged,
  guardedFetch,
  loadDatasetSourceSettings,
  planSplits,
  readHeartbeat,
  requireRows,
  resumeFor,
  resumePointOf,
  roleField,
  slug,
  stagedDataset,
  stagedMetadata,
  stagedSplitOf,
  summarize,
  type SourceAccess,
  type SplitCheckpoint,
  type SplitPlan,
  type SplitSource,
  type StagePlan,
  type StagedSplit,
  type StagedSplitResult,
  type StagingDatastore,
} from '../../src/dataset';
import { DatasetSpec } from '../../src/runSpec/dataset';
import { stableHash } from '../../src/runSpec/names';
import { startHub, type RunningHub } from './hubServer';

const CONTAINER_URL = 'https://acct.blob.core.windows.net/ws-container';

/** The default datastore over a real client (URLs and names as Azure builds them); reads answered by `props`. */
function datastore(
  props: (name: string) => Promise<object> = async () => ({ contentLength: 10, etag: '"e1"' }),
  url = CONTAINER_URL,
) {
  const real = new ContainerClient(url);
  const answer = <T extends BlobClient>(blob: T): T => {
    blob.getProperties = (() => props(blob.name)) as T['getProperties'];
    return blob;
  };
  const container = {
    url: real.url,
    containerName: real.containerName,
    getBlobClient: (name: string) => answer(real.getBlobClient(name)),
    getBlockBlobClient: (name: string) => answer(real.getBlockBlobClient(name)),
  } as unknown as ContainerClient;
  const ds: StagingDatastore = {
    name: 'workspaceblobstore',
    container,
    uriFor: (p) => `azureml://datastores/workspaceblobstore/paths/${p}`,
  };
  return ds;
}

function access(env: NodeJS.ProcessEnv = {}): SourceAccess {
  const settings = loadDatasetSourceSettings(env);
  return { settings, fetch: guardedFetch(settings.access) };
}

const files = (f: Record<string, string>, extra: object = {}) =>
  DatasetSpec.parse({ source: 'files', files: f, percent: 100, ...extra });

const source = (name: string, version?: string): SplitSource => ({
  name,
  countIsCheap: true,
  identity: async () => (version === undefined ? { location: name } : { location: name, version }),
  countRows: async () => 0,
  read: () => (async function* () {})(),
});

const stagePlan = (over: Partial<StagePlan> = {}): StagePlan => ({
  mode: 'stage',
  role: 'train',
  split: 'train_sft',
  label: 'ds train_sft[:5%]',
  source: source('hf:org/ds/train_sft', 'sha1'),
  key: 'k1',
  versioned: true,
  blobPath: 'finetune-flow/datasets/org_ds/k1/train_sft.jsonl',
  ...over,
});

const result: StagedSplitResult = {
  sourceRows: 10,
  rows: 9,
  scannedRows: 10,
  bytes: 900,
  sha256: 'ab'.repeat(32),
  blocks: 1,
  invalid: {
    total: 10,
    valid: 9,
    invalid: 1,
    byReason: { no_assistant_turn: 1 },
    examples: [{ row: 3, reason: 'no_assistant_turn' }],
  },
  resumedAtRow: 0,
};

describe('content keys and names', () => {
  test('the content key is sha of format, source location and version, percent and sampling', async () => {
    const key = await contentKeyOf(source('hf:org/ds/train_sft', 'sha1'), 5, { method: 'first' });
    expect(key).toEqual({
      key: stableHash(JSON.stringify(['jsonl-v2', 'hf:org/ds/train_sft', 'sha1', 5, 'first'])),
      versioned: true,
    });
    const others = await Promise.all([
      contentKeyOf(source('hf:org/ds/train_sft', 'sha2'), 5, { method: 'first' }),
      contentKeyOf(source('hf:org/ds/test_sft', 'sha1'), 5, { method: 'first' }),
      contentKeyOf(source('hf:org/ds/train_sft', 'sha1'), 10, { method: 'first' }),
      contentKeyOf(source('hf:org/ds/train_sft', 'sha1'), 5, { method: 'hash', seed: 7 }),
    ]);
    expect(new Set([key.key, ...others.map((o) => o.key)]).size).toBe(5);
    expect(await contentKeyOf(source('/data/x.jsonl'), 100, { method: 'first' })).toMatchObject({ versioned: false });
  });

  test('slug keeps names blob-safe and short; roleField names the spec field', () => {
    expect(slug('HuggingFaceH4/ultrachat_200k')).toBe('HuggingFaceH4_ultrachat_200k');
    expect(slug('..hidden name')).toBe('hidden_name');
    expect(slug('///')).toBe('data');
    expect(slug('x'.repeat(300))).toHaveLength(100);
    expect(roleField(DatasetSpec.parse({}), 'scoring')).toBe('dataset.scoringSplit');
    expect(roleField(files({ train: 'https://h.example/t.jsonl', test: 'https://h.example/u.jsonl' }), 'test')).toBe(
      'dataset.files.test',
    );
  });
});

describe('planSplits from the Hub', () => {
  let hub: RunningHub;
  const OPTS = { rowsPerSplit: { train_sft: 100, test_sft: 40, train_gen: 90, test_gen: 20 }, rowGroupSize: 50 };
  beforeAll(async () => {
    hub = await startHub(OPTS);
  });
  afterAll(async () => {
    await hub.close();
  });

  test('each role reads its split at the resolved commit, keyed by it, staged under the dataset and key', async () => {
    const dataset = DatasetSpec.parse({ source: DEFAULT_REPO_ID });
    const { revision, plans } = await planSplits(dataset, datastore(), { endpoint: hub.endpoint }, access(), {});
    expect(revision).toBe(hubCommit(OPTS));
    const train = plans.train as StagePlan;
    expect(train).toMatchObject({ mode: 'stage', role: 'train', split: 'train_sft', versioned: true });
    expect(train.key).toBe(
      stableHash(JSON.stringify(['jsonl-v2', `hf:${DEFAULT_REPO_ID}/train_sft`, revision, 5, 'first'])),
    );
    expect(train.blobPath).toBe(`finetune-flow/datasets/${slug(DEFAULT_REPO_ID)}/${train.key}/train_sft.jsonl`);
    expect(train.label).toBe(`${DEFAULT_REPO_ID} train_sft[0%:5%]`);
    expect([plans.test.split, plans.scoring.split]).toEqual(['test_sft', 'test_gen']);
    const hashed = await planSplits(
      DatasetSpec.parse({ source: DEFAULT_REPO_ID, sampling: { method: 'hash', seed: 7 } }),
      datastore(),
      { endpoint: hub.endpoint },
      access(),
      {},
    );
    expect(hashed.plans.train.key).not.toBe(train.key);
    expect(hashed.plans.train.label).toMatch(/^\S+ train_sft \(.*seed 7.*\)$/);
  });

  test('an unknown revision or split is reported under its field', async () => {
    const hubOpts = { endpoint: hub.endpoint };
    const badRevision = planSplits(
      DatasetSpec.parse({ source: DEFAULT_REPO_ID, revision: 'nope' }),
      datastore(),
      hubOpts,
      access(),
      {},
    );
    await expect(badRevision).rejects.toBeInstanceOf(FieldFailure);
    await expect(badRevision).rejects.toMatchObject({ field: 'dataset.source / dataset.revision' });
    const badSplit = planSplits(
      DatasetSpec.parse({ source: DEFAULT_REPO_ID, testSplit: 'nope' }),
      datastore(),
      hubOpts,
      access(),
      {},
    );
    await expect(badSplit).rejects.toMatchObject({ field: 'dataset.testSplit' });
  });
});

describe('planSplits from files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ftflow-plan-'));
    await writeFile(path.join(dir, 'train.jsonl'), '{}\n');
    await writeFile(path.join(dir, 'test.jsonl'), '{}\n{}\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('local files: confined to the data root, staged under files/<key>/<stem>.jsonl, revision from their versions', async () => {
    const dataset = files({ train: path.join(dir, 'train.jsonl'), test: path.join(dir, 'test.jsonl') });
    const settings = access({ FTFLOW_DATA_ROOT: dir });
    const local = await confineLocalFiles(dataset, settings.settings);
    expect(Object.keys(local).sort()).toEqual(['scoring', 'test', 'train']);
    const { revision, plans } = await planSplits(dataset, datastore(), { endpoint: 'http://unused' }, settings, local);
    expect(revision).toMatch(/^files-[0-9a-f]{16}$/);
    const train = plans.train as StagePlan;
    expect(train).toMatchObject({ mode: 'stage', split: 'train', versioned: true });
    expect(train.blobPath).toBe(`finetune-flow/datasets/files/${train.key}/train.jsonl`);
    expect(train.label).toBe(`dataset.files.train ${path.join(dir, 'train.jsonl')} (first 100%)`);
    // scoring defaults to the test file: the same content, the same key
    expect(plans.scoring.key).toBe(plans.test.key);
  });

  test('a local path outside the data root, or with none set, is refused under its field before anything is read', async () => {
    const dataset = files({ train: '/etc/passwd.jsonl', test: path.join(dir, 'test.jsonl') });
    for (const env of [{}, { FTFLOW_DATA_ROOT: dir }]) {
      const err = await confineLocalFiles(dataset, access(env).settings).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FieldFailure);
      expect(err).toMatchObject({ field: 'dataset.files.train', cause: expect.any(SourceRefused) });
    }
  });

  test('a datastore JSONL file wanted whole is used as it is; sliced or sampled, it is staged', async () => {
    const uri = (p: string) => `azureml://datastores/workspaceblobstore/paths/${p}`;
    const whole = files({ train: uri('chat/train.jsonl'), test: `${CONTAINER_URL}/chat/test.jsonl` });
    const { plans } = await planSplits(whole, datastore(), { endpoint: 'http://unused' }, access(), {});
    expect(plans.train).toMatchObject({ mode: 'asIs', key: 'as-is:chat/train.jsonl', blobPath: 'chat/train.jsonl' });
    expect(plans.test).toMatchObject({ mode: 'asIs', blobPath: 'chat/test.jsonl' });
    const sliced = files({ train: uri('chat/train.jsonl'), test: uri('chat/test.jsonl') }, { percent: 50 });
    const staged = await planSplits(sliced, datastore(), { endpoint: 'http://unused' }, access(), {});
    expect(staged.plans.train).toMatchObject({ mode: 'stage', versioned: true });
    expect(staged.plans.train.blobPath).toMatch(/^finetune-flow\/datasets\/files\/[0-9a-f]+\/train\.jsonl$/);
  });

  test('refused before any read: another datastore, a bad reference, a bad blob path, a missing blob', async () => {
    const plan = (f: Record<string, string>, ds = datastore()) =>
      planSplits(files(f), ds, { endpoint: 'http://unused' }, access(), {}).catch((e: unknown) => e);
    const other = await plan({
      train: 'azureml://datastores/otherstore/paths/a.jsonl',
      test: 'https://h.example/t.jsonl',
    });
    expect(other).toMatchObject({ field: 'dataset.files.train', cause: expect.any(PlanRefusal) });
    expect((other as FieldFailure).cause).toMatchObject({ code: 'UnsupportedDatastore' });
    // The schema refuses this one when a run starts; an older client's or a recorded run's input is not
    // parsed again, so the plan judges the reference itself, before opening anything.
    const raw = (train: string) =>
      ({
        source: 'files',
        files: { train, test: 'https://h.example/t.jsonl', scoring: 'https://h.example/t.jsonl' },
        percent: 100,
        maxInvalidFraction: 0.01,
      }) as unknown as DatasetSpec;
    const escape = await planSplits(raw(`${CONTAINER_URL}/a%zz.jsonl`), datastore(), { endpoint: 'x' }, access(), {})
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(escape).toBeInstanceOf(PlanRefusal);
    expect(escape).toMatchObject({
      code: 'BadDatasetFile',
      message: expect.stringMatching(/^dataset\.files\.train: /),
    });
    // A container on a host the schema does not know as Azure Blob (Azurite): its blob path is judged here.
    const azurite = 'https://127.0.0.1:10000/devstoreaccount1/ws-container';
    const empty = await planSplits(
      raw(`${azurite}/a//b.jsonl`),
      datastore(undefined, azurite),
      { endpoint: 'x' },
      access(),
      {},
    )
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(empty).toMatchObject({ field: 'dataset.files.train' });
    expect((empty as FieldFailure).cause).toMatchObject({ code: 'BadDatastorePath' });
    const missing = await plan(
      { train: 'azureml://datastores/workspaceblobstore/paths/gone.jsonl', test: 'https://h.example/t.jsonl' },
      datastore(async () => Promise.reject(Object.assign(new Error('not found'), { statusCode: 404 }))),
    );
    expect(missing).toMatchObject({
      field: 'dataset.files.train',
      cause: expect.objectContaining({ name: 'BlobNotFound' }),
    });
  });

  test('a URL to a private address is refused without a request', async () => {
    const err = await planSplits(
      files({ train: 'https://10.0.0.1/t.jsonl', test: 'https://h.example/t.jsonl' }),
      datastore(),
      { endpoint: 'http://unused' },
      access(),
      {},
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ field: 'dataset.files.train', cause: expect.any(SourceRefused) });
  });
});

describe('confinedBlob', () => {
  // Moved here from test/security/datastoreTraversal.stack.test.ts with the function (it was in the activity).
  test('the blob client is checked after the fact: a URL that resolves outside the container is refused', () => {
    // A client that (like a URL parser) resolves what it is given into another container.
    const container = {
      url: 'https://acct.blob.core.windows.net/ws-container',
      containerName: 'ws-container',
      getBlobClient: (name: string) => new BlobClient(`https://acct.blob.core.windows.net/other/${name}`),
    } as unknown as ContainerClient;
    expect(() => confinedBlob({ name: 'workspaceblobstore', container }, 'x.jsonl', 'dataset.files.test')).toThrow(
      PlanRefusal,
    );
    expect(() => confinedBlob({ name: 'workspaceblobstore', container }, 'x.jsonl', 'dataset.files.test')).toThrow(
      /dataset\.files\.test: the path "x\.jsonl" does not name a blob of the datastore's container/,
    );
    const real = new ContainerClient('https://acct.blob.core.windows.net/ws-container');
    expect(confinedBlob({ name: 'workspaceblobstore', container: real }, 'a/b c/x.jsonl', 'f').name).toBe(
      'a/b c/x.jsonl',
    );
    expect(() => confinedBlob({ name: 'workspaceblobstore', container: real }, 'a/../x.jsonl', 'f')).toThrow(
      /"\.\." segment/,
    );
  });
});

describe('the resume plan', () => {
  const checkpoint: SplitCheckpoint = {
    nextRow: 40,
    blocks: [],
    bytes: 0,
    rowsWritten: 0,
    rowsTaken: 40,
    tally: { total: 0, valid: 0, invalid: 0, byReason: {}, examples: [] },
  };

  test('a heartbeat is read only when it has the expected shape', () => {
    expect(readHeartbeat(undefined)).toBeUndefined();
    expect(readHeartbeat('x')).toBeUndefined();
    expect(readHeartbeat({ rowsRead: 1 })).toBeUndefined();
    expect(readHeartbeat({ split: 'train', checkpoint: { nextRow: 1.5, blocks: [], tally: {} } })).toBeUndefined();
    expect(readHeartbeat({ split: 'train', checkpoint: { nextRow: 1, blocks: 'x', tally: {} } })).toBeUndefined();
    expect(readHeartbeat({ split: 'train', key: 'k1', checkpoint })).toMatchObject({ split: 'train', key: 'k1' });
  });

  test('the resume point keeps the key, total and checkpoint of the last heartbeat, and nothing else', () => {
    expect(resumePointOf(undefined)).toEqual({});
    expect(resumePointOf({ split: 'train', rowsRead: 5, rowsWritten: 5, bytes: 9 })).toEqual({});
    expect(
      resumePointOf({ split: 'train', rowsRead: 5, rowsWritten: 5, bytes: 9, key: 'k1', total: 80, checkpoint }),
    ).toEqual({ key: 'k1', total: 80, checkpoint });
  });

  test('a split resumes only from a point of the same content key, and only from a versioned source', () => {
    const point = { key: 'k1', total: 80, checkpoint };
    expect(resumeFor(stagePlan(), point)).toBe(point);
    expect(resumeFor(stagePlan({ key: 'k2' }), point)).toBeUndefined();
    expect(resumeFor(stagePlan({ versioned: false }), point)).toBeUndefined();
  });
});

describe('what a staged split records', () => {
  const ds = datastore();

  test('summaries, metadata and the staged split agree', () => {
    expect(summarize(result.invalid)).toEqual({
      count: 1,
      byReason: { no_assistant_turn: 1 },
      examples: [{ row: 3, reason: 'no_assistant_turn' }],
      fraction: 0.1,
    });
    const plan = stagePlan();
    expect(stagedMetadata(plan, 'first 5%', result)).toEqual({
      ftflowformat: 'jsonl-v2',
      ftflowcontentkey: 'k1',
      ftflowsplit: 'train_sft',
      ftflowsource: encodeURIComponent('hf:org/ds/train_sft'),
      ftflowsampling: 'first 5%',
      ftflowsha256: result.sha256,
      ftflowrows: '9',
      ftflowsourcerows: '10',
      ftflowscannedrows: '10',
      ftflowbytes: '900',
      ftflowblocks: '1',
      ftflowinvalid: JSON.stringify(summarize(result.invalid)),
    });
    expect(stagedSplitOf(plan, ds, result, 'first 5%')).toMatchObject({
      uri: `azureml://datastores/workspaceblobstore/paths/${plan.blobPath}`,
      rows: 9,
      reused: false,
      contentKey: 'k1',
      sha256Of: 'blocks',
      resumedAtRow: 0,
    });
  });

  test('findStaged reuses a complete blob of the same content key, and nothing else', async () => {
    const plan = stagePlan();
    const metadata = stagedMetadata(plan, 'first 5%', result);
    const found = await findStaged(
      datastore(async () => ({ metadata, contentLength: 900 })),
      plan,
    );
    expect(found).toEqual({ ...stagedSplitOf(plan, ds, result, 'first 5%'), reused: true, resumedAtRow: undefined });
    const none = async (answer: () => Promise<object>, p = plan) => findStaged(datastore(answer), p);
    expect(
      await none(async () => ({ metadata: { ...metadata, ftflowcontentkey: 'other' }, contentLength: 900 })),
    ).toBeUndefined();
    expect(await none(async () => ({ metadata, contentLength: 899 }))).toBeUndefined(); // a blob cut short
    expect(
      await none(async () => ({ metadata: { ...metadata, ftflowformat: 'jsonl-v1' }, contentLength: 900 })),
    ).toBeUndefined();
    expect(await none(async () => Promise.reject(Object.assign(new Error('nf'), { statusCode: 404 })))).toBeUndefined();
    const unasked = jest.fn(async () => ({ metadata, contentLength: 900 }));
    expect(await none(unasked, stagePlan({ versioned: false }))).toBeUndefined();
    expect(unasked).not.toHaveBeenCalled();
    await expect(
      none(async () => Promise.reject(Object.assign(new Error('boom'), { statusCode: 500 }))),
    ).rejects.toThrow('boom');
  });

  test('a reused split must pass this run threshold, and a split without rows is refused', () => {
    const split = stagedSplitOf(stagePlan(), ds, result, 'first 5%');
    expect(() => checkReused(split, 'ds train', 0.2)).not.toThrow();
    expect(() => checkReused(split, 'ds train', 0.05)).toThrow(PlanRefusal);
    expect(() => checkReused(split, 'ds train', 0.05)).toThrow(/\(dataset\.maxInvalidFraction\)$/);
    expect(requireRows(split, 'dataset.trainSplit')).toBe(split);
    const empty = { ...split, rows: 0, sourceRows: 0, origin: 'a.jsonl' };
    expect(() => requireRows(empty, 'dataset.files.train')).toThrow(
      'dataset.files.train: a.jsonl has no rows to train on (the file is empty or has blank lines only)',
    );
    expect(() => requireRows({ ...empty, sourceRows: 4 }, 'f')).toThrow(/none of its 4 rows is kept/);
  });

  test('a file used as it is, and the result over the roles', () => {
    const asIs = asIsSplitOf(
      {
        mode: 'asIs',
        role: 'train',
        split: 'train',
        label: 'l',
        bytes: {} as never,
        key: 'as-is:a.jsonl',
        blobPath: 'a.jsonl',
      },
      ds,
      {
        sourceRows: 3,
        rows: 3,
        bytes: 30,
        sha256: 'cd'.repeat(32),
        invalid: { total: 3, valid: 3, invalid: 0, byReason: {}, examples: [] },
      },
    );
    expect(asIs).toMatchObject({ usedAsIs: true, sha256Of: 'bytes', sampling: 'first 100%', reused: false });
    const test = stagedSplitOf(stagePlan({ key: 'k2', split: 'test_sft' }), ds, result, 'first 5%');
    const plans = {
      train: stagePlan(),
      test: stagePlan({ key: 'k2', split: 'test_sft' }),
      scoring: stagePlan({ key: 'k2', split: 'test_gen' }),
    } as Record<'train' | 'test' | 'scoring', SplitPlan>;
    const staged = new Map<string, StagedSplit>([
      ['k1', stagedSplitOf(stagePlan(), ds, result, 'first 5%')],
      ['k2', test],
    ]);
    const out = stagedDataset('sha1', plans, staged);
    expect(out.contentKey).toBe(stableHash(JSON.stringify(['k1', 'k2', 'k2'])));
    expect([out.train.split, out.test.split, out.scoring.split]).toEqual(['train_sft', 'test_sft', 'test_gen']);
    expect(out.scoring).toEqual({ ...test, split: 'test_gen' });
    expect(() => stagedDataset('sha1', plans, new Map())).toThrow('internal: train was not staged');
  });
});
