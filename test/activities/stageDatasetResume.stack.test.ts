// stageDataset over the local stack: a worker restarted mid-split continues from the last heartbeat and
// produces the same blob, and hash sampling by prompt_id is deterministic and about pct% of the rows.
import { CancelledFailure } from '@temporalio/common';
import type { OpenDatastore } from '../../src/azure/datastore';
import { makeStageDataset } from '../../src/activities/stageDataset';
import { hubExpectedRow, hubSplitRows } from '../../devstack/emulator/hub';
import { blockListSha256Of, inHashSample, type StageHeartbeat } from '../../src/dataset';
import {
  download,
  expectedHubJsonl,
  range,
  runStage,
  spyOnBlobWrites,
  stackDeps,
  stageActivity,
  type StageFn,
} from './stageDatasetHelpers';

const BLOCK_BYTES = 64 * 1024;

describe('stageDataset: resume and sampling', () => {
  let ds: OpenDatastore;
  let stage: StageFn;

  beforeAll(async () => {
    const deps = stackDeps();
    ds = await deps.datastore();
    // small blocks, so the emulator's 2,000-row train_sft makes a few dozen of them
    stage = makeStageDataset(deps, { blockBytes: BLOCK_BYTES });
  });

  test('a worker restarted mid-split continues after the last heartbeat and commits a byte-identical blob', async () => {
    const spec = { percent: 100 };
    const first = runStage(stage, spec, {
      onHeartbeat: (beat, env) => {
        if (beat.split === 'train_sft' && (beat.checkpoint?.blocks.length ?? 0) >= 10) env.cancel(); // the worker dies here
      },
    });
    await expect(first.result).rejects.toBeInstanceOf(CancelledFailure);
    const last = first.heartbeats.filter((b) => b.checkpoint).at(-1) as StageHeartbeat & {
      checkpoint: NonNullable<StageHeartbeat['checkpoint']>;
    };
    expect(last.checkpoint.blocks.length).toBe(10);
    expect(last.checkpoint.nextRow).toBeGreaterThan(0);
    expect(last).toMatchObject({ split: 'train_sft', total: hubSplitRows('train_sft') });
    expect(last.rowsRead).toBeGreaterThanOrEqual(last.checkpoint.nextRow);
    expect(last.checkpoint.bytes).toBeGreaterThanOrEqual(10 * BLOCK_BYTES);

    const writes = spyOnBlobWrites();
    let second;
    try {
      second = runStage(stage, spec, { heartbeatDetails: last, attempt: 2 });
      const data = await second.result;
      // it went on from block 10 and row nextRow, not from the start
      const trainBlocks = data.train.blocks ?? 0;
      expect(writes.stagedIds().slice(0, trainBlocks - 10)).toEqual(
        range(trainBlocks, 10).map((i) => `ftflow-block-${String(i).padStart(6, '0')}`),
      );
      expect(data.train.resumedAtRow).toBe(last.checkpoint.nextRow);
      expect(data.train).toMatchObject({ sourceRows: 2000, scannedRows: 2000, reused: false });
      expect(data.train.invalid.count).toBe(10);

      const blob = await download(ds.container, data.train.blobPath);
      expect(blob.toString('utf8')).toBe(expectedHubJsonl('train_sft', range(2000)));
      const committed = await ds.container.getBlockBlobClient(data.train.blobPath).getBlockList('committed');
      const sizes = (committed.committedBlocks ?? []).map((b) => b.size);
      expect(sizes.length).toBe(data.train.blocks);
      expect(data.train.sha256).toBe(blockListSha256Of(blob, sizes));
      expect(data.train.bytes).toBe(blob.length);
    } finally {
      writes.restore();
    }
    // until it had staged something new, the restarted worker kept reporting the old resume point
    expect(second.heartbeats[0]).toMatchObject({ key: last.key, checkpoint: { nextRow: last.checkpoint.nextRow } });
  });

  test('hash sampling keeps the rows whose hash(seed, prompt_id) is below pct%: deterministic, about pct%, a new seed a new sample', async () => {
    const stageDefault = stageActivity(stackDeps());
    const data = await runStage(stageDefault, {
      percent: 30,
      sampling: { method: 'hash', seed: 7 },
      maxInvalidFraction: 0.02,
    }).result;
    const kept = range(2000).filter((i) => inHashSample(7, hubExpectedRow('train_sft', i).prompt_id, 30));
    expect(data.train).toMatchObject({ sampling: 'hash(seed 7) 30%', sourceRows: kept.length, scannedRows: 2000 });
    expect(Math.abs(kept.length - 600)).toBeLessThan(5 * Math.sqrt(2000 * 0.3 * 0.7));
    expect((await download(ds.container, data.train.blobPath)).toString('utf8')).toBe(
      expectedHubJsonl('train_sft', kept),
    );

    const again = await runStage(stageDefault, {
      percent: 30,
      sampling: { method: 'hash', seed: 7 },
      maxInvalidFraction: 0.02,
    }).result;
    expect(again.train).toMatchObject({ reused: true, contentKey: data.train.contentKey, sha256: data.train.sha256 });
    const other = await runStage(stageDefault, {
      percent: 30,
      sampling: { method: 'hash', seed: 8 },
      maxInvalidFraction: 0.02,
    }).result;
    expect(other.train.contentKey).not.toBe(data.train.contentKey);
    expect(other.train.sha256).not.toBe(data.train.sha256);
  });
});
