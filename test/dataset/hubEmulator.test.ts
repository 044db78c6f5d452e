// The Hub stand-in answers the Hub's routes with the Hub's shapes, codes and headers.
import { createHash } from 'node:crypto';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import {
  DEFAULT_REPO_ID,
  PLANTED_INVALID_KINDS,
  SHARD_FILES,
  hubCommit,
  hubExpectedRow,
  invalidReasonAt,
} from '../../devstack/emulator/hub';
import { INVALID_REASONS, validateChatRow } from '../../src/dataset/validate';
import { startHub, type RunningHub } from './hubServer';

const REPO = DEFAULT_REPO_ID;
const TOKEN = 'hf_test_token_123';

interface Entry {
  type: string;
  oid: string;
  size: number;
  path: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

describe('Hub emulator', () => {
  let hub: RunningHub;
  const opts = { rowsPerSplit: { train_sft: 900, test_sft: 130, train_gen: 600, test_gen: 90 }, rowGroupSize: 100 };

  beforeAll(async () => {
    hub = await startHub(opts);
  });
  afterAll(async () => {
    await hub.close();
  });

  const get = (path: string, init?: RequestInit): Promise<Response> => fetch(`${hub.endpoint}${path}`, init);

  test('repo info has id, sha, siblings and the card with the four splits', async () => {
    const res = await get(`/api/datasets/${REPO}`);
    expect(res.status).toBe(200);
    const info = (await res.json()) as Record<string, unknown>;
    expect(info['id']).toBe(REPO);
    expect(info['sha']).toBe(hubCommit(opts));
    expect(info['sha']).toMatch(/^[0-9a-f]{40}$/);
    const siblings = (info['siblings'] as { rfilename: string }[]).map((s) => s.rfilename);
    expect(siblings).toEqual(
      expect.arrayContaining(['README.md', '.gitattributes', ...Object.values(SHARD_FILES).flat()]),
    );
    expect(siblings).toHaveLength(2 + 8);
    const card = info['cardData'] as {
      configs: { config_name: string; data_files: { split: string; path: string }[] }[];
      dataset_info: { splits: { name: string; num_examples: number }[] };
    };
    expect(card.configs[0].config_name).toBe('default');
    expect(card.configs[0].data_files).toEqual([
      { split: 'train_sft', path: 'data/train_sft-*' },
      { split: 'test_sft', path: 'data/test_sft-*' },
      { split: 'train_gen', path: 'data/train_gen-*' },
      { split: 'test_gen', path: 'data/test_gen-*' },
    ]);
    expect(card.dataset_info.splits.map((s) => [s.name, s.num_examples])).toEqual([
      ['train_sft', 900],
      ['test_sft', 130],
      ['train_gen', 600],
      ['test_gen', 90],
    ]);
  });

  test('revision endpoint: main and the sha work, an unknown revision is RevisionNotFound', async () => {
    const sha = hubCommit(opts);
    for (const rev of ['main', sha, sha.slice(0, 7)]) {
      const res = await get(`/api/datasets/${REPO}/revision/${rev}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { sha: string }).sha).toBe(sha);
    }
    const bad = await get(`/api/datasets/${REPO}/revision/nope`);
    expect(bad.status).toBe(404);
    expect(bad.headers.get('x-error-code')).toBe('RevisionNotFound');
    const other = await get(`/api/datasets/someone/else`);
    expect(other.status).toBe(404);
    expect(other.headers.get('x-error-code')).toBe('RepoNotFound');
  });

  test('tree listing: data/ files with the layout names, lfs info and git ids; recursive root', async () => {
    const res = await get(`/api/datasets/${REPO}/tree/main/data`);
    expect(res.status).toBe(200);
    const entries = (await res.json()) as Entry[];
    expect(entries.map((e) => e.path)).toEqual(Object.values(SHARD_FILES).flat().sort());
    for (const e of entries) {
      expect(e.type).toBe('file');
      expect(e.oid).toMatch(/^[0-9a-f]{40}$/);
      expect(e.lfs?.oid).toMatch(/^[0-9a-f]{64}$/);
      expect(e.lfs?.size).toBe(e.size);
      expect(e.lfs?.pointerSize).toBeGreaterThan(100);
      expect(e.lfs?.pointerSize).toBeLessThan(200);
    }
    const root = (await (await get(`/api/datasets/${REPO}/tree/main`)).json()) as Entry[];
    expect(root.map((e) => [e.type, e.path])).toEqual([
      ['file', '.gitattributes'],
      ['file', 'README.md'],
      ['directory', 'data'],
    ]);
    expect(root.find((e) => e.path === 'README.md')?.lfs).toBeUndefined();
    const all = (await (await get(`/api/datasets/${REPO}/tree/main?recursive=true`)).json()) as Entry[];
    expect(all).toHaveLength(3 + 8);
    const missing = await get(`/api/datasets/${REPO}/tree/main/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-error-code')).toBe('EntryNotFound');
  });

  test('resolve serves the bytes; sha256 matches the lfs oid; the file is a real parquet file', async () => {
    const entries = (await (await get(`/api/datasets/${REPO}/tree/main/data`)).json()) as Entry[];
    const testSft = entries.find((e) => e.path.startsWith('data/test_sft-')) as Entry;
    const res = await get(`/datasets/${REPO}/resolve/main/${testSft.path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('x-repo-commit')).toBe(hubCommit(opts));
    expect(res.headers.get('etag')).toBe(`"${testSft.lfs?.oid}"`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(testSft.size);
    expect(Number(res.headers.get('content-length'))).toBe(testSft.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(testSft.lfs?.oid);

    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const meta = parquetMetadata(buffer);
    expect(Number(meta.num_rows)).toBe(130);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([100, 30]);
    expect(meta.key_value_metadata?.find((kv) => kv.key === 'huggingface')?.value).toContain('"messages"');
    // messages is a real nested list<struct<content, role>> column
    expect(meta.schema.map((s) => s.name)).toEqual([
      'schema',
      'prompt',
      'prompt_id',
      'messages',
      'list',
      'element',
      'content',
      'role',
    ]);
    const rows = await parquetReadObjects({ file: buffer, rowStart: 0, rowEnd: 3 });
    expect(rows).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const expected = hubExpectedRow('test_sft', i, opts);
      expect(rows[i]).toEqual(expected);
      expect(Array.isArray(rows[i]['messages'])).toBe(true);
      expect(Object.keys((rows[i]['messages'] as object[])[0])).toEqual(['content', 'role']);
      expect(rows[i]['prompt_id']).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test('Range requests: 206 with Content-Range, suffix ranges, 416 past the end; HEAD has the headers', async () => {
    const path = SHARD_FILES.train_sft[0];
    const full = Buffer.from(await (await get(`/datasets/${REPO}/resolve/main/${path}`)).arrayBuffer());
    const part = await get(`/datasets/${REPO}/resolve/${hubCommit(opts)}/${path}`, {
      headers: { Range: 'bytes=4-99' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 4-99/${full.length}`);
    expect(part.headers.get('content-length')).toBe('96');
    expect(Buffer.from(await part.arrayBuffer())).toEqual(full.subarray(4, 100));

    const tail = await get(`/datasets/${REPO}/resolve/main/${path}`, { headers: { Range: 'bytes=-8' } });
    expect(tail.status).toBe(206);
    const tailBytes = Buffer.from(await tail.arrayBuffer());
    expect(tailBytes).toEqual(full.subarray(full.length - 8));
    expect(tailBytes.subarray(4).toString()).toBe('PAR1');

    const past = await get(`/datasets/${REPO}/resolve/main/${path}`, { headers: { Range: `bytes=${full.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${full.length}`);

    const head = await get(`/datasets/${REPO}/resolve/main/${path}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(full.length);
    expect(head.headers.get('x-linked-size')).toBe(String(full.length));
    expect(head.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
    expect(head.headers.get('x-repo-commit')).toBe(hubCommit(opts));
  });

  test('resolve errors: EntryNotFound, RevisionNotFound, RepoNotFound', async () => {
    const noFile = await get(`/datasets/${REPO}/resolve/main/data/nope.parquet`);
    expect(noFile.status).toBe(404);
    expect(noFile.headers.get('x-error-code')).toBe('EntryNotFound');
    expect(((await noFile.json()) as { error: string }).error).toContain('data/nope.parquet');
    const noRev = await get(`/datasets/${REPO}/resolve/v9.9/${SHARD_FILES.test_gen[0]}`);
    expect(noRev.status).toBe(404);
    expect(noRev.headers.get('x-error-code')).toBe('RevisionNotFound');
    const noRepo = await get(`/datasets/x/y/resolve/main/README.md`);
    expect(noRepo.headers.get('x-error-code')).toBe('RepoNotFound');
  });

  test('README.md carries the card as YAML front matter', async () => {
    const text = await (await get(`/datasets/${REPO}/resolve/main/README.md`)).text();
    expect(text.startsWith('---\n')).toBe(true);
    expect(text).toContain('config_name: default');
    expect(text).toContain('path: data/train_sft-*');
    expect(text).toContain('num_examples: 900');
  });

  test('parquet-listing API and its redirect to the refs/convert/parquet branch', async () => {
    const all = (await (await get(`/api/datasets/${REPO}/parquet`)).json()) as Record<string, Record<string, string[]>>;
    expect(Object.keys(all)).toEqual(['default']);
    expect(Object.keys(all['default'])).toEqual(['train_sft', 'test_sft', 'train_gen', 'test_gen']);
    expect(all['default']['train_sft']).toEqual(
      [0, 1, 2].map((n) => `${hub.endpoint}/api/datasets/${REPO}/parquet/default/train_sft/${n}.parquet`),
    );
    const bySplit = (await (await get(`/api/datasets/${REPO}/parquet/default/test_gen`)).json()) as string[];
    expect(bySplit).toEqual([`${hub.endpoint}/api/datasets/${REPO}/parquet/default/test_gen/0.parquet`]);
    const byConfig = (await (await get(`/api/datasets/${REPO}/parquet/default`)).json()) as Record<string, string[]>;
    expect(byConfig['test_sft']).toHaveLength(1);
    expect((await get(`/api/datasets/${REPO}/parquet/default/nope`)).status).toBe(404);

    const redirect = await get(`/api/datasets/${REPO}/parquet/default/train_sft/1.parquet`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(
      `${hub.endpoint}/datasets/${REPO}/resolve/refs%2Fconvert%2Fparquet/default/train_sft/0001.parquet`,
    );
    const converted = Buffer.from(
      await (await get(`/api/datasets/${REPO}/parquet/default/train_sft/1.parquet`)).arrayBuffer(),
    );
    const original = Buffer.from(
      await (await get(`/datasets/${REPO}/resolve/main/${SHARD_FILES.train_sft[1]}`)).arrayBuffer(),
    );
    expect(converted.equals(original)).toBe(true);
    const convertTree = (await (
      await get(`/api/datasets/${REPO}/tree/refs%2Fconvert%2Fparquet/default?recursive=true`)
    ).json()) as Entry[];
    expect(convertTree.filter((e) => e.type === 'file').map((e) => e.path)).toContain('default/test_sft/0000.parquet');
  });
});

describe('Hub emulator with a token', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startHub({ token: TOKEN, rowsPerSplit: { train_sft: 30, test_sft: 10, train_gen: 30, test_gen: 10 } });
  });
  afterAll(async () => {
    await hub.close();
  });

  test('every route answers 401 without the bearer token or with a wrong one', async () => {
    for (const path of [
      `/api/datasets/${REPO}`,
      `/api/datasets/${REPO}/tree/main/data`,
      `/datasets/${REPO}/resolve/main/README.md`,
      `/api/datasets/${REPO}/parquet`,
    ]) {
      const none = await fetch(`${hub.endpoint}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('x-error-code')).toBe('GatedRepo');
      const wrong = await fetch(`${hub.endpoint}${path}`, { headers: { Authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('x-error-message')).toBe('Invalid credentials in Authorization header');
      const ok = await fetch(`${hub.endpoint}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
    }
  });
});

// The stand-in plants invalid rows without the product's dataset code (devstack/ never imports src/dataset):
// each planted kind must be a reason the product's validation knows, and be the reason it reports.
test('every kind of invalid row the Hub stand-in plants is rejected by the product for that same reason', () => {
  const every = 200;
  for (const kind of PLANTED_INVALID_KINDS) {
    expect(Object.keys(INVALID_REASONS)).toContain(kind);
    const index = Array.from({ length: every * PLANTED_INVALID_KINDS.length }, (_, i) => i).find(
      (i) => invalidReasonAt(i, every) === kind,
    );
    expect(index).toBeDefined();
    const result = validateChatRow(hubExpectedRow('train_sft', index!, { invalidEvery: every }));
    expect(result).toEqual({ ok: false, reason: kind });
  }
});
