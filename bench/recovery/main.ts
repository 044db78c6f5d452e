// Bench: recovery after a worker crash (issue 8, item 3). `npm run bench:recovery [-- options]`
//
// A run on the local stack (Temporal dev server, Azurite, the Azure ML emulator; in full mode the Hub
// stand-in of bench/staging serves a real-size dataset) is followed by one worker process (node
// dist/worker.js, prebuilt workflow bundle). The worker is SIGKILLed while the run stages its dataset
// and again while it waits on the training job (awaitPipeline), and started again at once. Measured
// from Temporal's own records (describe().raw.pendingActivities): the time from the restart to the
// step's next attempt starting and to its first heartbeat (target: <= heartbeat timeout + 5 s). Checked:
// staging resumed from the last heartbeat's checkpoint (blocks the killed attempt had staged in
// Azurite vs blocks the next attempt uploaded again), and the emulator saw one training job per run.
//
// Options: --smoke            tiny dataset, one kill (awaitPipeline), 3 s heartbeat timeout; nothing saved
//          --runs N           runs, one after the other (default 1)
//          --heartbeat S      the runs' heartbeat timeout in seconds (default 10)
//          --percent P        dataset.percent of the first run (default 40: staging lasts long enough to
//                             kill; run n stages P + n - 1 percent, a slice no run staged before)
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { describeMachine, formatTable, numberArg, parseBenchArgs, reportResult, runBench } from '../common';
import { FineTuneClient, type RunHandle } from '../../src/client';
import { AZURITE_ACCOUNT } from '../../src/config/local';
import { FULL_SIZE_HUB_OPTIONS, type HubEmulatorOptions } from '../../devstack/emulator/hub';
import { PROJECT_ROOT, stackEnv, startStack, type RunningStack } from '../../devstack/stack';
import { runJsonChild } from '../staging/child';
import { startWorker, type BenchWorker } from './worker';
import type { HubInfo } from '../staging/hub';

const BENCH_DIR = join(PROJECT_ROOT, '.data', 'bench');
/** Slack allowed over the heartbeat timeout (issue 8). */
const TARGET_SLACK_SECONDS = 5;

type StepName = 'stageDataset' | 'awaitPipeline';

interface Timestamp {
  seconds?: unknown;
  nanos?: number | null;
}

interface PendingActivity {
  activityType?: { name?: string | null } | null;
  attempt?: number | null;
  lastStartedTime?: Timestamp | null;
  lastHeartbeatTime?: Timestamp | null;
  lastWorkerIdentity?: string | null;
  heartbeatDetails?: { payloads?: unknown[] | null } | null;
}

interface StageCheckpointView {
  split?: string;
  checkpoint?: { nextRow: number; blocks: string[] };
}

export interface KillResult {
  run: number;
  step: StepName;
  heartbeatTimeoutSeconds: number;
  /** Attempt that was killed. */
  killedAttempt: number;
  /** Seconds from the kill to the new worker's spawn (the bench restarts at once). */
  restartDelaySeconds: number;
  /** Seconds from the restart (spawn) to: WORKER_READY, the next attempt starting, its first heartbeat. */
  workerReadySeconds: number;
  attemptStartedSeconds: number;
  heartbeatResumedSeconds: number;
  /** Seconds from the last heartbeat Temporal recorded before the kill to the next attempt starting. */
  sinceLastHeartbeatSeconds: number;
  targetSeconds: number;
  met: boolean;
  /** stageDataset only: what the killed attempt had staged and where the next one went on. */
  staging?: {
    split: string;
    blocksInAzuriteAtKill: number;
    checkpointBlocks: number;
    checkpointRow: number;
    reuploadedBlocks: number;
    resumedAtRow?: number;
    blocksUploadedAfterRestart?: number;
  };
}

function log(line: string): void {
  process.stderr.write(`[bench:recovery] ${line}\n`);
}

function tsMs(ts: Timestamp | null | undefined): number | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  return Number(String(ts.seconds)) * 1000 + (ts.nanos ?? 0) / 1e6;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

const seconds = (ms: number): number => Math.round(ms / 10) / 100;

class Bench {
  private worker!: BenchWorker;
  private readonly blobs: BlobServiceClient;

  constructor(
    private readonly stack: RunningStack,
    private readonly client: FineTuneClient,
    private readonly temporal: Client,
    private readonly workerEnv: Record<string, string>,
  ) {
    this.blobs = new BlobServiceClient(
      stack.urls.azuriteBlob as string,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key),
    );
  }

  async startWorker(): Promise<BenchWorker> {
    this.worker = await startWorker(this.workerEnv);
    return this.worker;
  }

  async stop(): Promise<void> {
    await this.worker?.kill('SIGKILL');
  }

  private decode<T>(payload: unknown): T | undefined {
    try {
      return this.temporal.options.loadedDataConverter.payloadConverter.fromPayload<T>(payload as never);
    } catch {
      return undefined;
    }
  }

  async pending(runId: string, step: StepName): Promise<PendingActivity | undefined> {
    const { raw } = await this.client.handle(runId).describe();
    return ((raw.pendingActivities ?? []) as PendingActivity[]).find((a) => a.activityType?.name === step);
  }

  /** Blocks staged (committed or not) in the blob a split is being staged into. */
  private async blocksInAzurite(split: string): Promise<number> {
    let most = 0;
    for await (const container of this.blobs.listContainers()) {
      const c = this.blobs.getContainerClient(container.name);
      for await (const blob of c.listBlobsFlat({ prefix: 'finetune-flow/datasets/', includeUncommitedBlobs: true })) {
        if (!blob.name.endsWith(`/${split}.jsonl`)) continue;
        const list = await c.getBlockBlobClient(blob.name).getBlockList('all');
        most = Math.max(most, (list.uncommittedBlocks ?? []).length + (list.committedBlocks ?? []).length);
      }
    }
    return most;
  }

  /** Kills the worker while `step` runs (once `ready` accepts its heartbeat), restarts it, and measures. */
  async killDuring(
    run: number,
    handle: RunHandle,
    step: StepName,
    heartbeatTimeoutSeconds: number,
    ready: (p: PendingActivity) => boolean,
  ): Promise<KillResult> {
    const before = await waitFor(
      `${step} to be running and heartbeating`,
      async () => {
        const p = await this.pending(handle.runId, step);
        return p &&
          p.lastWorkerIdentity?.startsWith(this.worker.identityPrefix) &&
          tsMs(p.lastHeartbeatTime) !== undefined &&
          ready(p)
          ? p
          : undefined;
      },
      300_000,
      50,
    );
    const killedAt = Date.now();
    await this.worker.kill('SIGKILL');
    const killedAttempt = before.attempt ?? 1;
    let staging: KillResult['staging'];
    if (step === 'stageDataset') {
      // what the next attempt is handed: the last heartbeat Temporal recorded
      const last = (await this.pending(handle.runId, step)) ?? before;
      const details = this.decode<StageCheckpointView>(last.heartbeatDetails?.payloads?.[0]);
      const split = details?.split ?? '';
      staging = {
        split,
        blocksInAzuriteAtKill: await this.blocksInAzurite(split),
        checkpointBlocks: details?.checkpoint?.blocks.length ?? 0,
        checkpointRow: details?.checkpoint?.nextRow ?? 0,
        reuploadedBlocks: 0,
      };
      staging.reuploadedBlocks = Math.max(0, staging.blocksInAzuriteAtKill - staging.checkpointBlocks);
    }
    const lastHeartbeat =
      tsMs((await this.pending(handle.runId, step))?.lastHeartbeatTime) ?? tsMs(before.lastHeartbeatTime) ?? killedAt;
    const worker = await this.startWorker();
    const next = await waitFor(
      `${step} attempt ${killedAttempt + 1} to heartbeat`,
      async () => {
        const p = await this.pending(handle.runId, step);
        const hb = tsMs(p?.lastHeartbeatTime);
        return p &&
          (p.attempt ?? 0) > killedAttempt &&
          p.lastWorkerIdentity?.startsWith(worker.identityPrefix) &&
          hb !== undefined &&
          hb >= worker.spawnedAt
          ? p
          : undefined;
      },
      120_000,
    );
    const started = tsMs(next.lastStartedTime) ?? Date.now();
    const heartbeat = tsMs(next.lastHeartbeatTime) ?? Date.now();
    const progress = Math.max(started, heartbeat) - worker.spawnedAt;
    const targetSeconds = heartbeatTimeoutSeconds + TARGET_SLACK_SECONDS;
    const result: KillResult = {
      run,
      step,
      heartbeatTimeoutSeconds,
      killedAttempt,
      restartDelaySeconds: seconds(worker.spawnedAt - killedAt),
      workerReadySeconds: seconds(worker.readyAt - worker.spawnedAt),
      attemptStartedSeconds: seconds(started - worker.spawnedAt),
      heartbeatResumedSeconds: seconds(heartbeat - worker.spawnedAt),
      sinceLastHeartbeatSeconds: seconds(started - lastHeartbeat),
      targetSeconds,
      met: progress <= targetSeconds * 1000,
      ...(staging ? { staging } : {}),
    };
    log(
      `${step}: killed attempt ${killedAttempt}; restart +${result.restartDelaySeconds} s, worker ready +${result.workerReadySeconds} s, attempt ${killedAttempt + 1} started +${result.attemptStartedSeconds} s, heartbeat +${result.heartbeatResumedSeconds} s (target ${targetSeconds} s)` +
        (staging
          ? `; ${staging.split}: ${staging.blocksInAzuriteAtKill} blocks in Azurite at the kill, checkpoint ${staging.checkpointBlocks} blocks (row ${staging.checkpointRow}), ${staging.reuploadedBlocks} to upload again`
          : ''),
    );
    return result;
  }

  /** The result of the run's last completed stageDataset attempt (StagedDataset), from history. */
  async stagedResult(
    runId: string,
  ): Promise<{ train?: { resumedAtRow?: number; blocks?: number; split?: string } } | undefined> {
    const events = (await this.client.handle(runId).fetchHistory()).events ?? [];
    const scheduled = new Set(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'stageDataset')
        .map((e) => String(e.eventId)),
    );
    const done = events
      .filter((e) => scheduled.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '')))
      .at(-1);
    return this.decode(done?.activityTaskCompletedEventAttributes?.result?.payloads?.[0]);
  }

  async jobsOf(jobName: string): Promise<number> {
    const res = await fetch(`${this.stack.urls.emulator as string}/_emulator/resources`);
    if (!res.ok) throw new Error(`emulator /_emulator/resources answered ${res.status}`);
    const body = (await res.json()) as { jobs: { name: string }[] };
    return body.jobs.filter((j) => j.name === jobName).length;
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['runs', 'heartbeat', 'percent']);
  const smoke = args.smoke;
  const runs = numberArg(args, 'runs', 1);
  const heartbeat = numberArg(args, 'heartbeat', smoke ? 3 : 10);
  const percent = numberArg(args, 'percent', smoke ? 5 : 40);
  if (!process.env.NODE_EXTRA_CA_CERTS?.endsWith('ca.pem'))
    throw new Error('set NODE_EXTRA_CA_CERTS=$PWD/.data/certs/ca.pem (the stack runs over HTTPS with the project CA)');
  const runDir = join(BENCH_DIR, `recovery-${process.pid}`);
  mkdirSync(runDir, { recursive: true });

  // full mode: the real-size dataset, so staging lasts long enough to be killed mid-way
  const hub = smoke
    ? undefined
    : runJsonChild<HubInfo>(join(__dirname, '..', 'staging', 'hub.js'), [
        JSON.stringify({ ...FULL_SIZE_HUB_OPTIONS, cacheDir: join(BENCH_DIR, 'hub') } satisfies HubEmulatorOptions),
      ]);
  let stack: RunningStack | undefined;
  let bench: Bench | undefined;
  let connection: Connection | undefined;
  try {
    const t0 = Date.now();
    // the built dist, as the worker: webpack resolves the workflows from there
    const { bundleWorkflows } = (await import(
      pathToFileURL(join(PROJECT_ROOT, 'dist', 'scripts', 'bundleWorkflows.js')).href
    )) as typeof import('../../src/scripts/bundleWorkflows');
    // the job's Running phase outlasts a kill, a heartbeat timeout, the retry's 2 s backoff and a restart
    const runningMs = (heartbeat + (smoke ? 6 : 15)) * 1000;
    const [bundle, started] = await Promise.all([
      bundleWorkflows(join(runDir, 'workflow-bundle.js')),
      startStack({
        dataDir: join(runDir, 'stack'),
        components: ['temporal', 'azurite', 'emulator'],
        ports: { temporal: 0, temporalUi: 0, azurite: 0, emulator: 0 },
        temporal: { headless: true, inMemory: true },
        emulator: {
          extraArgs: [
            '--job-phase-ms',
            '300',
            '--job-phases',
            `Running=${runningMs}`,
            '--provision-ms',
            '300',
            '--delete-ms',
            '200',
            '--cancel-ms',
            '200',
          ],
        },
        stackFile: false,
        log,
      }),
    ]);
    stack = started;
    const hubInfo = hub ? await hub.result : undefined;
    log(`stack and workflow bundle ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const taskQueue = `recovery-${randomUUID()}`;
    const workerEnv: Record<string, string> = {
      ...stackEnv(stack),
      FTFLOW_TASK_QUEUE: taskQueue,
      FTFLOW_WORKFLOW_BUNDLE: bundle.path,
      FTFLOW_LOG_LEVEL: 'INFO',
      FTFLOW_JOB_POLL_SECONDS: '0.3',
      FTFLOW_LRO_POLL_MS: '200',
      ...(hubInfo ? { HF_ENDPOINT: hubInfo.endpoint } : {}),
    };
    connection = await Connection.connect({ address: stack.urls.temporalAddress as string });
    const temporal = new Client({ connection, namespace: stack.namespace });
    const client = await FineTuneClient.connect({ client: temporal, taskQueue });
    bench = new Bench(stack, client, temporal, workerEnv);
    await bench.startWorker();

    const kills: KillResult[] = [];
    const checks: { run: number; runId: string; status: string; jobs: number; stagingResumedAtRow?: number }[] = [];
    for (let run = 1; run <= runs; run++) {
      // a new slice per run: a run whose slice is already staged reuses it (pay once) and stages nothing
      const runPercent = percent + run - 1;
      const handle = await client.start(
        { dataset: { percent: runPercent } },
        { options: { heartbeatTimeoutSeconds: heartbeat } },
      );
      log(`run ${run}: ${handle.runId} (dataset.percent ${runPercent}, heartbeat timeout ${heartbeat} s)`);
      if (!smoke) {
        // a checkpoint with blocks in the heartbeat: the kill lands mid-split, after some blocks are staged
        const k = await bench.killDuring(run, handle, 'stageDataset', heartbeat, (p) => {
          const d = p.heartbeatDetails?.payloads?.[0];
          const view = d
            ? (temporal.options.loadedDataConverter.payloadConverter.fromPayload(d as never) as StageCheckpointView)
            : undefined;
          return (view?.checkpoint?.blocks.length ?? 0) >= 2;
        });
        kills.push(k);
      }
      kills.push(await bench.killDuring(run, handle, 'awaitPipeline', heartbeat, () => true));
      const result = await client.result(handle.runId);
      const staged = await bench.stagedResult(handle.runId);
      const stageKill = kills.find((k) => k.run === run && k.step === 'stageDataset');
      if (stageKill?.staging && staged?.train) {
        stageKill.staging.resumedAtRow = staged.train.resumedAtRow ?? 0;
        stageKill.staging.blocksUploadedAfterRestart = (staged.train.blocks ?? 0) - stageKill.staging.checkpointBlocks;
      }
      const jobs = await bench.jobsOf(handle.names.jobName);
      checks.push({
        run,
        runId: handle.runId,
        status: result.status,
        jobs,
        ...(staged?.train?.resumedAtRow !== undefined ? { stagingResumedAtRow: staged.train.resumedAtRow } : {}),
      });
      log(`run ${run}: ${result.status}, ${jobs} job(s) named ${handle.names.jobName}`);
    }

    process.stdout.write(
      formatTable(
        [
          'run',
          'killed during',
          'HB timeout s',
          'worker ready s',
          'attempt started s',
          'heartbeat s',
          'target s',
          'met',
          'blocks at kill',
          'checkpoint blocks',
          're-uploaded',
          'resumed at row',
          'jobs',
        ],
        kills.map((k) => [
          k.run,
          `${k.step} (attempt ${k.killedAttempt})`,
          k.heartbeatTimeoutSeconds,
          k.workerReadySeconds.toFixed(2),
          k.attemptStartedSeconds.toFixed(2),
          k.heartbeatResumedSeconds.toFixed(2),
          k.targetSeconds,
          k.met ? 'yes' : 'NO',
          k.staging?.blocksInAzuriteAtKill ?? '-',
          k.staging?.checkpointBlocks ?? '-',
          k.staging?.reuploadedBlocks ?? '-',
          k.staging?.resumedAtRow ?? '-',
          checks.find((c) => c.run === k.run)?.jobs ?? '?',
        ]),
      ) + '\n',
    );
    process.stdout.write(
      `times from the worker's restart (spawn), read from Temporal's pending-activity records; ${describeMachine()}\n`,
    );
    reportResult('recovery', smoke, {
      config: {
        runs,
        heartbeatTimeoutSeconds: heartbeat,
        percent,
        targetSlackSeconds: TARGET_SLACK_SECONDS,
        hub: hubInfo ? 'full-size stand-in' : 'emulator default (tiny)',
      },
      kills,
      runs: checks,
      targets: {
        recoveryMet: kills.every((k) => k.met),
        oneJobPerRun: checks.every((c) => c.jobs === 1),
        stagingResumed: kills
          .filter((k) => k.staging)
          .every((k) => (k.staging?.resumedAtRow ?? 0) > 0 && k.staging?.resumedAtRow === k.staging?.checkpointRow),
      },
    });
  } finally {
    await bench?.stop();
    await connection?.close();
    await hub?.kill();
    await stack?.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

runBench('recovery', main);
