// Staging a fixed parquet input gives, byte for byte, what it gave before the staging path was made
// faster: the same JSONL (sha256), blocks, content hash, row counts and invalid rows. The expected
// figures were recorded with the staging code of commits e6ea18b (parquet text decoded to strings)
// and 0155e96 (text kept as UTF-8 bytes), which agree: a 5% slice, a slice that crosses a shard in
// the middle of a row group, whole splits, and a hash sample.
import { createHash } from 'node:crypto';
import {
  hubSplitSource,
  listSplitFiles,
  resolveRevision,
  stageSplit,
  type BlockBlobTarget,
  type Sampling,
} from '../../src/dataset';
import { DEFAULT_REPO_ID } from '../../devstack/emulator/hub';
import { startHub, type RunningHub } from './hubServer';

/** Three train_sft shards of 334/333/333 rows in row groups of 100, one planted invalid row in 40. */
const OPTS = {
  rowsPerSplit: { train_sft: 1000, test_sft: 250, train_gen: 10, test_gen: 10 },
  rowGroupSize: 100,
  invalidEvery: 40,
};

class MemoryBlob implements BlockBlobTarget {
  readonly staged = new Map<string, Buffer>();
  committed: string[] = [];
  async stageBlock(id: string, body: Buffer): Promise<void> {
    this.staged.set(id, Buffer.from(body));
  }
  async commitBlockList(ids: string[]): Promise<void> {
    this.committed = [...ids];
  }
  content(): Buffer {
    return Buffer.concat(this.committed.map((id) => this.staged.get(id) as Buffer));
  }
}

interface Staged {
  jsonlSha256: string;
  contentHash: string;
  bytes: number;
  blocks: number;
  rows: number;
  sourceRows: number;
  invalid: Record<string, number>;
}

const CASES: { split: string; percent: number; sampling?: Sampling; expected: Staged }[] = [
  {
    split: 'train_sft',
    percent: 5,
    expected: {
      jsonlSha256: '7e25d15bcb718114e7513225263d24f3badd729e4de3ac7aea20bca668363011',
      contentHash: 'ac642bfdedd4d94066c6ca96797d8929a5979d710722fc1e91cd3e7799a93084',
      bytes: 120301,
      blocks: 2,
      rows: 49,
      sourceRows: 50,
      invalid: { messages_empty: 1 },
    },
  },
  {
    split: 'train_sft',
    percent: 45,
    expected: {
      jsonlSha256: 'bd8bee45f1bc6ea942cd9d94fb045946911ccb8bc8417957983664c52b6b9cc2',
      contentHash: 'be1df7d8db5d7c432ddb6b25881791e311b42d6228dc233f9a76d14e74bd12a3',
      bytes: 1065761,
      blocks: 16,
      rows: 439,
      sourceRows: 450,
      invalid: { messages_empty: 3, no_assistant_turn: 2, empty_content: 2, bad_role: 2, messages_missing: 2 },
    },
  },
  {
    split: 'train_sft',
    percent: 100,
    expected: {
      jsonlSha256: 'f5da967cdd0688b3bb8021ad85ebd1fa40a83ea5a1ec1c8371213923ba4bc772',
      contentHash: 'f12b688a21d048145d7ade9b090ae779cced8df57a2c3b77297eab96f35d3be7',
      bytes: 2254819,
      blocks: 34,
      rows: 975,
      sourceRows: 1000,
      invalid: { messages_empty: 5, no_assistant_turn: 5, empty_content: 5, bad_role: 5, messages_missing: 5 },
    },
  },
  {
    split: 'test_sft',
    percent: 100,
    expected: {
      jsonlSha256: 'facbee858ccb28957bcf12ad71e216ecfc103a9afa2a43ee4751650eabae0d99',
      contentHash: 'ab853efc9e8768fa659b3d9d56011f4222ec3e882290b1ac0ccc719c90d161b3',
      bytes: 565276,
      blocks: 9,
      rows: 244,
      sourceRows: 250,
      invalid: { messages_empty: 2, no_assistant_turn: 1, empty_content: 1, bad_role: 1, messages_missing: 1 },
    },
  },
  {
    split: 'train_sft',
    percent: 30,
    sampling: { method: 'hash', seed: 7 },
    expected: {
      jsonlSha256: '38fe1d781067837e9b58573b5ed20c7253230f5c5144a66f3232b84a7ec7d299',
      contentHash: '58079665124847004388b55def8742871f719ee95fc1df9540307ddf6b111e0f',
      bytes: 654783,
      blocks: 10,
      rows: 280,
      sourceRows: 292,
      invalid: { messages_empty: 2, no_assistant_turn: 3, bad_role: 4, empty_content: 2, messages_missing: 1 },
    },
  },
];

describe('staged bytes for a fixed parquet input', () => {
  let hub: RunningHub;
  let revision: string;

  beforeAll(async () => {
    hub = await startHub(OPTS);
    revision = await resolveRevision({ endpoint: hub.endpoint }, DEFAULT_REPO_ID, 'main');
  });
  afterAll(async () => {
    await hub.close();
  });

  async function stage(split: string, percent: number, sampling?: Sampling): Promise<Staged> {
    const files = await listSplitFiles({ endpoint: hub.endpoint }, DEFAULT_REPO_ID, revision, split);
    const blob = new MemoryBlob();
    const result = await stageSplit({
      source: hubSplitSource(DEFAULT_REPO_ID, revision, split, files, {}),
      target: blob,
      label: `${split}[:${percent}%]`,
      percent,
      ...(sampling ? { sampling } : {}),
      maxInvalidFraction: 0.05,
      blockBytes: 64 * 1024,
    });
    const content = blob.content();
    return {
      jsonlSha256: createHash('sha256').update(content).digest('hex'),
      contentHash: result.sha256,
      bytes: content.length,
      blocks: result.blocks,
      rows: result.rows,
      sourceRows: result.sourceRows,
      invalid: result.invalid.byReason as Record<string, number>,
    };
  }

  test.each(CASES.map((c) => [`${c.split} ${c.percent}%${c.sampling ? ' hash' : ''}`, c] as const))(
    '%s: the same JSONL, blocks, hash and counts as before',
    async (_name, c) => {
      expect(await stage(c.split, c.percent, c.sampling)).toEqual(c.expected);
    },
  );
});
