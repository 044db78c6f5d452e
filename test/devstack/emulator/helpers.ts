// Test fixtures for the emulator: a private Azurite (in memory, free port), an emulator on a
// short clock, real credentials and the real ARM client pointed at it.
import { spawn, type ChildProcess } from 'node:child_process';
import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, connect, type LookupFunction } from 'node:net';
import { join } from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { RUN_TAG } from '../../../src/azure/tags';
import { AZURITE_ACCOUNT, LOCAL_AZURE } from '../../../src/config/local';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../../devstack/emulator/server';

export const ROOT = join(__dirname, '..', '..', '..');
export const CERTS = join(ROOT, '.data', 'certs');
export const TLS = { certPath: join(CERTS, 'server.pem'), keyPath: join(CERTS, 'server-key.pem') };
export const FAST_CLOCK = { jobPhaseMs: 150, provisionMs: 150, deleteMs: 150, cancelMs: 150 };
export const ARM_SCOPE = 'https://management.azure.com/.default';
export const WS = `/subscriptions/${LOCAL_AZURE.subscriptionId}/resourceGroups/${LOCAL_AZURE.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${LOCAL_AZURE.workspace}`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Azurite {
  url: string;
  stop(): Promise<void>;
}

export async function startAzurite(): Promise<Azurite> {
  const port = await freePort();
  const bin = join(ROOT, 'node_modules', '.bin', 'azurite-blob');
  const child: ChildProcess = spawn(
    bin,
    [
      '--silent',
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port, 20_000);
  return {
    url: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT.name}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function startTestEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ tls: TLS, clock: FAST_CLOCK, retryAfterSeconds: 0, ...opts });
}

export function credentialFor(emulator: RunningEmulator, secret = emulator.clientSecret): ClientSecretCredential {
  return new ClientSecretCredential(LOCAL_AZURE.tenantId, LOCAL_AZURE.clientId, secret, {
    authorityHost: emulator.url,
    disableInstanceDiscovery: true,
  });
}

export function armClient(emulator: RunningEmulator): AzureMachineLearningWorkspaces {
  return new AzureMachineLearningWorkspaces(credentialFor(emulator), LOCAL_AZURE.subscriptionId, {
    endpoint: emulator.url,
    credentialScopes: [ARM_SCOPE],
  });
}

export async function armToken(emulator: RunningEmulator): Promise<string> {
  const token = await credentialFor(emulator).getToken(ARM_SCOPE);
  return token.token;
}

/** fetch against the emulator with an optional bearer token; returns status, headers and JSON. */
export async function call(
  emulator: RunningEmulator,
  path: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path.startsWith('https://') ? path : `${emulator.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

/** Names under .localhost are the loopback address (RFC 6761), whatever the system resolver says. */
const loopbackLookup: LookupFunction = (hostname, options, callback) =>
  dnsLookup(/\.localhost$/i.test(hostname) ? '127.0.0.1' : hostname, options, callback);

/**
 * GET a storage URL (a SAS URL the emulator hands out: <account>.blob.core.localhost:<port>, Azurite's
 * production-style name) and read the body as text.
 */
export function storageGet(url: string): Promise<{ status: number; text: string }> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { lookup: loopbackLookup }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export function blobContainer(azurite: Azurite) {
  const service = new BlobServiceClient(
    azurite.url,
    new StorageSharedKeyCredential(AZURITE_ACCOUNT.name, AZURITE_ACCOUNT.key),
  );
  return service.getContainerClient(LOCAL_AZURE.blobContainer);
}

export function chatRows(n: number): string {
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    rows.push(
      JSON.stringify({
        prompt: `question ${i}`,
        prompt_id: `p${i}`,
        messages: [
          { role: 'user', content: `question ${i}` },
          { role: 'assistant', content: `answer ${i}` },
        ],
      }),
    );
  }
  return rows.join('\n') + '\n';
}

/** The notebook's pipeline job body (notes §2.8), on the given compute and staged files. */
export function pipelineJobBody(opts: {
  compute: string;
  train: string;
  test: string;
  componentVersion?: string;
  extraInputs?: Record<string, unknown>;
  experimentName?: string;
}) {
  const lit = (value: string) => ({ job_input_type: 'literal', value });
  return {
    properties: {
      jobType: 'Pipeline' as const,
      displayName: 'Phi-3-mini-4k-instruct-ultrachat-test',
      experimentName: opts.experimentName ?? 'chat_completion_Phi-3-mini-4k-instruct',
      tags: {},
      properties: {},
      inputs: {},
      outputs: { trained_model: { jobOutputType: 'mlflow_model' as const } },
      settings: { force_rerun: true, continue_on_step_failure: false, _source: 'DSL' },
      jobs: {
        chat_completion_pipeline: {
          name: 'chat_completion_pipeline',
          type: 'pipeline',
          _source: 'REMOTE.REGISTRY',
          componentId: `azureml://registries/azureml/components/chat_completion_pipeline/versions/${opts.componentVersion ?? '0.0.82'}`,
          inputs: {
            mlflow_model_path: {
              job_input_type: 'mlflow_model',
              uri: 'azureml://registries/azureml/models/Phi-3-mini-4k-instruct/versions/15',
            },
            compute_model_import: lit(opts.compute),
            compute_preprocess: lit(opts.compute),
            compute_finetune: lit(opts.compute),
            compute_model_evaluation: lit(opts.compute),
            train_file_path: {
              job_input_type: 'uri_file',
              uri: `azureml://datastores/workspaceblobstore/paths/${opts.train}`,
            },
            test_file_path: {
              job_input_type: 'uri_file',
              uri: `azureml://datastores/workspaceblobstore/paths/${opts.test}`,
            },
            number_of_gpu_to_use_finetuning: lit('1'),
            num_train_epochs: lit('2'),
            per_device_train_batch_size: lit('1'),
            per_device_eval_batch_size: lit('1'),
            learning_rate: lit('5e-06'),
            lr_scheduler_type: lit('cosine'),
            apply_lora: lit('true'),
            apply_deepspeed: lit('true'),
            deepspeed_stage: lit('2'),
            ...(opts.extraInputs ?? {}),
          },
          outputs: { mlflow_model_folder: { value: '${{parent.outputs.trained_model}}', type: 'literal' } },
        },
      },
    },
  };
}

/** PUTs a GPU cluster (Standard_NC24ads_A100_v4, one node unless told) as a test's setting-up step. */
export async function createCluster(
  emulator: RunningEmulator,
  token: string,
  name: string,
  opts: { maxNodes?: number; apiVersion?: string } = {},
): Promise<void> {
  const res = await call(emulator, `${WS}/computes/${name}?api-version=${opts.apiVersion ?? '2022-10-01'}`, {
    method: 'PUT',
    token,
    body: {
      location: 'eastus',
      properties: {
        computeType: 'AmlCompute',
        properties: { vmSize: 'Standard_NC24ads_A100_v4', scaleSettings: { maxNodeCount: opts.maxNodes ?? 1 } },
      },
    },
  });
  if (res.status >= 300) throw new Error(`creating cluster ${name} answered ${res.status}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The emulator's admin API (/_emulator/...). */
export async function admin<T = unknown>(
  emulator: RunningEmulator,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const res = await call(emulator, `/_emulator/${path}`, init);
  if (res.status >= 300)
    throw new Error(`admin ${init.method ?? 'GET'} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as T;
}

/** Moves the emulator's clock (stepped mode: the only way it moves). */
export async function advance(emulator: RunningEmulator, ms: number): Promise<number> {
  const clock = await admin<{ nowMs: number }>(emulator, 'clock/advance', { method: 'POST', body: { ms } });
  return clock.nowMs;
}

export { jobWalk } from '../../helpers/runRecords';

/** A job as the emulator records it (GET /_emulator/resources): its state and every status it has had. */
export interface JobRecordView {
  name: string;
  state: string;
  createdAt: string;
  endedAt: string | null;
  statusHistory: { status: string; at: string }[];
}

export async function jobRecord(emulator: RunningEmulator, name: string): Promise<JobRecordView> {
  const job = (await admin<{ jobs: JobRecordView[] }>(emulator, 'resources')).jobs.find((j) => j.name === name);
  if (!job) throw new Error(`the emulator has no record of job ${name}`);
  return job;
}

/**
 * The job's record once the emulator records it ended (Completed, Failed or Canceled): a state that stays
 * once reached, so a slow poll cannot miss it. What the job went through is in its `statusHistory`.
 */
export async function jobEnded(emulator: RunningEmulator, name: string, timeoutMs = 30_000): Promise<JobRecordView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await jobRecord(emulator, name);
    if (job.endedAt !== null) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${name} did not end within ${timeoutMs} ms: ${JSON.stringify(job.statusHistory)}`);
    await sleep(25);
  }
}

/**
 * Runs `body` with the emulator's time standing still (stepped mode: only `advance` moves it), then lets
 * it follow the wall clock again. For a test that looks at a state that lasts a few milliseconds of
 * emulator time (Creating, InProgress, Deleting, CancelRequested): frozen, the state waits for the test.
 */
export async function withFrozenClock<T>(emulator: RunningEmulator, body: () => Promise<T>): Promise<T> {
  await admin(emulator, 'clock', { method: 'PUT', body: { mode: 'stepped' } });
  try {
    return await body();
  } finally {
    await admin(emulator, 'clock', { method: 'PUT', body: { mode: 'real' } });
  }
}

/** Creates the notebook's pipeline job `name` with finetune-flow's run tag, as a run's submit does. */
export async function submitTaggedJob(emulator: RunningEmulator, token: string, name: string): Promise<void> {
  const body = pipelineJobBody({ compute: 'gpu', train: 'x/train.jsonl', test: 'x/test.jsonl' });
  body.properties.tags = { [RUN_TAG]: `run-${name}` } as typeof body.properties.tags;
  const res = await call(emulator, `${WS}/jobs/${name}?api-version=2022-10-01`, { method: 'PUT', token, body });
  if (res.status !== 201) throw new Error(`PUT job ${name}: expected 201, got ${res.status}`);
}
