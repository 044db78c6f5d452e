// What the worker process's memory is made of, as far as Node can tell: RSS, the main thread's V8 heap
// (activities, clients, watchers), the workflow thread's V8 heap (the cached runs; the SDK runs workflows in
// a worker thread whose heap process.memoryUsage() does not see), ArrayBuffers and other external memory,
// and the rest: Temporal's Rust core, allocator arenas and code. Logged every FTFLOW_MEMORY_REPORT_SECONDS.
import { readFileSync } from 'node:fs';
import { Worker as ThreadWorker } from 'node:worker_threads';
import type { Logger } from '@temporalio/common';

export interface MemoryBreakdown {
  rssMiB: number;
  /** Main thread: used and committed V8 heap. */
  mainHeapUsedMiB: number;
  mainHeapTotalMiB: number;
  /** Memory of JS objects outside the heap (Buffers, ArrayBuffers), main thread. */
  externalMiB: number;
  arrayBuffersMiB: number;
  /** Workflow threads (one with the SDK's reused V8 context): used and committed heap; null when unknown. */
  workflowHeapUsedMiB: number | null;
  workflowHeapTotalMiB: number | null;
  /** RSS minus both committed heaps and external memory: the Rust core, malloc arenas, code, stacks. */
  otherMiB: number;
  /** Runs in the sticky cache and activities running, when the worker is known. */
  cachedWorkflows?: number;
  runningActivities?: number;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** The threads this process starts from now on (the SDK's workflow threads among them). */
export class ThreadTracker {
  private readonly threads = new Set<ThreadWorker>();
  private readonly onThread = (thread: ThreadWorker) => {
    this.threads.add(thread);
    thread.once('exit', () => this.threads.delete(thread));
  };

  constructor() {
    process.on('worker', this.onThread);
  }

  stop(): void {
    process.off('worker', this.onThread);
  }

  /** Used and committed heap of every live thread, summed (null when Node cannot say: before 22.16). */
  async heaps(): Promise<{ used: number; total: number } | null> {
    const live = [...this.threads];
    if (live.length === 0 || live.some((t) => typeof t.getHeapStatistics !== 'function')) return null;
    const stats = await Promise.all(live.map((t) => t.getHeapStatistics().catch(() => undefined)));
    if (stats.some((s) => s === undefined)) return null;
    return stats.reduce(
      (sum, s) => ({ used: sum.used + (s?.used_heap_size ?? 0), total: sum.total + (s?.total_heap_size ?? 0) }),
      { used: 0, total: 0 },
    );
  }
}

export async function memoryBreakdown(
  threads: ThreadTracker,
  worker?: { getStatus(): { numCachedWorkflows: number; numInFlightActivities: number } },
): Promise<MemoryBreakdown> {
  const heaps = await threads.heaps();
  const m = process.memoryUsage();
  const status = worker?.getStatus();
  return {
    rssMiB: mib(m.rss),
    mainHeapUsedMiB: mib(m.heapUsed),
    mainHeapTotalMiB: mib(m.heapTotal),
    externalMiB: mib(m.external),
    arrayBuffersMiB: mib(m.arrayBuffers),
    workflowHeapUsedMiB: heaps ? mib(heaps.used) : null,
    workflowHeapTotalMiB: heaps ? mib(heaps.total) : null,
    otherMiB: mib(m.rss - m.heapTotal - (heaps?.total ?? 0) - m.external),
    ...(status ? { cachedWorkflows: status.numCachedWorkflows, runningActivities: status.numInFlightActivities } : {}),
  };
}

/** Logs "worker memory" with the breakdown every `seconds` until the returned stop() is called. */
export function reportMemory(
  logger: Logger,
  seconds: number,
  threads: ThreadTracker,
  worker?: Parameters<typeof memoryBreakdown>[1],
): () => void {
  if (seconds <= 0) return () => threads.stop();
  const timer = setInterval(() => {
    memoryBreakdown(threads, worker).then(
      (memory) => logger.info('worker memory', { memory }),
      () => undefined,
    );
  }, seconds * 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    threads.stop();
  };
}

export type MallocInUse = 'jemalloc' | 'glibc' | 'unknown';

/**
 * Which malloc this process runs on: jemalloc when its library is mapped (preloaded: LD_PRELOAD), else glibc's
 * when Node was built against glibc, else unknown (another libc, or no /proc). `maps` is the text of
 * /proc/self/maps (read when not given).
 */
export function mallocInUse(maps?: string): MallocInUse {
  let text = maps;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/maps', 'utf8');
    } catch {
      return 'unknown';
    }
  }
  if (/\/libjemalloc[^/\s]*\.so/.test(text)) return 'jemalloc';
  return /\/libc(?:-[\d.]+)?\.so/.test(text) && /\/ld-linux[^/\s]*\.so/.test(text) ? 'glibc' : 'unknown';
}
