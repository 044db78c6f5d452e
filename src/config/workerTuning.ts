// How much the worker process keeps in memory and runs at once: the sticky workflow cache, the activity
// slots, and the periodic memory report. Read once at start; an error names the variable and what to set.
// What each setting costs and saves is measured in bench/README.md ("What the worker's memory is").
import { z } from 'zod';
import { ConfigurationError, describeEnvIssues } from './temporal';

export const WORKER_TUNING_ENV = {
  maxCachedWorkflows: 'FTFLOW_MAX_CACHED_WORKFLOWS',
  maxConcurrentActivities: 'FTFLOW_MAX_CONCURRENT_ACTIVITIES',
  maxConcurrentStagings: 'FTFLOW_MAX_CONCURRENT_STAGINGS',
  memoryReportSeconds: 'FTFLOW_MEMORY_REPORT_SECONDS',
} as const;

/**
 * Runs kept in the sticky cache. A cached run costs about 0.1 MiB of the workflow thread's heap (plus
 * Core's state for it); an evicted one is replayed from its history at its next task. 1,000 covers the
 * 1,000 concurrent runs the benches drive; the SDK's own default grows with the heap limit (about 2,300 on
 * a 4 GiB heap) and would let the cache, not the runs, decide the worker's memory.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 1000;
/** Activities at once: waiting on a job is one heartbeat timer and a share of a list page, so many fit. */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 1000;
/**
 * Datasets staged at once by one worker: each holds its source's bytes and blocks until the next full GC.
 * Staging is CPU (validation, JSONL) and I/O bound; a few at once keep two cores busy.
 */
export const DEFAULT_MAX_CONCURRENT_STAGINGS = 8;

/**
 * The worker process's environment that the process cannot give itself, because it is read before the
 * service's code runs. Set by what starts workers (the image, `make stack` and `make cluster`, the benches).
 * - MALLOC_ARENA_MAX: two malloc arenas instead of up to eight per core (glibc reads it before Node starts).
 *   At 300 runs started together it gave back the ~200 MiB a burst of stagings had taken once they were
 *   freed, which the default arenas kept (bench/README.md, section 7). Only glibc's malloc reads it.
 * - MALLOC_CONF: jemalloc's settings, where jemalloc is preloaded (workerProcessEnv): a background thread
 *   returns freed pages to the system on its own clock, even while the worker is idle. glibc ignores it.
 * - NODE_OPTIONS `--max-old-space-size`: V8's heap limit, for both the main and the workflow thread. Node
 *   derives it from the machine's memory (4 GiB on this 24 GiB machine), and V8 lets a heap grow up to about
 *   four times what it keeps alive before collecting when the limit is that high, but only about 1.8 times
 *   under a 1.5 GiB limit. At 1,000 runs one worker keeps 130-230 MiB alive in each thread (bench/README.md,
 *   section 7), well under the limit.
 * - NODE_OPTIONS `--max-semi-space-size=8`: young generations of at most 8 MiB per semi-space. V8 otherwise
 *   grows them under a long staging's allocation rate (one 100% staging: 232-245 MiB of RSS with it, 318-361
 *   without) and under 1,000 runs (peak RSS 722 MiB with it, 846 without, CPU per run 0.295 against 0.304 s):
 *   bench/README.md, sections 2 and 7.
 */
export const WORKER_HEAP_LIMIT_MIB = 1536;
export const WORKER_SEMI_SPACE_MIB = 8;
export const WORKER_PROCESS_ENV = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_CONF: 'background_thread:true',
  NODE_OPTIONS: `--max-old-space-size=${WORKER_HEAP_LIMIT_MIB} --max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`,
} as const;

/**
 * WORKER_PROCESS_ENV, and jemalloc preloaded when its library is given (`LD_PRELOAD`; the image's is
 * Debian's libjemalloc2, the local stack's `.tools/lib/libjemalloc.so.2`). With glibc's malloc the Rust
 * core's and Node's native memory freed by finished runs stays with the process; with jemalloc it goes
 * back: at 1,000 runs the worker's memory outside V8 stayed at about 200 MiB (median; at most 334) instead
 * of growing to 670-720 (bench/README.md, section 7).
 */
export function workerProcessEnv(jemallocLibrary?: string): Record<string, string> {
  return { ...WORKER_PROCESS_ENV, ...(jemallocLibrary ? { LD_PRELOAD: jemallocLibrary } : {}) };
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const wholeNumber = (what: string, fix: string, min: number) =>
  z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: `must be ${what}; ${fix}` })
      .int({ error: `must be ${what}; ${fix}` })
      .min(min, { error: `must be ${what}; ${fix}` })
      .optional(),
  );

export const workerTuningEnvSchema = z.object({
  [WORKER_TUNING_ENV.maxCachedWorkflows]: wholeNumber(
    'a whole number of runs, 0 (no cache: every task replays the history) or 2 and more',
    `unset it for the default (${DEFAULT_MAX_CACHED_WORKFLOWS}), or set the number of runs one worker keeps in memory`,
    0,
  )
    .refine((v) => v !== 1, {
      error: 'must be 0 (no cache) or 2 and more: the SDK needs two cached runs to make progress',
    })
    .describe('runs kept in the sticky workflow cache; an evicted run is replayed from its history at its next task'),
  [WORKER_TUNING_ENV.maxConcurrentActivities]: wholeNumber(
    'a whole number of activities, 1 or more',
    `unset it for the default (${DEFAULT_MAX_CONCURRENT_ACTIVITIES}), or set at least the number of runs one worker follows at once`,
    1,
  ).describe('activities one worker runs at once (each run waiting on its job holds one)'),
  [WORKER_TUNING_ENV.maxConcurrentStagings]: wholeNumber(
    'a whole number of stagings, 1 or more',
    `unset it for the default (${DEFAULT_MAX_CONCURRENT_STAGINGS}), or set how many datasets one worker stages at once`,
    1,
  ).describe('datasets one worker stages at once; a run over the limit waits, heartbeating'),
  [WORKER_TUNING_ENV.memoryReportSeconds]: wholeNumber(
    'a whole number of seconds, 0 (off) or more',
    'unset it or set 0 for no report, or e.g. 60 for one "worker memory" log line a minute',
    0,
  ).describe('seconds between "worker memory" log lines (RSS, both V8 heaps, external, cached runs); 0: none'),
});

export interface WorkerTuning {
  maxCachedWorkflows: number;
  maxConcurrentActivities: number;
  maxConcurrentStagings: number;
  /** 0: no report. */
  memoryReportSeconds: number;
}

export function loadWorkerTuning(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const parsed = workerTuningEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigurationError(describeEnvIssues(parsed.error));
  const v = parsed.data;
  return {
    maxCachedWorkflows: v[WORKER_TUNING_ENV.maxCachedWorkflows] ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    maxConcurrentActivities: v[WORKER_TUNING_ENV.maxConcurrentActivities] ?? DEFAULT_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentStagings: v[WORKER_TUNING_ENV.maxConcurrentStagings] ?? DEFAULT_MAX_CONCURRENT_STAGINGS,
    memoryReportSeconds: v[WORKER_TUNING_ENV.memoryReportSeconds] ?? 0,
  };
}
