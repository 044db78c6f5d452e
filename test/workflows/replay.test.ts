// Determinism guard: every history recorded from a real run (test/fixtures/histories, see its README)
// must replay against the current workflow code. A change that would break running workflows fails here.
// Replayed as both kinds of worker run it: with tracing on (OpenTelemetry's workflow interceptors in every
// run) and off (src/workflows/tracingInterceptors.ts loads them only for runs recorded with them). Tracing
// adds yield points to update handling, so a traced history with updates replays only with them
// (fixture-keep-alive-updates.json): the last test shows the stand-in is what keeps it replaying.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { workerTelemetryOptions, workflowInterceptorModules } from '../../src/observability';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');
const quiet = () => undefined;
const quietLogger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('recorded workflow histories replay on the current code', () => {
  test('there are recorded histories to replay', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
  });

  // Bundled once per kind of worker (as `npm run bundle` does), not once per replay.
  const bundles = new Map<string, Promise<string>>();
  const bundle = (workflowModules: string[]) => {
    const key = workflowModules.join('|');
    if (!bundles.has(key))
      bundles.set(
        key,
        bundleWorkflowCode({
          workflowsPath: require.resolve('../../src/workflows'),
          workflowInterceptorModules: workflowModules,
          logger: quietLogger,
        }).then((b) => b.code),
      );
    return bundles.get(key) as Promise<string>;
  };

  const replay = async (file: string, workflowModules: string[]) => {
    const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as {
      events?: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[];
    };
    // Under the recorded workflow id: workflows derive names from it (scheduledFineTune its child's id).
    const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file;
    return Worker.runReplayHistory(
      { workflowBundle: { code: await bundle(workflowModules) }, ...workerTelemetryOptions({ prebuiltBundle: true }) },
      history as Parameters<typeof Worker.runReplayHistory>[1],
      workflowId,
    );
  };

  test.each(fixtures)('%s replays without nondeterminism, tracing on and off', async (file) => {
    await expect(replay(file, workflowInterceptorModules(true))).resolves.toBeUndefined();
    await expect(replay(file, workflowInterceptorModules(false))).resolves.toBeUndefined();
  });

  test('a traced history with updates needs the tracing interceptors the stand-in loads for it', async () => {
    const withoutTracing = workflowInterceptorModules(false).slice(1);
    await expect(replay('fixture-keep-alive-updates.json', withoutTracing)).rejects.toThrow(/[Nn]ondetermin/);
  });
});
