// Where parquet row groups are decoded and encoded as JSONL (rowGroup.ts): on worker threads, so the
// main thread only fetches, cuts blocks and uploads, and its event loop (sockets, heartbeats) is never
// held by a row group's decoding; on the main thread when no compiled worker is at hand (the sources
// run under ts-jest). The bytes go to a worker and the JSONL comes back without being copied.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { EncodedRows } from './encode';
import { encodeRowGroup, type RowGroupJob } from './rowGroup';

export interface RowGroupEncoder {
  encode(job: RowGroupJob): Promise<EncodedRows>;
  /** Jobs it works on at once: a reader keeps this many (and one more) under way. */
  readonly parallelism: number;
}

/** Encodes on the calling thread. */
export const inThreadEncoder: RowGroupEncoder = { parallelism: 1, encode: encodeRowGroup };

/** What a worker thread is sent, and what it answers (encodeWorker.ts). */
export interface EncodeRequest {
  id: number;
  job: RowGroupJob;
}
export type EncodeReply = { id: number; encoded: EncodedRows } | { id: number; error: string };

/** The compiled worker beside this file (dist/dataset/encodeWorker.js). */
export const ENCODE_WORKER_FILE = join(__dirname, 'encodeWorker.js');

export interface EncoderPoolOptions {
  /** Worker threads. */
  size: number;
  /** The worker's script. Default ENCODE_WORKER_FILE. */
  workerFile?: string;
  resourceLimits?: ResourceLimits;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, { resolve(encoded: EncodedRows): void; reject(err: Error): void }>;
}

/**
 * A fixed set of worker threads, each encoding the jobs it is given in order. A job goes to the
 * worker with the fewest jobs; a worker that dies fails its jobs and is replaced on the next one.
 * Idle workers do not keep the process alive.
 */
export class EncoderPool implements RowGroupEncoder {
  readonly parallelism: number;
  private readonly workers: (PoolWorker | undefined)[];
  private nextId = 0;

  constructor(private readonly options: EncoderPoolOptions) {
    if (!(options.size >= 1)) throw new RangeError(`an encoder pool needs at least one worker, got ${options.size}`);
    this.parallelism = options.size;
    this.workers = new Array<PoolWorker | undefined>(options.size).fill(undefined);
  }

  encode(job: RowGroupJob): Promise<EncodedRows> {
    let slot = 0;
    for (let i = 1; i < this.workers.length; i++) {
      if ((this.workers[i]?.pending.size ?? 0) < (this.workers[slot]?.pending.size ?? 0)) slot = i;
    }
    const target = (this.workers[slot] ??= this.start(slot));
    const id = this.nextId++;
    return new Promise<EncodedRows>((resolve, reject) => {
      if (target.pending.size === 0) target.worker.ref();
      target.pending.set(id, { resolve, reject });
      const request: EncodeRequest = { id, job };
      target.worker.postMessage(request, [job.bytes]);
    });
  }

  /** Stops the workers; jobs under way fail. */
  async close(): Promise<void> {
    const running = this.workers.filter((w): w is PoolWorker => w !== undefined);
    this.workers.fill(undefined);
    await Promise.all(running.map((w) => w.worker.terminate()));
  }

  private start(slot: number): PoolWorker {
    const worker = new Worker(this.options.workerFile ?? ENCODE_WORKER_FILE, {
      ...(this.options.resourceLimits ? { resourceLimits: this.options.resourceLimits } : {}),
    });
    const entry: PoolWorker = { worker, pending: new Map() };
    const fail = (err: Error): void => {
      if (this.workers[slot] === entry) this.workers[slot] = undefined;
      for (const job of entry.pending.values()) job.reject(err);
      entry.pending.clear();
    };
    worker.on('message', (reply: EncodeReply) => {
      const job = entry.pending.get(reply.id);
      if (!job) return;
      entry.pending.delete(reply.id);
      if (entry.pending.size === 0) worker.unref();
      if ('error' in reply) job.reject(new Error(reply.error));
      else job.resolve(reply.encoded);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the encoder thread stopped (exit code ${code})`)));
    worker.unref();
    return entry;
  }
}

let shared: RowGroupEncoder | undefined;

/**
 * The process's encoder for staging: a pool of min(2, cores) worker threads, or the main thread when
 * the compiled worker is missing (running from the TypeScript sources).
 */
export function stagingEncoder(): RowGroupEncoder {
  shared ??= existsSync(ENCODE_WORKER_FILE)
    ? new EncoderPool({ size: Math.min(2, availableParallelism()) })
    : inThreadEncoder;
  return shared;
}
