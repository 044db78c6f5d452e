// The contract check at run time: finds the swagger operation a request addresses (method + path
// template + the swagger version that checks its api-version, from the api-version table), validates
// its path, query and body against the operation's parameters, and validates the response the emulator
// sends against the declared status codes, headers and body schema. Schemas and the table come from
// contract.generated.json (data.ts) (no reference files are read at run time).
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { isObject, queryParam } from '../json';
import { DATA_PLANE_PREFIX, registeredVersions, rowFor } from './apiVersions';
import { CONTRACT_DATA } from './data';
import { EXTRA_OPERATIONS } from './extra';
import type { ContractData, ContractOperation, ContractParameter, JsonSchema } from './types';

export type { ApiVersionRow, ContractOperation } from './types';
export { OPERATION_STATUS_TYPES, resourceTypeOf } from './apiVersions';

/** One thing wrong with a request or a response. `target` is a dotted path (body) or a parameter name. */
export interface ContractIssue {
  target: string;
  message: string;
}

export interface MatchedOperation {
  /** The api-version the request asked for. */
  apiVersion: string;
  /** The api-version whose swagger describes the operation and checks it (its own, or the nearest stable's). */
  specVersion: string;
  operation: ContractOperation;
  pathParams: Record<string, string>;
  /** True for the emulator's own ARM routes described by ARM conventions, not by a swagger file. */
  extra: boolean;
}

/** ISO-8601 durations as ARM writes them (PT10M, PT1M30S, P1D, PT0.5S). */
export const ISO_8601_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

/** Formats the swagger files use; the spec cross-check test asserts the list is complete. */
export const SUPPORTED_FORMATS: readonly string[] = [
  'int32',
  'int64',
  'float',
  'double',
  'duration',
  'uuid',
  'date-time',
  'date',
  'uri',
  'url',
  'arm-id',
  'byte',
  'password',
  'binary',
];

interface CompiledOperation {
  operation: ContractOperation;
  specVersion: string;
  extra: boolean;
  regex: RegExp;
  names: string[];
}

type Mode = 'request' | 'response';

export class Contract {
  private readonly compiled: CompiledOperation[] = [];
  private readonly ajv = new Map<string, Ajv>();
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly data: ContractData = CONTRACT_DATA) {
    for (const [specVersion, v] of Object.entries(data.versions)) {
      for (const operation of v.operations) this.compiled.push(compileOperation(operation, specVersion, false));
    }
    for (const operation of EXTRA_OPERATIONS) this.compiled.push(compileOperation(operation, '*', true));
  }

  /** The ARM api-versions registered for the resource type `path` addresses, newest first. */
  registeredVersions(path: string): string[] {
    return registeredVersions(this.data.apiVersions, path);
  }

  /** The operation `method path` addresses in `apiVersion`: undefined when the version is not accepted
   *  for the path's resource type, or when its swagger has no such operation. */
  match(method: string, path: string, apiVersion: string): MatchedOperation | undefined {
    const specVersion = rowFor(this.data.apiVersions, path, apiVersion)?.schema;
    if (specVersion === undefined) return undefined;
    const p = stripDataPlane(path);
    for (const c of this.compiled) {
      if (c.operation.method !== method || (c.specVersion !== specVersion && c.specVersion !== '*')) continue;
      const m = c.regex.exec(p);
      if (!m) continue;
      const pathParams: Record<string, string> = {};
      c.names.forEach((name, i) => {
        pathParams[name] = safeDecode(m[i + 1] ?? '');
      });
      return {
        apiVersion,
        specVersion,
        operation: c.operation,
        pathParams,
        extra: c.extra,
      };
    }
    return undefined;
  }

  validateRequest(m: MatchedOperation, query: unknown, body: unknown): ContractIssue[] {
    const issues: ContractIssue[] = [];
    for (const p of m.operation.parameters) {
      if (p.in === 'path') {
        const value = m.pathParams[p.name];
        if (value === undefined) continue;
        issues.push(...this.check(m, 'request', p.schema, value, p.name, `parameter:${p.name}`));
      } else if (p.in === 'query') {
        const raw = queryParam(query, p.name);
        if (raw === undefined) {
          if (p.required) issues.push({ target: p.name, message: `The query parameter '${p.name}' is required.` });
          continue;
        }
        issues.push(...this.check(m, 'request', p.schema, coerce(raw, p), p.name, `parameter:${p.name}`));
      } else if (p.in === 'body') {
        if (body === undefined || body === null) {
          if (p.required) issues.push({ target: 'body', message: 'The request body is required.' });
          continue;
        }
        issues.push(...this.check(m, 'request', p.schema, body, '', 'body'));
      }
    }
    return issues;
  }

  /** `headers` with lower-case names; `body` parsed JSON, or undefined when the response has none. */
  validateResponse(
    m: MatchedOperation,
    status: number,
    headers: Record<string, string | undefined>,
    body: unknown,
  ): ContractIssue[] {
    const declared = m.operation.responses[String(status)];
    const response = declared ?? m.operation.responses['default'];
    if (!response || (!declared && status < 300)) {
      return [
        {
          target: 'status',
          message: `${m.operation.operationId} does not declare status ${status} (declared: ${Object.keys(m.operation.responses).join(', ')}).`,
        },
      ];
    }
    const issues: ContractIssue[] = [];
    if (response.schema) {
      if (body === undefined)
        issues.push({ target: 'body', message: `Status ${status} of ${m.operation.operationId} must have a body.` });
      else issues.push(...this.check(m, 'response', response.schema, body, '', `response:${status}`));
    } else if (body !== undefined) {
      issues.push({ target: 'body', message: `Status ${status} of ${m.operation.operationId} declares no body.` });
    }
    for (const [name, schema] of Object.entries(response.headers ?? {})) {
      const value = headers[name];
      if (value === undefined) {
        issues.push({
          target: `header:${name}`,
          message: `Status ${status} of ${m.operation.operationId} must carry the ${name} header.`,
        });
        continue;
      }
      // Retry-After: the swagger's 10..600 s range is the service's; the emulator's is configurable.
      const relaxed = name === 'retry-after' ? { ...schema, minimum: undefined, maximum: undefined } : schema;
      const typed = schema['type'] === 'integer' || schema['type'] === 'number' ? Number(value) : value;
      issues.push(...this.check(m, 'response', relaxed, typed, `header:${name}`, `header:${status}:${name}`));
    }
    return issues;
  }

  private check(
    m: MatchedOperation,
    mode: Mode,
    schema: JsonSchema,
    value: unknown,
    prefix: string,
    cacheKey: string,
  ): ContractIssue[] {
    const key = `${m.specVersion}|${mode}|${m.operation.operationId}|${m.operation.method}|${cacheKey}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajvFor(m.specVersion, mode).compile(withBase(schema, rootId(m.specVersion, mode)));
      this.validators.set(key, validate);
    }
    if (validate(value)) return [];
    return describe(validate.errors ?? [], prefix);
  }

  private ajvFor(specVersion: string, mode: Mode): Ajv {
    const key = `${specVersion}|${mode}`;
    let ajv = this.ajv.get(key);
    if (!ajv) {
      ajv = newAjv();
      const definitions = this.data.versions[specVersion]?.definitions ?? {};
      ajv.addSchema({ $id: rootId(specVersion, mode), definitions: modeDefinitions(definitions, mode) });
      this.ajv.set(key, ajv);
    }
    return ajv;
  }
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false, validateFormats: true });
  addFormats(ajv, [
    'int32',
    'int64',
    'float',
    'double',
    'uuid',
    'date-time',
    'date',
    'uri',
    'url',
    'byte',
    'password',
    'binary',
  ]);
  ajv.addFormat('duration', ISO_8601_DURATION);
  ajv.addFormat('arm-id', /^\//);
  return ajv;
}

function rootId(specVersion: string, mode: Mode): string {
  return `https://emulator.invalid/contract/${specVersion}/${mode}`;
}

function compileOperation(operation: ContractOperation, specVersion: string, extra: boolean): CompiledOperation {
  const names: string[] = [];
  const pattern = operation.path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (m?.[1]) {
        names.push(m[1]);
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { operation, specVersion, extra, names, regex: new RegExp(`^${pattern}/?$`, 'i') };
}

function stripDataPlane(path: string): string {
  return path.replace(DATA_PLANE_PREFIX, '');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Points the schema's local `#/...` refs at the version's definitions document. */
function withBase(schema: JsonSchema, base: string): JsonSchema {
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (!isObject(v)) return v;
    const out: JsonSchema = {};
    for (const [k, x] of Object.entries(v))
      out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#') ? `${base}${x}` : visit(x);
    return out;
  };
  return visit(schema) as JsonSchema;
}

/** Requests may omit read-only properties (and ARM ignores any it is sent); responses leave out
 *  write-only ones (secrets), so neither kind is required in that direction. */
export function modeDefinitions(definitions: Record<string, JsonSchema>, mode: Mode): Record<string, JsonSchema> {
  const marker = mode === 'request' ? 'readOnly' : 'writeOnly';
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (!isObject(v)) return v;
    const out: JsonSchema = {};
    for (const [k, x] of Object.entries(v)) out[k] = visit(x);
    if (isObject(v['properties'])) {
      const skipped = Object.entries(v['properties'])
        .filter(([, p]) => isObject(p) && p[marker] === true)
        .map(([name]) => name);
      if (skipped.length > 0) {
        if (mode === 'request') {
          const props = { ...(out['properties'] as JsonSchema) };
          for (const name of skipped) props[name] = {};
          out['properties'] = props;
        }
        if (Array.isArray(out['required']))
          out['required'] = (out['required'] as unknown[]).filter((r) => typeof r !== 'string' || !skipped.includes(r));
      }
    }
    return out;
  };
  return Object.fromEntries(Object.entries(definitions).map(([k, s]) => [k, visit(s) as JsonSchema]));
}

function coerce(raw: string, p: ContractParameter): unknown {
  const type = p.schema['type'];
  if (type === 'integer' || type === 'number')
    return raw.trim() === '' ? raw : Number.isNaN(Number(raw)) ? raw : Number(raw);
  if (type === 'boolean') return /^true$/i.test(raw) ? true : /^false$/i.test(raw) ? false : raw;
  if (type === 'array') return raw.split(',');
  return raw;
}

/** Ajv errors → one issue per distinct problem, with dotted targets. Dispatcher and nullable
 *  branches (if/anyOf/null) are left out: their useful half is reported on its own. */
function describe(errors: readonly ErrorObject[], prefix: string): ContractIssue[] {
  const out: ContractIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf') continue;
    if (e.keyword === 'type' && (e.params as { type?: unknown }).type === 'null') continue;
    const base = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const at = (extra?: string): string =>
      [prefix, ...base, ...(extra ? [extra] : [])].filter((s) => s !== '').join('.') || 'body';
    let issue: ContractIssue;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        issue = {
          target: at(String(params['missingProperty'])),
          message: `The field '${at(String(params['missingProperty']))}' is required.`,
        };
        break;
      case 'additionalProperties':
        issue = {
          target: at(String(params['additionalProperty'])),
          message: `Could not find member '${String(params['additionalProperty'])}' on object of type '${at() === 'body' ? 'request body' : at()}'.`,
        };
        break;
      case 'enum':
        issue = {
          target: at(),
          message: `The value of '${at()}' must be one of ${JSON.stringify((params['allowedValues'] as unknown[] | undefined)?.filter((v) => v !== null) ?? [])}.`,
        };
        break;
      case 'format':
        issue = {
          target: at(),
          message: `The value of '${at()}' is not a valid ${String(params['format'])}${params['format'] === 'duration' ? ' (ISO 8601, e.g. PT10M or PT1M30S)' : ''}.`,
        };
        break;
      default:
        issue = { target: at(), message: `The value of '${at()}' ${e.message ?? 'is invalid'}.` };
    }
    const key = `${issue.target}|${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue);
    }
  }
  return out;
}
