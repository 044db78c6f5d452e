// `npm run bundle`: the workflows and their interceptors bundled once, at build time, into
// dist/workflow-bundle.js. A worker given FTFLOW_WORKFLOW_BUNDLE loads it instead of running webpack at
// start-up (seconds faster, and no bundler needed in the image's start path).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../observability';

export const DEFAULT_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflow-bundle.js');

export async function bundleWorkflows(
  outFile: string = DEFAULT_BUNDLE_PATH,
): Promise<{ path: string; bytes: number; ms: number }> {
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES],
  });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, outFile);
  return { path: outFile, bytes: Buffer.byteLength(code), ms: Date.now() - started };
}

if (require.main === module) {
  bundleWorkflows(process.argv[2] ? path.resolve(process.argv[2]) : undefined).then(
    (b) =>
      process.stdout.write(
        `workflow bundle: ${path.relative(process.cwd(), b.path)} (${(b.bytes / 1024).toFixed(0)} KiB in ${(b.ms / 1000).toFixed(1)} s)\n`,
      ),
    (err: unknown) => {
      process.stderr.write(`bundle failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
