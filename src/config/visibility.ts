// Visibility queries over fineTune runs (Temporal's list filter language), built from validated values
// only, so a filter can never change the query's meaning. Shared by the client (src/control/, src/client.ts)
// and the activities (findActiveRun), so it lives below both, beside the search attributes it names.
import type { Client } from '@temporalio/client';
import { FINETUNE_SEARCH_ATTRIBUTES as SA } from './searchAttributes';

export const FINE_TUNE_WORKFLOW_TYPE = 'fineTune';

/** What a filter value may contain: registry/model names, dataset ids, content keys, statuses. */
const SAFE_VALUE = /^[\w.:/@+-]{1,256}$/;

export class InvalidFilterError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidFilterError';
  }
}

export function quoted(field: string, value: string): string {
  if (!SAFE_VALUE.test(value)) {
    throw new InvalidFilterError(
      field,
      `${field} may contain only letters, digits and . _ : / @ + - (got ${JSON.stringify(value)})`,
    );
  }
  return `'${value}'`;
}

/** The user's words for a run's state, and Temporal's execution status each one lists. */
export const RUN_STATUS_FILTERS = {
  running: 'Running',
  succeeded: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
} as const;
export type RunStatusFilter = keyof typeof RUN_STATUS_FILTERS;

export interface RunFilter {
  status?: RunStatusFilter;
  /** "registry/name" as recorded (FineTuneModel), or a bare name in the azureml registry. */
  model?: string;
  /** Hugging Face dataset id (FineTuneDataset). */
  dataset?: string;
  contentKey?: string;
}

/** Where the runs are: the task queue of the service's workers (src/control/ownership.ts). */
export interface RunScope {
  taskQueue?: string;
}

export function runListQuery(filter: RunFilter = {}, scope: RunScope = {}): string {
  const clauses = [`WorkflowType = '${FINE_TUNE_WORKFLOW_TYPE}'`];
  if (scope.taskQueue !== undefined) clauses.push(`TaskQueue = ${quoted('taskQueue', scope.taskQueue)}`);
  if (filter.status !== undefined) {
    const status = RUN_STATUS_FILTERS[filter.status];
    if (status === undefined)
      throw new InvalidFilterError('status', `status must be one of ${Object.keys(RUN_STATUS_FILTERS).join(', ')}`);
    clauses.push(`ExecutionStatus = '${status}'`);
  }
  if (filter.model !== undefined) {
    const model = filter.model.includes('/') ? filter.model : `azureml/${filter.model}`;
    clauses.push(`${SA.model.name} = ${quoted('model', model)}`);
  }
  if (filter.dataset !== undefined) clauses.push(`${SA.dataset.name} = ${quoted('dataset', filter.dataset)}`);
  if (filter.contentKey !== undefined)
    clauses.push(`${SA.contentKey.name} = ${quoted('contentKey', filter.contentKey)}`);
  return clauses.join(' AND ');
}

/**
 * The id of a running run that trains the same thing, if any. Visibility is eventually consistent
 * (milliseconds on the dev server, about a second on Temporal Cloud): two starts closer together than
 * that can both start; docs/usage.md (Retraining schedules, De-duplication) says which paths are
 * strictly serialized.
 */
export async function findActiveRun(
  client: Client,
  contentKey: string,
  taskQueue?: string,
): Promise<string | undefined> {
  const query = runListQuery({ status: 'running', contentKey }, { taskQueue });
  for await (const run of client.workflow.list({ query, pageSize: 1 })) return run.workflowId;
  return undefined;
}
