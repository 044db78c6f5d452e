// The emulator's admin API (/_emulator/..., loopback only), as far as chaos uses it: fault rules and
// their hit counts, the clock, and the emulator's own records of resources and billing. Chaos judges
// runs by these records, not by what the runs say about themselves.
import type { FaultRule } from './plan';

export interface FaultRuleState {
  id: string;
  hits: number;
  matched: number;
}

export interface EmulatorClockSettings {
  jobPhaseMs: number;
  jobPhases: Record<string, number>;
  provisionMs: number;
  deleteMs: number;
  cancelMs: number;
  speed: number;
}

export interface EndpointRecord {
  name: string;
  state: string;
  createdAt: string;
  deletedAt: string | null;
}

export interface JobRecord {
  name: string;
  state: string;
  putCount: number;
}

export interface EmulatorResources {
  endpoints: EndpointRecord[];
  jobs: JobRecord[];
}

export interface BilledEndpoint {
  name: string;
  createdAt: string;
  deletedAt: string | null;
  seconds: number;
}

export interface BilledDeployment {
  name: string;
  endpoint: string;
  deletedAt: string | null;
  instanceSeconds: number;
  /** Instance count over time; the last interval of a live deployment ends now. */
  instances: { start: string; end: string; count: number }[];
}

export interface EmulatorBilling {
  now: string;
  endpoints: BilledEndpoint[];
  deployments: BilledDeployment[];
}

/** One call to the admin API at `baseUrl`; a non-2xx answer throws with its status and body. */
export async function callEmulatorAdmin<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}/_emulator/${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`emulator ${method} /_emulator/${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export class EmulatorAdmin {
  constructor(private readonly baseUrl: string) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return callEmulatorAdmin<T>(this.baseUrl, method, path, body);
  }

  async addFaults(rules: readonly FaultRule[]): Promise<string[]> {
    if (rules.length === 0) return [];
    const added = await this.call<{ rules: { id: string }[] }>('POST', 'faults', { rules });
    return added.rules.map((r) => r.id);
  }

  async faults(): Promise<FaultRuleState[]> {
    return (await this.call<{ rules: FaultRuleState[] }>('GET', 'faults')).rules;
  }

  async removeFault(id: string): Promise<void> {
    await this.call('DELETE', `faults/${encodeURIComponent(id)}`);
  }

  clock(): Promise<EmulatorClockSettings> {
    return this.call('GET', 'clock');
  }

  setClock(clock: Partial<EmulatorClockSettings>): Promise<EmulatorClockSettings> {
    return this.call('PUT', 'clock', clock);
  }

  resources(): Promise<EmulatorResources> {
    return this.call('GET', 'resources');
  }

  billing(): Promise<EmulatorBilling> {
    return this.call('GET', 'billing');
  }

  /** 429s the emulator's own ARM throttling answered (not injected faults). */
  async throttled(): Promise<number> {
    return (await this.call<{ throttled: number }>('GET', 'throttle')).throttled;
  }
}
