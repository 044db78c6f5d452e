// The api-version table at run time: which resource type a path addresses, which api-versions ARM
// registers for that type here, and which swagger checks a request made in a given api-version. The
// rows are data (contract.generated.json `apiVersions`, written from apiVersionTable.ts by generate.ts).
import type { ApiVersionRow } from './types';

/** The status and result URLs of long-running operations. Every ARM api-version answers them: an
 *  operation hands them out in the api-version it was started in. */
export const OPERATION_STATUS_TYPES: readonly string[] = [
  'locations/mfeOperationsStatus',
  'locations/mfeOperationResults',
];

/** POST actions on a resource; ARM registers api-versions for the resource's type, not the action's. */
const ACTIONS = new Set(['cancel', 'listkeys', 'listsecrets']);

/** The registry data plane azure-ai-ml and the product read registry assets from. */
export const DATA_PLANE_PREFIX = /^\/mferp\/managementfrontend(?=\/subscriptions\/)/i;

/** The resource type an ARM path (or swagger path template) addresses: the type segments after the
 *  provider namespace, a trailing action folded into its resource's type (`.../jobs/j/cancel` is
 *  `workspaces/jobs`); `workspaces` when the path names no type. */
export function resourceTypeOf(path: string): string {
  const m = /\/providers\/Microsoft\.MachineLearningServices\/(.+)$/i.exec(path);
  if (!m?.[1]) return 'workspaces';
  const parts = m[1].split('/').filter((p) => p !== '');
  const last = parts[parts.length - 1];
  if (parts.length > 1 && parts.length % 2 === 1 && last !== undefined && ACTIONS.has(last.toLowerCase())) parts.pop();
  return parts.filter((_, i) => i % 2 === 0).join('/');
}

function sameType(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Whether the row's api-version is registered for the resource type. */
export function registersType(row: ApiVersionRow, type: string): boolean {
  if (row.resourceTypes.some((t) => sameType(t, type))) return true;
  return row.surface === 'arm' && OPERATION_STATUS_TYPES.some((t) => sameType(t, type));
}

/** The ARM api-versions registered for the resource type `path` addresses, newest first (as
 *  NoRegisteredProviderFound lists them). Empty for a type no row names. */
export function registeredVersions(rows: readonly ApiVersionRow[], path: string): string[] {
  const type = resourceTypeOf(path);
  return rows
    .filter((r) => r.surface === 'arm' && registersType(r, type))
    .map((r) => r.version)
    .sort()
    .reverse();
}

/** The row that accepts `apiVersion` at `path`, if any: an ARM row registered for the path's type, or a
 *  data-plane row on a data-plane path. */
export function rowFor(rows: readonly ApiVersionRow[], path: string, apiVersion: string): ApiVersionRow | undefined {
  const dataPlane = DATA_PLANE_PREFIX.test(path);
  const type = resourceTypeOf(path);
  return rows.find((r) => r.version === apiVersion && (r.surface === 'arm' || dataPlane) && registersType(r, type));
}

/** The api-versions of the rows registered for any of `types` (a route family's accepted list). */
export function versionsForTypes(rows: readonly ApiVersionRow[], types: readonly string[]): string[] {
  return rows.filter((r) => types.some((t) => r.resourceTypes.some((x) => sameType(x, t)))).map((r) => r.version);
}
