// What Azure saw of one way (the notebook's or the service's): the emulator's request counts taken before
// and after it (GET /_emulator/requests/counts, which never drops a request), sorted into ARM reads,
// writes and deletes and the other APIs; and the Blob requests Azurite's debug log shows for the same
// window, by client (User-Agent), so that the emulator's own Blob reads and writes (Azure's side: job
// inputs, run logs) are not counted as the client's.
import * as fs from 'node:fs';
import { EMULATOR_BLOB_USER_AGENT } from '../../devstack/emulator/blob';
import type { RequestCounts } from '../common';

export interface BlobRequest {
  atMs: number;
  method: string;
  userAgent: string;
  /** The URL without its query (SAS tokens). */
  url: string;
}

/** Azurite's debug log line for each request it received (`--debug`; one line per request, headers as JSON). */
const REQUEST_LINE =
  /^(\S+) \S+ info: BlobStorageContextMiddleware: RequestMethod=(\w+) RequestURL=(\S+) RequestHeaders:(\{.*?\}) ClientIP=/;

export function readBlobRequests(debugLog: string): BlobRequest[] {
  if (!fs.existsSync(debugLog)) return [];
  return fs
    .readFileSync(debugLog, 'utf8')
    .split('\n')
    .flatMap((line) => {
      const m = REQUEST_LINE.exec(line);
      if (!m) return [];
      let userAgent = '';
      try {
        userAgent = String((JSON.parse(m[4]) as Record<string, unknown>)['user-agent'] ?? '');
      } catch {
        // headers that are not JSON: no user agent
      }
      return [{ atMs: Date.parse(m[1]), method: m[2], userAgent, url: m[3].split('?')[0] }];
    });
}

/** Azure's own Blob requests (the emulator's), not a client's. */
export const isAzureOwnBlobRequest = (r: BlobRequest): boolean => r.userAgent.startsWith(EMULATOR_BLOB_USER_AGENT);
/** azure-ai-ml's and azure-storage-blob's (Python) requests: the notebook's. */
export const isPythonRequest = (userAgent: string | undefined): boolean => /python/i.test(userAgent ?? '');

export interface RequestTally {
  arm: { reads: number; writes: number; deletes: number; total: number };
  /** Requests to every other API the client called (cloud metadata excluded, below). */
  other: {
    registry: number;
    mlflow: number;
    runHistory: number;
    token: number;
    blob: number;
    scoring: number;
    /** The Hugging Face Hub stand-in (the dataset download). */
    hub: number;
    total: number;
  };
  /**
   * GETs of the cloud metadata document. azure-ai-ml reads it again at almost every call when
   * ARM_CLOUD_METADATA_URL is set (how it is pointed at this local cloud); against Azure's public cloud
   * it uses built-in endpoints and reads none, so they are reported apart and not in `other`. The emulator
   * serves the workspace's discovery document on the same public surface, so a reader of that document
   * (the service's measureCost, once per worker) counts here too.
   */
  cloudMetadata: number;
  blobByMethod: Record<string, number>;
  /** Blob requests of the emulator itself in the same window (Azure's side), not in `other.blob`. */
  azureOwnBlob: number;
  /** The emulator's counts over the window, as it reported them. */
  bySurface: RequestCounts;
}

export function diffCounts(before: RequestCounts, after: RequestCounts): RequestCounts {
  const out: RequestCounts = {};
  for (const [surface, methods] of Object.entries(after)) {
    for (const [method, n] of Object.entries(methods)) {
      const d = n - (before[surface]?.[method] ?? 0);
      if (d !== 0) (out[surface] ??= {})[method] = d;
    }
  }
  return out;
}

const sum = (xs: Record<string, number> | undefined): number => Object.values(xs ?? {}).reduce((a, b) => a + b, 0);

/** ARM's operation types as its throttling counts them: GET/HEAD reads, DELETE deletes, the rest writes. */
export function tallyRequests(
  emulator: RequestCounts,
  clientBlob: readonly BlobRequest[],
  azureOwnBlob: number,
): RequestTally {
  const arm = emulator['arm'] ?? {};
  const reads = (arm['GET'] ?? 0) + (arm['HEAD'] ?? 0);
  const deletes = arm['DELETE'] ?? 0;
  const total = sum(arm);
  const blobByMethod: Record<string, number> = {};
  for (const r of clientBlob) blobByMethod[r.method] = (blobByMethod[r.method] ?? 0) + 1;
  const other = {
    registry: sum(emulator['registry']),
    mlflow: sum(emulator['mlflow']),
    runHistory: sum(emulator['history']),
    token: sum(emulator['entra']),
    blob: clientBlob.length,
    scoring: sum(emulator['scoring']),
    hub: sum(emulator['other']),
    total: 0,
  };
  other.total = other.registry + other.mlflow + other.runHistory + other.token + other.blob + other.scoring + other.hub;
  return {
    arm: { reads, writes: total - reads - deletes, deletes, total },
    other,
    cloudMetadata: sum(emulator['public']),
    blobByMethod,
    azureOwnBlob,
    bySurface: emulator,
  };
}
