// Workflow tracing on a worker with FTFLOW_TRACING off: OpenTelemetry's workflow interceptors are loaded
// only for runs whose history shows they ran with them (replay.test.ts replays such runs both ways), and a
// prebuilt bundle without them is not used by a worker with tracing on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SdkFlags } from '@temporalio/workflow/lib/flags';
import { ranWithTracing } from '../../src/workflows/tracingInterceptors';
import { bundleTracesEveryRun, workflowInterceptorModules } from '../../src/observability';
import { workerSettings } from '../../src/worker';

describe('workflow tracing interceptors', () => {
  test('a run recorded with the tracing interceptors is traced again; a new run is not', () => {
    expect(ranWithTracing(new Set([SdkFlags.OpenTelemetryInterceporsAvoidsExtraYields.id]))).toBe(true);
    expect(ranWithTracing(new Set([SdkFlags.OpenTelemetryInterceptorsInstrumentsAllMethods.id]))).toBe(true);
    expect(ranWithTracing(new Set())).toBe(false);
    expect(ranWithTracing(new Set([SdkFlags.NonCancellableScopesAreShieldedFromPropagation.id]))).toBe(false);
    // Without the SDK's flag set (not public API) every run keeps them, as before the stand-in.
    expect(ranWithTracing(undefined)).toBe(true);
  });

  test('tracing on bundles OpenTelemetry for every run, off the stand-in', () => {
    expect(workflowInterceptorModules(true)[0]).toMatch(/interceptors-opentelemetry/);
    expect(workflowInterceptorModules(false)[0]).toMatch(/workflows[/\\]tracingInterceptors/);
    expect(bundleTracesEveryRun('/* "./dist/workflows/tracingInterceptors.js" */')).toBe(false);
    expect(bundleTracesEveryRun('/* "@temporalio/interceptors-opentelemetry/lib/workflow-interceptors" */')).toBe(true);
  });

  test('a worker with tracing on bundles at start-up rather than use a bundle built without it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bundle-'));
    const lean = path.join(dir, 'lean.js');
    const traced = path.join(dir, 'traced.js');
    fs.writeFileSync(lean, '"./dist/workflows/tracingInterceptors.js"');
    fs.writeFileSync(traced, '"@temporalio/interceptors-opentelemetry/lib/workflow-interceptors"');
    try {
      const off = workerSettings({ FTFLOW_WORKFLOW_BUNDLE: lean });
      expect(off.workflowBundle).toBe(lean);
      expect(off.bundleNote).toBeUndefined();
      const on = workerSettings({ FTFLOW_WORKFLOW_BUNDLE: lean, FTFLOW_TRACING: 'console' });
      expect(on.workflowBundle).toBeUndefined();
      expect(on.bundleNote).toMatch(
        /FTFLOW_WORKFLOW_BUNDLE=.*lean\.js was built without workflow tracing.*npm run bundle -- --tracing/,
      );
      expect(workerSettings({ FTFLOW_WORKFLOW_BUNDLE: traced, FTFLOW_TRACING: 'console' }).workflowBundle).toBe(traced);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
