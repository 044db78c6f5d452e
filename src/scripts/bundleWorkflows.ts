// `npm run bundle`: the workflows and their interceptors bundled once, at build time, into
// dist/workflow-bundle.js. A worker given FTFLOW_WORKFLOW_BUNDLE loads it instead of running webpack at
// start-up (seconds faster, and no bundler needed in the image's start path). `--tracing` bundles
// OpenTelemetry's workflow interceptors for every run, for workers with FTFLOW_TRACING on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowInterceptorModules } from '../observability';

export const DEFAULT_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflow-bundle.js');

export interface BundleOptions {
  /** OpenTelemetry's workflow interceptors in every run (default: only in runs that already ran with them). */
  tracing?: boolean;
}

export async function bundleWorkflows(
  outFile: string = DEFAULT_BUNDLE_PATH,
  options: BundleOptions = {},
): Promise<{ path: string; bytes: number; ms: number; tracing: boolean }> {
  const started = Date.now();
  const tracing = options.tracing ?? false;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: workflowInterceptorModules(tracing),
  });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, outFile);
  return { path: outFile, bytes: Buffer.byteLength(code), ms: Date.now() - started, tracing };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  bundleWorkflows(file ? path.resolve(file) : undefined, { tracing: args.includes('--tracing') }).then(
    (b) =>
      process.stdout.write(
        `workflow bundle: ${path.relative(process.cwd(), b.path)} (${(b.bytes / 1024).toFixed(0)} KiB in ${(b.ms / 1000).toFixed(1)} s; workflow tracing ${b.tracing ? 'in every run' : 'only in runs that ran with it'})\n`,
      ),
    (err: unknown) => {
      process.stderr.write(`bundle failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
