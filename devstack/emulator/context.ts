// What every route module gets: resolved configuration, state, catalog, blob access, clock and
// the emulator's own public origin (known only once the server listens).
import type { BlobAccess } from './blob';
import type { Catalog } from './catalog';
import type { EmulatorTime } from './clock';
import type { ContractMonitor } from './contractPolicy';
import type { FaultInjector } from './faults';
import type { ResolvedConfig } from './options';
import type { RequestLog } from './requestLog';
import type { JobLogs } from './jobLogs';
import type { Store } from './store';
import type { Throttle } from './throttle';

export interface EmulatorContext {
  readonly config: ResolvedConfig;
  readonly store: Store;
  readonly catalog: Catalog;
  readonly blob: BlobAccess | undefined;
  readonly requests: RequestLog;
  /** The one time source (real or stepped). */
  readonly time: EmulatorTime;
  readonly throttle: Throttle;
  readonly faults: FaultInjector;
  readonly contract: ContractMonitor;
  /** Each job's log blob in the artifact store, kept current as readers ask for it. */
  readonly jobLogs: JobLogs;
  now(): number;
  /** https://127.0.0.1:PORT (no trailing slash). */
  baseUrl(): string;
}

export const ML_PROVIDER = 'Microsoft.MachineLearningServices';

/** ARM id of the workspace: /subscriptions/{sub}/resourceGroups/{rg}/providers/.../workspaces/{ws}. */
export function workspaceArmId(ctx: EmulatorContext): string {
  const { subscriptionId, resourceGroup, workspace } = ctx.config.identities;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${ML_PROVIDER}/workspaces/${workspace}`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** ARM systemData for a resource created and last modified at the given times. */
export function systemData(ctx: EmulatorContext, createdAt: number, modifiedAt: number): Record<string, string> {
  const by = ctx.config.identities.clientId;
  return {
    createdAt: isoTime(createdAt),
    createdBy: by,
    createdByType: 'Application',
    lastModifiedAt: isoTime(modifiedAt),
    lastModifiedBy: by,
    lastModifiedByType: 'Application',
  };
}

/** Case-insensitive name comparison (ARM resource names are case-insensitive). */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
