// Bounds on what a run spec may hold, and on the messages and issue lists built from bad input (issue
// 13, "bounded everything"). A failure Temporal cannot carry (gRPC refuses messages over 4 MB) is never
// reported: the step is retried until its attempts run out. So every list of problems shows its first
// entries and how many more there are, and every failure message has a hard length cap. Pure: used by
// the schema, the workflow, the activities and the front ends.

/**
 * Largest sizes a run spec may have. Each is far above real use: chat_completion_pipeline declares
 * about 70 inputs, a chat model takes about a dozen sampling parameters, a job logs a few dozen metrics,
 * their names are under 40 characters and their values are short literals.
 */
export const SPEC_LIMITS = {
  /** `training` entries (the pipeline component declares about 70 inputs). */
  trainingParameters: 256,
  /** `scoring.parameters` entries. */
  scoringParameters: 64,
  /** `qualityGate` metrics. */
  qualityGateMetrics: 64,
  /** Characters in a key of `training`, `scoring.parameters` or `qualityGate`. */
  keyLength: 128,
  /** Characters in a string value of `training` or `scoring.parameters`. */
  stringValueLength: 1024,
  /** Levels of nesting (the deepest field, e.g. qualityGate.eval_loss.max, is 3). */
  depth: 8,
} as const;

/** Keys that would change an object's prototype (or pose as its constructor): refused anywhere in a spec. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The message for a forbidden key, wherever it is. */
export function forbiddenKeyMessage(key: string): string {
  return `"${key}" is not allowed as a key in a run spec (__proto__, constructor and prototype never are): remove it`;
}

/** Problems listed in one failure message (resolveModel's training check, a run spec's issues in a message). */
export const MAX_LISTED_PROBLEMS = 20;
/** Issues a RunSpecError carries (and the API and the CLI show). */
export const MAX_SPEC_ISSUES = 50;
/** Characters of one issue's field or message. */
export const MAX_ISSUE_CHARS = 1000;
/** Hard cap on a failure message: far below gRPC's 4 MB, large enough for every message we write. */
export const MAX_FAILURE_MESSAGE_CHARS = 8192;

/** 50000 -> "50,000": the same in every locale. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The first `max` items and, when there are more, "and N more" (`what`: "more problems", ...). */
export function listWithCap(items: readonly string[], max = MAX_LISTED_PROBLEMS, what = 'more'): string[] {
  if (items.length <= max) return [...items];
  return [...items.slice(0, max), `and ${formatCount(items.length - max)} ${what}`];
}

/** `text` cut to at most `max` characters, saying how many were cut (never splits a surrogate pair). */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = (cut: number) => `… (${formatCount(cut)} characters cut)`;
  let keep = Math.max(0, max - note(text.length).length);
  const code = text.charCodeAt(keep - 1);
  if (code >= 0xd800 && code <= 0xdbff) keep -= 1;
  return text.slice(0, keep) + note(text.length - keep);
}

/** A key shown in a message: at most 40 characters. */
export function shownKey(key: string): string {
  return key.length <= 40 ? key : `${key.slice(0, 40)}…`;
}

export interface ShapeIssue {
  field: string;
  message: string;
}

/** The records whose sizes are capped, by path. */
const CAPPED_RECORDS: readonly { path: string; max: number; noun: string }[] = [
  { path: 'training', max: SPEC_LIMITS.trainingParameters, noun: 'entries' },
  { path: 'scoring.parameters', max: SPEC_LIMITS.scoringParameters, noun: 'entries' },
  { path: 'qualityGate', max: SPEC_LIMITS.qualityGateMetrics, noun: 'metrics' },
];

const NOTES: Record<string, string> = {
  training: ' (the pipeline component declares about 70 inputs)',
};

/** Why a record at `path` is too large or has a key too long, or undefined. */
export function recordSizeProblem(path: string, record: object): string | undefined {
  const capped = CAPPED_RECORDS.find((r) => r.path === path);
  if (!capped) return undefined;
  const keys = Object.keys(record);
  if (keys.length > capped.max)
    return `${path} has ${formatCount(keys.length)} ${capped.noun}: at most ${capped.max} are allowed${NOTES[path] ?? ''}`;
  const long = keys.find((k) => k.length > SPEC_LIMITS.keyLength);
  if (long !== undefined)
    return `${path} has a key of ${formatCount(long.length)} characters ("${shownKey(long)}"): keys are at most ${SPEC_LIMITS.keyLength} characters`;
  return undefined;
}

function isPlainContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/**
 * What is wrong with the shape of a spec before the schema reads it: keys that would change a
 * prototype (__proto__, constructor, prototype) anywhere, nesting deeper than any field, and records
 * larger than their caps. Iterative, so a spec nested 100,000 levels deep is judged, not a stack
 * overflow. Own keys only: JSON.parse and the YAML parser keep "__proto__" as an own key.
 */
export function specShapeIssues(input: unknown): ShapeIssue[] {
  const issues: ShapeIssue[] = [];
  const stack: { value: object; path: string[] }[] = isPlainContainer(input) ? [{ value: input, path: [] }] : [];
  while (stack.length > 0 && issues.length < MAX_SPEC_ISSUES) {
    const { value, path } = stack.pop() as { value: object; path: string[] };
    const field = path.join('.');
    if (path.length > SPEC_LIMITS.depth) {
      issues.push({
        field: truncateText(field, MAX_ISSUE_CHARS),
        message: `the spec is nested deeper than ${SPEC_LIMITS.depth} levels here: no field of a run spec is`,
      });
      continue;
    }
    const size = Array.isArray(value) ? undefined : recordSizeProblem(field, value);
    if (size) {
      issues.push({ field, message: size });
      continue;
    }
    const keys = Object.keys(value);
    for (const key of keys) {
      if (FORBIDDEN_KEYS.has(key)) issues.push({ field: [...path, key].join('.'), message: forbiddenKeyMessage(key) });
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      const child = (value as Record<string, unknown>)[key];
      if (!FORBIDDEN_KEYS.has(key) && isPlainContainer(child)) stack.push({ value: child, path: [...path, key] });
    }
  }
  return issues;
}
