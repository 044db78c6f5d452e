// The dashboard's client of the HTTP API: same origin, the key only in the Authorization header (never in
// a URL, a cookie or localStorage), and the API's one error shape. The types are the fields the page reads,
// as the OpenAPI document (/openapi.json) describes them.

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'cancelled', 'terminated', 'timed-out'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunSummary {
  id: string;
  status: RunStatus;
  outcome?: string;
  stage?: string;
  model?: string;
  dataset?: string;
  createdAt: string;
  finishedAt?: string;
  source?: string;
  scheduleId?: string;
  idempotencyKey?: string;
}

export interface StepState {
  name: string;
  status: 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';
  startedAt?: string;
  endedAt?: string;
  detail?: string;
}

export interface Training {
  step?: number;
  totalSteps?: number;
  epoch?: number;
  totalEpochs?: number;
  trainLoss?: number;
  evalLoss?: number;
  learningRate?: number;
  elapsedSeconds?: number;
  gpuSeconds?: number;
  etaSeconds?: number;
  readAt: string;
}

export interface RunRecord extends RunSummary {
  currentStep?: string;
  steps: StepState[];
  jobName?: string;
  jobStatus?: string;
  jobStatusSince?: string;
  studioUrl?: string;
  training?: Training;
  endpointName?: string;
  endpointExpiresAt?: string;
  metrics?: Record<string, number>;
  cost?: RunCost;
  warnings: string[];
  notes: string[];
  error?: string;
  progressAvailable: boolean;
}

/** What the run costs, US dollars at list prices (docs/operations.md, What a run costs): the parts the page shows. */
export interface RunCost {
  estimatedUsd: number | null;
  actualUsd: number | null;
  maxCostUsd?: number;
  actual?: { training: { usd: number | null }; endpoint: { usd: number | null } };
}

export interface RunEvent {
  id: string;
  createdAt: string;
  level: 'info' | 'warn' | 'error';
  type: string;
  message: string;
  step?: string;
}

export interface MetricSeries {
  metric: string;
  points: { step: number; value: number; timestamp: string }[];
}

export interface ApiKeyInfo {
  id: string;
  scopes: string[];
}

export interface Page<T> {
  data: T[];
  nextPageToken?: string | null;
  hasMore?: boolean;
  lastId?: string | null;
}

/** An answer that is not a success, with the API's error type and message (and Retry-After on 429). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const WRITE_SCOPE = 'fine-tunes:write';
export const READ_SCOPE = 'fine-tunes:read';
/** The keep-alive route (issue 17): the page offers it only when the server's OpenAPI document lists it. */
export const KEEP_ALIVE_PATH = '/v1/fine-tunes/{id}/keep-alive';

export class Api {
  constructor(private readonly key: string) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (err) {
      // No answer, or the browser refused to send it (e.g. a key with characters a header cannot hold).
      const why = err instanceof Error ? err.message : String(err);
      throw new ApiError(0, 'network_error', `the request failed: ${why}`);
    }
    const textBody = await res.text();
    let parsed: unknown;
    try {
      parsed = textBody ? JSON.parse(textBody) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const error = (parsed as { error?: { type?: string; message?: string } } | undefined)?.error;
      const retry = Number(res.headers.get('retry-after'));
      throw new ApiError(
        res.status,
        error?.type ?? 'api_error',
        error?.message ?? `${method} ${path} answered ${res.status}`,
        Number.isFinite(retry) && retry > 0 ? retry : undefined,
      );
    }
    return parsed as T;
  }

  whoAmI(): Promise<ApiKeyInfo> {
    return this.call('GET', '/v1/api-key');
  }

  list(filter: { status?: string; model?: string; limit?: number; pageToken?: string }): Promise<Page<RunSummary>> {
    const q = new URLSearchParams();
    if (filter.status) q.set('status', filter.status);
    if (filter.model) q.set('model', filter.model);
    q.set('limit', String(filter.limit ?? 50));
    if (filter.pageToken) q.set('pageToken', filter.pageToken);
    return this.call('GET', `/v1/fine-tunes?${q.toString()}`);
  }

  get(id: string): Promise<RunRecord> {
    return this.call('GET', `/v1/fine-tunes/${encodeURIComponent(id)}`);
  }

  events(id: string, after?: string): Promise<Page<RunEvent>> {
    const q = new URLSearchParams({ limit: '500' });
    if (after) q.set('after', after);
    return this.call('GET', `/v1/fine-tunes/${encodeURIComponent(id)}/events?${q.toString()}`);
  }

  /** Every point of the given series, following the pages (at most `maxPages`). */
  async metrics(id: string, metrics: string[], maxPages = 20): Promise<MetricSeries[]> {
    const series = new Map<string, MetricSeries>(metrics.map((m) => [m, { metric: m, points: [] }]));
    let pageToken: string | undefined;
    for (let i = 0; i < maxPages; i++) {
      const q = new URLSearchParams({ metric: metrics.join(','), limit: '1000' });
      if (pageToken) q.set('pageToken', pageToken);
      const page = await this.call<Page<MetricSeries>>(
        'GET',
        `/v1/fine-tunes/${encodeURIComponent(id)}/metrics?${q.toString()}`,
      );
      for (const s of page.data) series.get(s.metric)?.points.push(...s.points);
      if (!page.nextPageToken) break;
      pageToken = page.nextPageToken;
    }
    return [...series.values()];
  }

  logs(id: string, lines = 200): Promise<{ lines: string[]; file: string; truncated: boolean }> {
    return this.call('GET', `/v1/fine-tunes/${encodeURIComponent(id)}/logs?lines=${lines}`);
  }

  /** Asks for the cancellation and answers at once (wait=0): the page follows the run to its end. */
  cancel(id: string): Promise<{ status: string; cleanup: string; message?: string }> {
    return this.call('POST', `/v1/fine-tunes/${encodeURIComponent(id)}/cancel?wait=0`);
  }

  resume(id: string): Promise<{ runId: string; previousStatus: string }> {
    return this.call('POST', `/v1/fine-tunes/${encodeURIComponent(id)}/resume`);
  }

  keepAlive(id: string, change: { extendMinutes: number } | { end: true }): Promise<unknown> {
    return this.call('POST', `/v1/fine-tunes/${encodeURIComponent(id)}/keep-alive`, change);
  }
}

/** Whether the server's OpenAPI document has a route (public: read without a key). */
export async function serverHasRoute(path: string, method: 'get' | 'post'): Promise<boolean> {
  try {
    const res = await fetch('/openapi.json', { credentials: 'omit' });
    if (!res.ok) return false;
    const doc = (await res.json()) as { paths?: Record<string, Record<string, unknown>> };
    return doc.paths?.[path]?.[method] !== undefined;
  } catch {
    return false;
  }
}
