// A worker that cannot start says why and exits: a missing Azure setting or an unreachable Temporal
// ends the process with exit code 1 and a message naming what to set, instead of leaving it running.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../devstack/stack/paths';

const WORKER = path.join(PROJECT_ROOT, 'dist', 'worker.js');

function runWorker(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER], {
      env: { PATH: process.env.PATH, FTFLOW_METRICS_ADDRESS: '127.0.0.1:0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // A worker that does not exit by itself fails the test (the bug this guards against).
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('a missing Azure setting: exit 1, naming the variable', async () => {
  const { code, output } = await runWorker({ TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expect(output).toContain('AZURE_SUBSCRIPTION_ID is not set');
  expect(code).toBe(1);
});

test('Temporal unreachable: exit 1, naming the address, the namespace and TEMPORAL_ADDRESS', async () => {
  const { code, output } = await runWorker({
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    TEMPORAL_NAMESPACE: 'ml-prod',
    AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000',
    AZURE_RESOURCE_GROUP: 'rg',
    AZUREML_WORKSPACE_NAME: 'ws',
  });
  expect(output).toContain('cannot reach Temporal at 127.0.0.1:1');
  expect(output).toContain('namespace ml-prod');
  expect(output).toContain('TEMPORAL_ADDRESS=host:port');
  expect(code).toBe(1);
});
