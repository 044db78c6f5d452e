// Shared by the stageDataset activity tests: the real activity over the local stack (the emulator's Hub
// and datastore, Azurite), run in a MockActivityEnvironment that records heartbeats.
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { BlobClient, BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import { createActivities, createDeps, type ActivityDeps } from '../../src/activities';
import type { StagedDataset } from '../../src/activities/types';
import { loadAzureConfig } from '../../src/azure/config';
import { hubExpectedRow, type SplitName } from '../../devstack/emulator/hub';
import { toJsonLine, validateChatRow, type StageHeartbeat } from '../../src/dataset';
import { DatasetSpec } from '../../src/runSpec/dataset';

const QUIET = new DefaultLogger('ERROR');

export type StageFn = (input: { dataset: DatasetSpec }) => Promise<StagedDataset>;

export function stackDeps(): ActivityDeps {
  return createDeps(loadAzureConfig(process.env), process.env);
}

export function stageActivity(deps: ActivityDeps): StageFn {
  return createActivities(deps).stageDataset;
}

export interface StageRun {
  result: Promise<StagedDataset>;
  heartbeats: StageHeartbeat[];
  env: MockActivityEnvironment;
}

/** Runs the activity as attempt `attempt`, resuming from `heartbeatDetails` when given. */
export function runStage(
  stage: StageFn,
  dataset: unknown,
  opts: {
    heartbeatDetails?: StageHeartbeat;
    attempt?: number;
    onHeartbeat?: (beat: StageHeartbeat, env: MockActivityEnvironment) => void;
  } = {},
): StageRun {
  const env = new MockActivityEnvironment(
    {
      heartbeatTimeoutMs: 30_000,
      attempt: opts.attempt ?? 1,
      ...(opts.heartbeatDetails ? { heartbeatDetails: opts.heartbeatDetails } : {}),
    },
    { logger: QUIET }, // expected failures would otherwise be logged as warnings
  );
  const heartbeats: StageHeartbeat[] = [];
  env.on('heartbeat', (beat: StageHeartbeat) => {
    heartbeats.push(JSON.parse(JSON.stringify(beat)) as StageHeartbeat);
    opts.onHeartbeat?.(beat, env);
  });
  const result = env.run(stage, { dataset: DatasetSpec.parse(dataset) }) as Promise<StagedDataset>;
  result.catch(() => undefined);
  return { result, heartbeats, env };
}

/** The JSONL staging must produce for rows `indices` of a split of the emulator's Hub (invalid rows dropped). */
export function expectedHubJsonl(split: SplitName, indices: Iterable<number>): string {
  let out = '';
  for (const i of indices) {
    const result = validateChatRow(hubExpectedRow(split, i));
    if (result.ok) out += toJsonLine(result.row) + '\n';
  }
  return out;
}

export function range(n: number, from = 0): number[] {
  return Array.from({ length: n - from }, (_, i) => from + i);
}

export async function download(container: ContainerClient, path: string): Promise<Buffer> {
  return container.getBlobClient(path).downloadToBuffer();
}

/** Counts every call that writes blob content or metadata, made through the SDK by anyone in this process. */
export function spyOnBlobWrites(): { count(): number; stagedIds(): string[]; restore(): void } {
  const stage = jest.spyOn(BlockBlobClient.prototype, 'stageBlock');
  const spies: jest.SpyInstance[] = [
    stage,
    jest.spyOn(BlockBlobClient.prototype, 'commitBlockList'),
    jest.spyOn(BlockBlobClient.prototype, 'upload'),
    jest.spyOn(BlockBlobClient.prototype, 'uploadData'),
    jest.spyOn(BlockBlobClient.prototype, 'uploadStream'),
    jest.spyOn(BlobClient.prototype, 'setMetadata'),
    jest.spyOn(BlobClient.prototype, 'setHTTPHeaders'),
  ];
  return {
    count: () => spies.reduce((n, s) => n + s.mock.calls.length, 0),
    stagedIds: () => stage.mock.calls.map((c) => Buffer.from(c[0], 'base64').toString('ascii')),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

export type ActivityError = Error & { nonRetryable?: boolean; type?: string };

/** The error a run failed with (fails the test when it succeeded). */
export async function failureOf(result: Promise<unknown>): Promise<ActivityError> {
  try {
    await result;
  } catch (err) {
    return err as ActivityError;
  }
  throw new Error('expected the activity to fail, but it succeeded');
}
