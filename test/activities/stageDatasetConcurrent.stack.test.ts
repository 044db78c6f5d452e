// Several runs staging the same slice at the same moment (same content key, so the same blob path):
// every one must succeed and end with the same committed blob.
import { runStage, stackDeps, stageActivity } from './stageDatasetHelpers';

test('four runs staging the same slice at once all succeed with one identical blob', async () => {
  const stage = stageActivity(stackDeps());
  // A percent no other test uses, so the blob does not exist yet and all four really upload.
  const dataset = { percent: 38, trainSplit: 'train_sft', testSplit: 'test_sft', scoringSplit: 'test_sft' };
  const runs = Array.from({ length: 4 }, () => runStage(stage, dataset));
  const results = await Promise.all(runs.map((r) => r.result));
  const hashes = new Set(results.map((r) => `${r.train.blobPath} ${r.train.sha256} ${r.train.rows}`));
  expect(hashes.size).toBe(1);
  expect(results[0].train.rows).toBeGreaterThan(0);
  // They raced: more than one of them staged and committed the blob itself.
  expect(results.filter((r) => !r.train.reused).length).toBeGreaterThanOrEqual(2);
  const again = await runStage(stage, dataset).result;
  expect(again.train).toMatchObject({ reused: true, sha256: results[0].train.sha256, rows: results[0].train.rows });
}, 120_000);
