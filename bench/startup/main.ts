// Worker start-up time, with the workflows bundled at start-up (workflowsPath, webpack in the process)
// and with the prebuilt bundle of `npm run bundle` (FTFLOW_WORKFLOW_BUNDLE). Each run spawns
// `node dist/worker.js` against a local Temporal dev server and times it from spawn to WORKER_READY
// (polling), then stops it with SIGTERM. Prints a table and one JSON line.
//   npm run bench:startup              (BENCH_RUNS=N for more or fewer runs per mode; default 5)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStack } from '../../devstack/stack';
import { PROJECT_ROOT, WORKER_ENTRY as WORKER_ENTRY_PATH } from '../../devstack/stack/paths';
import { runBench } from '../common';

type Mode = 'workflowsPath' | 'prebuiltBundle';

interface Sample {
  /** Wall time from spawn to the WORKER_READY line. */
  wallMs: number;
  /** The worker's own process uptime when it logged WORKER_READY. */
  uptimeMs: number;
}

async function startOnce(env: NodeJS.ProcessEnv): Promise<Sample> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [WORKER_ENTRY_PATH], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const sample = await new Promise<Sample>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => /\bWORKER_READY\b/.test(l));
      if (!line) return;
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const uptimeMs = Number((JSON.parse(line) as { startupMs?: number }).startupMs ?? NaN);
      resolve({ wallMs, uptimeMs });
    });
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${out}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return sample;
}

function stats(values: number[]): { medianMs: number; minMs: number; maxMs: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs: Math.round(median), minMs: Math.round(sorted[0]), maxMs: Math.round(sorted[sorted.length - 1]) };
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('BENCH_RUNS must be a positive whole number');
  if (!fs.existsSync(WORKER_ENTRY_PATH)) throw new Error(`${WORKER_ENTRY_PATH} is missing: run \`make build\` first`);

  // The bundle exactly as the image builds it: `npm run bundle` (node dist/scripts/bundleWorkflows.js).
  const bundlePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bench-')), 'workflow-bundle.js');
  const bundleStarted = Date.now();
  const built = spawnSync(
    process.execPath,
    [path.join(PROJECT_ROOT, 'dist', 'scripts', 'bundleWorkflows.js'), bundlePath],
    { encoding: 'utf8' },
  );
  if (built.status !== 0) throw new Error(`npm run bundle failed:\n${built.stderr}`);
  const bundle = { path: bundlePath, bytes: fs.statSync(bundlePath).size, ms: Date.now() - bundleStarted };
  const stack = await startStack({
    dataDir: path.join(PROJECT_ROOT, '.data', 'bench-startup'),
    components: ['temporal'],
    ports: { temporal: 0, temporalUi: 0 },
    temporal: { headless: true, inMemory: true },
    stackFile: false,
  });
  const samples: Record<Mode, Sample[]> = { workflowsPath: [], prebuiltBundle: [] };
  try {
    const base: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.urls.temporalAddress,
      TEMPORAL_NAMESPACE: stack.namespace,
      // The worker builds its Azure clients at start-up but calls nothing until a run arrives.
      AZURE_SUBSCRIPTION_ID: '00000000-0000-4000-8000-000000000001',
      AZURE_RESOURCE_GROUP: 'rg-bench',
      AZUREML_WORKSPACE_NAME: 'ws-bench',
      FTFLOW_LOG_FORMAT: 'json',
      FTFLOW_LOG_LEVEL: 'INFO',
    };
    delete base.FTFLOW_WORKFLOW_BUNDLE;
    // One warm-up of each (file cache), then the modes alternate so drift hits both alike.
    for (let i = -1; i < runs; i++) {
      for (const mode of ['workflowsPath', 'prebuiltBundle'] as const) {
        const env = {
          ...base,
          FTFLOW_TASK_QUEUE: `bench-${mode}-${i + 1}`,
          ...(mode === 'prebuiltBundle' ? { FTFLOW_WORKFLOW_BUNDLE: bundle.path } : {}),
        };
        const sample = await startOnce(env);
        if (i >= 0) samples[mode].push(sample);
      }
    }
  } finally {
    await stack.stop();
  }

  const rows = (['workflowsPath', 'prebuiltBundle'] as const).map((mode) => ({
    mode,
    wall: stats(samples[mode].map((s) => s.wallMs)),
    uptime: stats(samples[mode].map((s) => s.uptimeMs)),
  }));
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  process.stdout.write(
    `worker start-up, spawn to WORKER_READY, ${runs} runs per mode (node ${process.version}, ${os.cpus().length} CPUs)\n`,
  );
  process.stdout.write(
    `${'mode'.padEnd(16)}${pad('median ms', 11)}${pad('min ms', 9)}${pad('max ms', 9)}${pad('in-process median ms', 22)}\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `${r.mode.padEnd(16)}${pad(r.wall.medianMs, 11)}${pad(r.wall.minMs, 9)}${pad(r.wall.maxMs, 9)}${pad(r.uptime.medianMs, 22)}\n`,
    );
  process.stdout.write(
    `bundle: ${(bundle.bytes / 1024 / 1024).toFixed(2)} MiB, built in ${bundle.ms} ms (npm run bundle, once per image)\n`,
  );
  process.stdout.write(
    JSON.stringify({
      bench: 'worker-startup',
      runs,
      node: process.version,
      cpus: os.cpus().length,
      workflowsPath: rows[0].wall,
      prebuiltBundle: rows[1].wall,
      bundleBytes: bundle.bytes,
      bundleBuildMs: bundle.ms,
    }) + '\n',
  );
}

runBench('startup', main);
