// Determinism guard: every history recorded from a real run (test/fixtures/histories, see its README)
// must replay against the current workflow code. A change that would break running workflows fails here.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('recorded fineTune histories replay on the current code', () => {
  test('there are recorded histories to replay', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
  });

  test.each(fixtures)('%s replays without nondeterminism', async (file) => {
    const history: unknown = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
    await expect(
      Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows') }, history as Parameters<typeof Worker.runReplayHistory>[1], file),
    ).resolves.toBeUndefined();
  });
});
