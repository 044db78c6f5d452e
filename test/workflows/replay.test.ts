// Determinism guard: every history recorded from a real run (test/fixtures/histories, see its README)
// must replay against the current workflow code. A change that would break running workflows fails here.
// Replayed as the worker runs it: with its workflow interceptors (tracing adds yield points to update
// handling, so a history with updates replays only with them: fixture-keep-alive-updates.json).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workerTelemetryOptions } from '../../src/observability';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('recorded workflow histories replay on the current code', () => {
  test('there are recorded histories to replay', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
  });

  test.each(fixtures)('%s replays without nondeterminism', async (file) => {
    const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as {
      events?: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[];
    };
    // Under the recorded workflow id: workflows derive names from it (scheduledFineTune its child's id).
    const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file;
    await expect(
      Worker.runReplayHistory(
        { workflowsPath: require.resolve('../../src/workflows'), ...workerTelemetryOptions({ prebuiltBundle: false }) },
        history as Parameters<typeof Worker.runReplayHistory>[1],
        workflowId,
      ),
    ).resolves.toBeUndefined();
  });
});
