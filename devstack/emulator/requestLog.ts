// The log of requests the emulator answered, for tests that assert on what Azure saw
// ("zero PUTs", "one DELETE"), and a count of every request by surface and method that, unlike the
// bounded log, never drops one (benches count reads per run from it). Admin routes are not logged.

export interface LoggedRequest {
  method: string;
  /** The API the route belongs to (arm, registry, mlflow, history, scoring, entra, public; other). */
  surface: string;
  path: string;
  query: string;
  status: number;
  /** When the response was sent (emulator time). */
  time: string;
  /** How long the emulator took to answer, from receiving the request to sending the response. */
  durationMs: number;
  /** The client's User-Agent (azure-ai-ml, @azure/arm-machinelearning, ...): whose request it was. */
  userAgent?: string;
  /** The parsed JSON body of a write (PUT, PATCH, POST), as received; listed by GET /_emulator/requests?bodies=1. */
  body?: unknown;
}

/** Requests answered, by surface (arm, mlflow, ...) and then by method, since the start or the last reset. */
export type RequestCounts = Record<string, Record<string, number>>;

/** ARM reads of jobs (Jobs_List pages and Jobs_Get): what following jobs costs, as benches measure it. */
export interface JobReadCounts {
  list: number;
  get: number;
  /** Of those, the reads the worker's job watcher made (they carry x-ftflow-reader: job-watcher). */
  watcher: number;
}

const JOB_LIST = /\/workspaces\/[^/]+\/jobs$/i;
const JOB_GET = /\/workspaces\/[^/]+\/jobs\/[^/]+$/i;

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private tally: RequestCounts = {};
  private jobs: JobReadCounts = { list: 0, get: 0, watcher: 0 };

  constructor(private readonly limit: number) {}

  add(entry: LoggedRequest): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  /** Counts one answered request of `surface` (the route's; "other" when it has none). */
  count(surface: string, method: string, path = '', reader?: string): void {
    const bySurface = (this.tally[surface] ??= {});
    bySurface[method] = (bySurface[method] ?? 0) + 1;
    if (surface === 'arm' && method === 'GET' && (JOB_LIST.test(path) || JOB_GET.test(path))) {
      if (JOB_LIST.test(path)) this.jobs.list += 1;
      else this.jobs.get += 1;
      if (reader === 'job-watcher') this.jobs.watcher += 1;
    }
  }

  jobReads(): JobReadCounts {
    return { ...this.jobs };
  }

  counts(): RequestCounts {
    return structuredClone(this.tally);
  }

  list(): readonly LoggedRequest[] {
    return this.entries;
  }

  clear(): void {
    this.entries = [];
    this.tally = {};
    this.jobs = { list: 0, get: 0, watcher: 0 };
  }
}
