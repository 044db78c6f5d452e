// The stageDataset activity over the local stack: the emulator's Hub and datastore, Azurite. Sources
// (Hub, local, http, datastore), the slice rule, validation and its threshold, and upload-once.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastify, { type FastifyInstance } from 'fastify';
import type { ContainerClient } from '@azure/storage-blob';
import type { OpenDatastore } from '../../src/azure/datastore';
import { DEFAULT_REPO_ID, SHARD_FILES, hubInvalidRows, hubSplitRows } from '../../devstack/emulator/hub';
import { sliceRowCount, toJsonLine, type ChatRow } from '../../src/dataset';
import {
  download,
  expectedHubJsonl,
  failureOf,
  range,
  runStage,
  spyOnBlobWrites,
  stackDeps,
  stageActivity,
  type StageFn,
} from './stageDatasetHelpers';

function chat(i: number): ChatRow {
  const text = `how do I fix bug ${i}? über/ünter`;
  return {
    prompt: text,
    prompt_id: createHash('sha256').update(text).digest('hex'),
    messages: [
      { content: text, role: 'user' },
      { content: `like this ${i}`, role: 'assistant' },
    ],
  };
}

/** n rows of JSONL; rows in `invalid` have no assistant turn. */
function jsonl(n: number, invalid: Set<number> = new Set()): { text: string; staged: string } {
  let text = '';
  let staged = '';
  for (let i = 0; i < n; i++) {
    if (invalid.has(i)) {
      text += JSON.stringify({ prompt: 'q', prompt_id: `bad${i}`, messages: [{ role: 'user', content: 'q' }] }) + '\n';
      continue;
    }
    text += JSON.stringify(chat(i)) + '\n';
    staged += toJsonLine(chat(i)) + '\n';
  }
  return { text, staged };
}

describe('stageDataset activity', () => {
  let stage: StageFn;
  let ds: OpenDatastore;
  let container: ContainerClient;
  let dir: string;
  let server: FastifyInstance;
  let serverUrl: string;
  const served = new Map<string, Buffer>();

  beforeAll(async () => {
    const deps = stackDeps();
    stage = stageActivity(deps);
    ds = await deps.datastore();
    container = ds.container;
    dir = await mkdtemp(join(tmpdir(), 'ftflow-stage-activity-'));
    // a plain file server with ETag and Range support (the http(s) source); a download stopped after
    // the slice leaves undici with a spare connection, which close() would otherwise wait out
    server = fastify({ forceCloseConnections: true });
    server.get<{ Params: { name: string } }>('/files/:name', async (req, reply) => {
      const data = served.get(req.params.name);
      if (!data) return reply.code(404).send('not found');
      reply.header('ETag', `"${createHash('sha1').update(data).digest('hex')}"`).header('Accept-Ranges', 'bytes');
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (m) {
        const start = Number(m[1]);
        return reply
          .code(206)
          .header('Content-Range', `bytes ${start}-${data.length - 1}/${data.length}`)
          .send(data.subarray(start));
      }
      return reply.send(data);
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    serverUrl = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('Hub source: takes exactly the first pct% of each split ("closest" rounding, ties to even), as pandas JSONL', async () => {
    // 4.625% of 2000 = 92.5 → 92 and of 400 = 18.5 → 18: ties round to the even neighbour
    const { result, heartbeats } = runStage(stage, { percent: 4.625 });
    const data = await result;
    expect(data.revision).toMatch(/^[0-9a-f]{40}$/);
    expect([data.train.sourceRows, data.test.sourceRows, data.scoring.sourceRows]).toEqual([92, 18, 18]);
    expect(data.train.sourceRows).toBe(sliceRowCount(hubSplitRows('train_sft'), 4.625));
    expect(data.train).toMatchObject({
      split: 'train_sft',
      rows: 92,
      reused: false,
      sampling: 'first 4.625%',
      sha256Of: 'blocks',
      resumedAtRow: 0,
    });
    expect(data.train.uri).toBe(`azureml://datastores/${ds.name}/paths/${data.train.blobPath}`);
    expect(data.train.blobPath).toMatch(
      new RegExp(`^finetune-flow/datasets/HuggingFaceH4_ultrachat_200k/${data.train.contentKey}/train_sft\\.jsonl$`),
    );
    expect((await download(container, data.train.blobPath)).toString('utf8')).toBe(
      expectedHubJsonl('train_sft', range(92)),
    );
    expect((await download(container, data.scoring.blobPath)).toString('utf8')).toBe(
      expectedHubJsonl('test_gen', range(18)),
    );
    const props = await container.getBlobClient(data.test.blobPath).getProperties();
    expect(props.metadata).toMatchObject({
      ftflowcontentkey: data.test.contentKey,
      ftflowrows: '18',
      ftflowsha256: data.test.sha256,
      ftflowsampling: 'first 4.625%',
    });
    expect(props.contentType).toBe('application/jsonl; charset=utf-8');
    expect(heartbeats.length).toBeGreaterThan(0);
    expect(heartbeats.at(-1)).toMatchObject({ split: 'test_gen', rowsRead: 18, rowsWritten: 18 });
  });

  test('a re-run finds the complete blobs by content key and uploads nothing', async () => {
    const spec = { percent: 37.5 };
    const first = await runStage(stage, spec).result;
    expect([first.train.reused, first.test.reused, first.scoring.reused]).toEqual([false, false, false]);
    const before = await Promise.all(
      [first.train, first.test, first.scoring].map((s) => container.getBlobClient(s.blobPath).getProperties()),
    );

    const writes = spyOnBlobWrites();
    try {
      const again = await runStage(stage, spec).result;
      expect(writes.count()).toBe(0);
      expect([again.train.reused, again.test.reused, again.scoring.reused]).toEqual([true, true, true]);
      for (const role of ['train', 'test', 'scoring'] as const) {
        expect(again[role]).toMatchObject({
          blobPath: first[role].blobPath,
          sha256: first[role].sha256,
          rows: first[role].rows,
          bytes: first[role].bytes,
          sourceRows: first[role].sourceRows,
        });
        expect(again[role].invalid).toEqual(first[role].invalid);
      }
      expect(again.contentKey).toBe(first.contentKey);
    } finally {
      writes.restore();
    }
    const after = await Promise.all(
      [first.train, first.test, first.scoring].map((s) => container.getBlobClient(s.blobPath).getProperties()),
    );
    expect(after.map((p) => [p.etag, p.lastModified?.getTime()])).toEqual(
      before.map((p) => [p.etag, p.lastModified?.getTime()]),
    );
    // a different percent is other content: a different key and path
    const other = await runStage(stage, { percent: 40 }).result;
    expect(other.train.contentKey).not.toBe(first.train.contentKey);
    expect(other.train.reused).toBe(false);
  });

  test('invalid rows are counted by reason with the first examples; over the threshold the run fails and commits nothing', async () => {
    // 50% of train_sft = 1000 rows, 5 of them planted invalid (0.5%), one of each kind
    const planted = hubInvalidRows('train_sft', {}, 1000);
    expect(planted.length).toBe(5);
    const data = await runStage(stage, { percent: 50 }).result;
    expect(data.train.invalid).toMatchObject({
      count: 5,
      fraction: 0.005,
      examples: planted.slice(0, 3).map((p) => ({ row: p.index, reason: p.reason })),
    });
    expect(data.train.invalid.byReason).toEqual(Object.fromEntries(planted.map((p) => [p.reason, 1])));
    expect(data.train.rows).toBe(995);

    const listStaged = async (): Promise<string[]> => {
      const names: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix: 'finetune-flow/datasets/' })) names.push(b.name);
      return names.sort();
    };
    const before = await listStaged();
    // a new slice fails as soon as it is over the threshold, and commits nothing
    const fresh = await failureOf(runStage(stage, { percent: 50.05, maxInvalidFraction: 0.004 }).result);
    expect(fresh.message).toMatch(
      /HuggingFaceH4\/ultrachat_200k train_sft\[0%:50.05%\]: 5 of the first 934 rows are invalid, already 0.5% of the 1001 rows.*more than the allowed 0.4%.*dataset\.maxInvalidFraction/,
    );
    expect(fresh.nonRetryable).toBe(true);
    expect(await listStaged()).toEqual(before);
    // a staged slice that an earlier run allowed is held to this run's threshold too
    const reused = await failureOf(runStage(stage, { percent: 50, maxInvalidFraction: 0.004 }).result);
    expect(reused.message).toMatch(
      /train_sft\[0%:50%\]: 5 of 1000 rows are invalid \(0.5%\), more than the allowed 0.4%/,
    );
    expect(reused.nonRetryable).toBe(true);
  });

  test('local files: JSONL and parquet, all rows by default; scoring defaults to the test file (one blob)', async () => {
    const train = jsonl(120, new Set([7]));
    const trainPath = join(dir, 'train.jsonl');
    await writeFile(trainPath, train.text);
    const hubFile = `${process.env.HF_ENDPOINT}/datasets/${DEFAULT_REPO_ID}/resolve/main/${SHARD_FILES.test_sft[0]}`;
    const testPath = join(dir, 'test_sft.parquet');
    await writeFile(testPath, Buffer.from(await (await fetch(hubFile)).arrayBuffer()));

    const data = await runStage(stage, { files: { train: trainPath, test: testPath } }).result;
    expect(data.revision).toMatch(/^files-[0-9a-f]{16}$/);
    expect(data.train).toMatchObject({
      split: 'train',
      sourceRows: 120,
      rows: 119,
      origin: trainPath,
      sampling: 'first 100%',
    });
    expect(data.train.invalid).toMatchObject({
      count: 1,
      byReason: { no_assistant_turn: 1 },
      examples: [{ row: 7, reason: 'no_assistant_turn' }],
    });
    expect(data.train.blobPath).toBe(`finetune-flow/datasets/files/${data.train.contentKey}/train.jsonl`);
    expect((await download(container, data.train.blobPath)).toString('utf8')).toBe(train.staged);
    expect(data.test).toMatchObject({ split: 'test', sourceRows: 400, rows: 398 });
    expect((await download(container, data.test.blobPath)).toString('utf8')).toBe(
      expectedHubJsonl('test_sft', range(400)),
    );
    expect(data.scoring).toMatchObject({ split: 'scoring', blobPath: data.test.blobPath, sha256: data.test.sha256 });

    // editing the file changes its version, so it is staged again under a new key
    await writeFile(trainPath, jsonl(60).text);
    const edited = await runStage(stage, { files: { train: trainPath, test: testPath } }).result;
    expect(edited.train).toMatchObject({ rows: 60, reused: false });
    expect(edited.train.contentKey).not.toBe(data.train.contentKey);
    expect(edited.test.reused).toBe(true);
  });

  test('http(s) source: JSONL streamed from a URL, sliced after a counting pass', async () => {
    const rows = jsonl(300);
    served.set('chat.jsonl', Buffer.from(rows.text));
    const url = `${serverUrl}/files/chat.jsonl`;
    const data = await runStage(stage, { files: { train: url, test: url }, percent: 25 }).result;
    expect(data.train).toMatchObject({ sourceRows: 75, rows: 75, origin: url, sampling: 'first 25%' });
    expect((await download(container, data.train.blobPath)).toString('utf8')).toBe(
      rows.staged.split('\n').slice(0, 75).join('\n') + '\n',
    );
    expect(data.test.blobPath).toBe(data.train.blobPath);

    const missing = await failureOf(
      runStage(stage, { files: { train: `${serverUrl}/files/nope.jsonl`, test: url } }).result,
    );
    expect(missing.message).toMatch(/dataset\.files\.train: reading .*nope\.jsonl: HTTP 404/);
    expect(missing.nonRetryable).toBe(true);
  });

  test('datastore files (azureml:// or the blob URL) are used as they are: verified and validated, nothing copied', async () => {
    const rows = jsonl(50, new Set([3]));
    await container.getBlockBlobClient('user-data/chat/train.jsonl').upload(rows.text, Buffer.byteLength(rows.text));
    await container
      .getBlockBlobClient('user-data/chat/sample.jsonl')
      .upload(jsonl(5).text, Buffer.byteLength(jsonl(5).text));
    const train = `azureml://datastores/${ds.name}/paths/user-data/chat/train.jsonl`;
    const sample = `${container.url}/user-data/chat/sample.jsonl`;

    const writes = spyOnBlobWrites();
    let data;
    try {
      data = await runStage(stage, { files: { train, test: train, scoring: sample }, maxInvalidFraction: 0.05 }).result;
      expect(writes.count()).toBe(0);
    } finally {
      writes.restore();
    }
    expect(data.train).toMatchObject({
      usedAsIs: true,
      uri: train,
      blobPath: 'user-data/chat/train.jsonl',
      sourceRows: 50,
      rows: 49,
      sha256Of: 'bytes',
    });
    expect(data.train.sha256).toBe(createHash('sha256').update(rows.text).digest('hex'));
    expect(data.train.invalid.count).toBe(1);
    expect(data.scoring).toMatchObject({
      usedAsIs: true,
      uri: `azureml://datastores/${ds.name}/paths/user-data/chat/sample.jsonl`,
      rows: 5,
    });

    // a slice of a datastore file is staged (copied), like any other file
    const sliced = await runStage(stage, { files: { train, test: train }, percent: 50, maxInvalidFraction: 0.05 })
      .result;
    expect(sliced.train).toMatchObject({ sourceRows: 25, rows: 24, reused: false });
    expect(sliced.train.usedAsIs).toBeUndefined();

    const missing = await failureOf(
      runStage(stage, { files: { train, test: `azureml://datastores/${ds.name}/paths/user-data/nope.jsonl` } }).result,
    );
    expect(missing.message).toMatch(
      /dataset\.files\.test: reading azureml:\/\/datastores\/.*\/paths\/user-data\/nope\.jsonl: the blob does not exist/,
    );
    expect(missing.nonRetryable).toBe(true);
    const other = await failureOf(
      runStage(stage, { files: { train: 'azureml://datastores/elsewhere/paths/a.jsonl', test: train } }).result,
    );
    expect(other.message).toMatch(
      /dataset\.files\.train: datastore "elsewhere" is not the workspace's default datastore/,
    );
  });

  test('a dataset or split the Hub does not have fails for good, naming the field', async () => {
    const err = await failureOf(runStage(stage, { trainSplit: 'train_rl' }).result);
    expect(err.message).toMatch(
      /has no split "train_rl"; its splits are: train_sft, test_sft, train_gen, test_gen \(dataset\.trainSplit\)/,
    );
    expect(err.nonRetryable).toBe(true);
  });
});
