// The Azure ML emulator's admin API (/_emulator/..., loopback only): what Azure saw, as benches read it.

export interface EmulatorJob {
  name: string;
  state: string;
  createdAt: string;
  endedAt: string | null;
  /** Every status the job has had, with the emulator time it began. */
  statusHistory?: { status: string; at: string }[];
}

/** What every resource with a long-running create and delete reports (endpoints, deployments, computes). */
export interface EmulatorLifetime {
  name: string;
  state: string;
  createdAt?: string;
  deleteRequestedAt?: string | null;
  deletedAt?: string | null;
}

export type EmulatorEndpoint = EmulatorLifetime;

export interface EmulatorResources {
  counts: { liveEndpoints: number; activeJobs: number; jobs: number };
  endpoints: EmulatorEndpoint[];
  deployments?: (EmulatorLifetime & { endpoint: string })[];
  computes?: EmulatorLifetime[];
  jobs: EmulatorJob[];
}

/** Every request the emulator answered since it started, by surface (arm, mlflow, ...) and method. */
export type RequestCounts = Record<string, Record<string, number>>;

export interface ThrottleStats {
  throttled: number;
  /** Requests the ARM buckets let through, per type, since the emulator started or was reset. */
  granted: { reads: number; writes: number; deletes: number };
}

export interface EmulatorRequest {
  method: string;
  /** The API the route belongs to (arm, registry, mlflow, history, scoring, entra, public, other). */
  surface?: string;
  path: string;
  status: number;
  /** When the response was sent (emulator time). */
  time: string;
  /** The emulator's handling time (request received to response sent). */
  durationMs: number;
  userAgent?: string;
}

async function admin<T>(emulatorUrl: string, route: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${emulatorUrl}/_emulator/${route}`, init);
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} /_emulator/${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const emulatorAdmin = {
  resources: (url: string) => admin<EmulatorResources>(url, 'resources'),
  throttle: (url: string) => admin<ThrottleStats>(url, 'throttle'),
  requests: (url: string) => admin<{ count: number; requests: EmulatorRequest[] }>(url, 'requests'),
  /** Every request answered, by surface (arm, mlflow, ...) and method; never drops one, unlike the log. */
  requestCounts: async (url: string) => (await admin<{ counts: RequestCounts }>(url, 'requests/counts')).counts,
  /** ARM reads of jobs so far: Jobs_List pages and Jobs_Get (what following jobs costs). */
  jobReads: async (url: string) =>
    (await admin<{ jobReads: { list: number; get: number; watcher: number } }>(url, 'requests/counts')).jobReads,
  /** Event Grid subscriptions with their delivery counts. */
  eventSubscriptions: async (url: string) =>
    (await admin<{ value: { name: string; counts: Record<string, number> }[] }>(url, 'event-subscriptions')).value,
  createEventSubscription: (url: string, name: string, endpointUrl: string) =>
    admin<Record<string, unknown>>(url, `event-subscriptions/${name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        properties: {
          destination: { endpointType: 'WebHook', properties: { endpointUrl } },
          eventDeliverySchema: 'EventGridSchema',
          filter: { includedEventTypes: ['Microsoft.MachineLearningServices.RunStatusChanged'] },
        },
      }),
    }),
  clock: (url: string) => admin<Record<string, unknown>>(url, 'clock'),
  setClock: (url: string, clock: Record<string, unknown>) =>
    admin<Record<string, unknown>>(url, 'clock', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(clock),
    }),
};
