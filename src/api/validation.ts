// Request validation: zod schemas for what the routes read besides the run spec (the spec itself goes
// through the shared schema in the client), and their issues as {field, message} like the spec's.
import { z } from 'zod';
import { DATASET_ENV } from '../dataset/sourceSettings';
import { localFileEntries } from '../runSpec/dataset';
import { RunSpecError, describeIssue, parseRunSpec, type RunSpec, type SpecIssue } from '../runSpec/schema';
import { issueMessage } from '../runSpec/issueMessages';
import { RUN_STATUS_FILTERS } from '../config/visibility';
import { OVERLAP_POLICIES } from '../control/schedules';
import { ControlError } from '../control/errors';

const overlap = z.enum(
  Object.keys(OVERLAP_POLICIES) as [keyof typeof OVERLAP_POLICIES, ...(keyof typeof OVERLAP_POLICIES)[]],
);

export const IdempotencyKeyHeader = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,124}$/,
    "Idempotency-Key must be 1-125 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
  )
  .optional();

export const StartQuery = z.strictObject({
  /** Return a running run that trains the same thing instead of starting another (ignored with an Idempotency-Key). */
  dedupe: z.enum(['true', 'false']).default('true'),
  /** Plan instead of starting: the checks of the run's first steps, read-only, and the cost estimate. */
  dryRun: z.enum(['true', 'false']).default('false'),
});

export const ListQuery = z.strictObject({
  status: z
    .enum(Object.keys(RUN_STATUS_FILTERS) as [keyof typeof RUN_STATUS_FILTERS, ...(keyof typeof RUN_STATUS_FILTERS)[]])
    .optional(),
  model: z.string().min(1).optional(),
  dataset: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  pageToken: z.string().min(1).max(4096).optional(),
});

export const EventsQuery = z.strictObject({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const MetricsQuery = z.strictObject({
  /** One metric or a comma-separated list (default: loss, eval_loss, learning_rate, epoch). */
  metric: z
    .string()
    .regex(/^[\w./ -]{1,250}(,[\w./ -]{1,250}){0,19}$/, 'metric names, comma-separated (at most 20)')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  pageToken: z.string().min(1).max(4096).optional(),
});

export const LogsQuery = z.strictObject({
  lines: z.coerce.number().int().min(1).max(10_000).default(100),
});

export const CancelQuery = z.strictObject({
  /** Seconds to wait for the run's cleanup before answering 202. */
  wait: z.coerce.number().min(0).max(300).default(30),
});

/** Keep the endpoint serving longer, or end it now: exactly one (src/control/keepAlive.ts checks the rest). */
export const KeepAliveBody = z.strictObject({
  extendMinutes: z.number().optional(),
  end: z.boolean().optional(),
});

export const CreateScheduleBody = z.strictObject({
  scheduleId: z.string().min(1),
  spec: z.unknown().default({}),
  every: z.string().min(1).optional(),
  cron: z.string().min(1).optional(),
  timezone: z.string().min(1).optional(),
  overlap: overlap.optional(),
  catchupWindow: z.string().min(1).optional(),
  pauseOnFailure: z.boolean().optional(),
  paused: z.boolean().optional(),
  note: z.string().max(500).optional(),
});

export const NoteBody = z.strictObject({ note: z.string().max(500).optional() }).default({});

export const ScheduleActionQuery = z.strictObject({
  /** Seconds to wait for the schedule to act on the ticks before answering (202 if it has not yet). */
  wait: z.coerce.number().min(0).max(60).default(10),
});

export const BackfillBody = z.strictObject({
  start: z.iso.datetime({ offset: true }),
  end: z.iso.datetime({ offset: true }),
  overlap: overlap.optional(),
});

/** Parses a part of the request; the fields of the error are prefixed with where they were (query, header, body). */
export function parsePart<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'query' | 'body' | 'header',
): z.output<S> {
  const result = schema.safeParse(value, { error: issueMessage });
  if (result.success) return result.data;
  const issues: SpecIssue[] = result.error.issues.map((i) => {
    const d = describeIssue(i);
    return { field: d.field === '(spec)' ? where : `${where}.${d.field}`, message: d.message };
  });
  throw new ControlError('invalid', `invalid ${where}`, issues);
}

/**
 * API callers may name files on the worker's disk only where the operator said workers read local files
 * (FTFLOW_DATA_ROOT in the API's environment). A spec the schema refuses is left to the client, which
 * reports every issue; this check only adds the local-path refusal, field by field.
 */
export function refuseLocalDatasetPaths(spec: unknown, allowed: boolean): void {
  if (allowed) return;
  let parsed: RunSpec;
  try {
    parsed = parseRunSpec(spec);
  } catch (err) {
    if (err instanceof RunSpecError) return;
    throw err;
  }
  const local = localFileEntries(parsed.dataset);
  if (local.length === 0) return;
  const message = `a local path is not accepted through the API: upload the file to the workspace datastore and give its azureml://datastores/<name>/paths/<path> URI or an https URL (operators whose workers read local files set ${DATASET_ENV.dataRoot})`;
  throw new ControlError(
    'invalid',
    `${local.map((l) => l.field).join(', ')}: ${message}`,
    local.map((l) => ({ field: l.field, message })),
  );
}
