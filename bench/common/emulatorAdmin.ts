// The Azure ML emulator's admin API (/_emulator/..., loopback only): what Azure saw, as benches read it.

export interface EmulatorJob {
  name: string;
  state: string;
  createdAt: string;
  endedAt: string | null;
}

export interface EmulatorEndpoint {
  name: string;
  state: string;
  deletedAt?: string | null;
}

export interface EmulatorResources {
  counts: { liveEndpoints: number; activeJobs: number; jobs: number };
  endpoints: EmulatorEndpoint[];
  jobs: EmulatorJob[];
}

export interface ThrottleStats {
  throttled: number;
  /** Requests the ARM buckets let through, per type, since the emulator started or was reset. */
  granted: { reads: number; writes: number; deletes: number };
}

export interface EmulatorRequest {
  method: string;
  path: string;
  status: number;
  /** When the response was sent (emulator time). */
  time: string;
  /** The emulator's handling time (request received to response sent). */
  durationMs: number;
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
  requestCounts: (url: string) =>
    admin<{ counts: Record<string, Record<string, number>> }>(url, 'requests/counts').then((r) => r.counts),
  clock: (url: string) => admin<Record<string, unknown>>(url, 'clock'),
  setClock: (url: string, clock: Record<string, unknown>) =>
    admin<Record<string, unknown>>(url, 'clock', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(clock),
    }),
};
