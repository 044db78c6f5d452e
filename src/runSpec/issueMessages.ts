// Messages for the checks whose schema gives none of its own (zod's defaults read ">=1" or "Invalid
// input"): each names the field and says what it must be. A message set in a schema always wins: zod
// only asks a per-parse error map about issues the schema left without one.
import type { z } from 'zod';
import { formatCount, shownKey } from './limits';

/** Unknown fields named in one message; the rest are counted. */
const MAX_NAMED_KEYS = 10;

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  record: 'a mapping of names to values',
  array: 'a list',
  bigint: 'an integer',
  date: 'a date',
  null: 'null',
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

/** What a value is, in the words of the messages ("a string", "a list"). */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeName(typeof value);
}

function fieldOf(path: readonly PropertyKey[] | undefined): string {
  return path && path.length > 0 ? path.map(String).join('.') : 'the spec';
}

function bound(issue: { origin: string; inclusive?: boolean }, limit: unknown, least: boolean): string {
  const n = Number(limit);
  switch (issue.origin) {
    case 'string':
      if (least && n === 1) return 'must not be empty';
      return `must have ${least ? 'at least' : 'at most'} ${n} character${n === 1 ? '' : 's'}`;
    case 'array':
    case 'set':
      return `must have ${least ? 'at least' : 'at most'} ${n} item${n === 1 ? '' : 's'}`;
    default:
      if (issue.inclusive === false) return `must be ${least ? 'greater' : 'less'} than ${String(limit)}`;
      return `must be ${least ? 'at least' : 'at most'} ${String(limit)}`;
  }
}

/** The types the branches of a union expected, from their own type issues ("a string, a number or true or false"). */
function unionTypes(branches: readonly (readonly z.core.$ZodIssue[])[]): string | undefined {
  const names: string[] = [];
  for (const branch of branches) {
    const typeIssue = branch.find((i) => i.code === 'invalid_type' && i.path.length === 0);
    if (!typeIssue || typeIssue.code !== 'invalid_type') return undefined;
    const name = typeIssue.expected === 'boolean' ? 'a boolean' : typeName(typeIssue.expected);
    if (!names.includes(name)) names.push(name);
  }
  if (names.length === 0) return undefined;
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** A per-parse error map (`schema.safeParse(value, { error: issueMessage })`). */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const field = fieldOf(issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = typeName(issue.expected);
      if (issue.input === undefined) return `${field} is required: give ${expected}`;
      return `${field} must be ${expected}, not ${kindOf(issue.input)}`;
    }
    case 'too_small':
      return `${field} ${bound(issue, issue.minimum, true)}`;
    case 'too_big':
      return `${field} ${bound(issue, issue.maximum, false)}`;
    case 'invalid_union': {
      const types = unionTypes(issue.errors);
      return types ? `${field} must be ${types}, not ${kindOf(issue.input)}` : undefined;
    }
    case 'unrecognized_keys': {
      const named = issue.keys
        .slice(0, MAX_NAMED_KEYS)
        .map((k) => `"${shownKey(k)}"`)
        .join(', ');
      const more =
        issue.keys.length > MAX_NAMED_KEYS ? ` and ${formatCount(issue.keys.length - MAX_NAMED_KEYS)} more` : '';
      return `unknown field(s) ${named}${more}: remove them or check the spelling`;
    }
    case 'invalid_key': {
      // A record's key its key schema refused: that schema's own message says what is wrong.
      const inner = issue.issues.find((i) => typeof i.message === 'string' && i.message !== '');
      return inner ? inner.message : `${field} is not a valid key`;
    }
    case 'invalid_value':
      return `${field} must be ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}`;
    default:
      return undefined;
  }
}
