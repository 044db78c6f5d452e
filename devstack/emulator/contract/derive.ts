// Extracts the flow's operations from Azure's swagger files (reference/azure-ml-rest) and
// converts their schemas to JSON Schema draft-07. Used by generate.ts to write contract.generated.json and
// by the cross-check test; never at run time (the emulator runs without the reference folder).
//
// Conversion rules (swagger 2.0 + Azure extensions → draft-07):
// - `$ref`s are resolved by file name and definition name (the specs' relative paths to the common
//   types do not resolve in the reference layout); a definition name defined in more than one file
//   is prefixed with its file's stem.
// - Inheritance (`allOf` with a `$ref`) is flattened: a definition carries its ancestors' properties
//   and required lists, so `additionalProperties: false` means what autorest means by it.
// - A definition with a `discriminator` becomes a dispatcher: if/then/else on the discriminator
//   value → the matching descendant (flattened); any other value is checked against the
//   discriminator property's own schema (its enum) only.
// - `readOnly` (or x-ms-mutability ["read"]) and write-only (x-ms-secret, or x-ms-mutability
//   without "read") are kept as draft-07 readOnly/writeOnly annotations: requests may omit
//   read-only properties, responses never carry write-only ones (contract/index.ts).
// - `x-nullable` adds null; swagger's boolean exclusiveMinimum/Maximum become draft-07 numbers;
//   descriptions, defaults, examples and other x-ms-* annotations are dropped.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isObject, type JsonObject } from '../json';
import { API_VERSION_TABLE } from './apiVersionTable';
import { resourceTypeOf } from './apiVersions';
import type {
  ApiVersionRow,
  ContractData,
  ContractOperation,
  ContractParameter,
  ContractResponse,
  ContractVersion,
  JsonSchema,
  ParameterLocation,
} from './types';

/** The workspace operations the emulator serves in both api-versions (swagger operationIds). */
const WORKSPACE_OPERATIONS = [
  'Workspaces_Get',
  'Datastores_List',
  'Datastores_Get',
  'Datastores_ListSecrets',
  'Compute_List',
  'Compute_Get',
  'Compute_CreateOrUpdate',
  'Compute_Delete',
  'VirtualMachineSizes_List',
  'Usages_List',
  'Jobs_List',
  'Jobs_Get',
  'Jobs_CreateOrUpdate',
  'Jobs_Cancel',
  'ModelContainers_Get',
  'ModelVersions_List',
  'ModelVersions_Get',
  'ModelVersions_CreateOrUpdate',
  'OnlineEndpoints_List',
  'OnlineEndpoints_Get',
  'OnlineEndpoints_CreateOrUpdate',
  'OnlineEndpoints_Delete',
  'OnlineEndpoints_ListKeys',
  'OnlineDeployments_List',
  'OnlineDeployments_Get',
  'OnlineDeployments_CreateOrUpdate',
  'OnlineDeployments_Delete',
];

/** The operations the emulator serves, per api-version. */
export const CONTRACT_OPERATIONS: Readonly<Record<string, readonly string[]>> = {
  '2022-10-01': WORKSPACE_OPERATIONS,
  '2024-04-01': [
    ...WORKSPACE_OPERATIONS,
    'RegistryModelVersions_List',
    'RegistryModelVersions_Get',
    'RegistryComponentVersions_List',
    'RegistryComponentVersions_Get',
  ],
};

const COMMON_TYPES_DIR = 'common-types/resource-management/v3';
const COMMON_FILES = ['types.json', 'managedidentity.json', 'privatelinks.json'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head'];

/** Schema keywords copied as they are. */
const COPIED = [
  'type',
  'format',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'multipleOf',
  'minProperties',
  'maxProperties',
  'readOnly',
  'required',
];

interface DefId {
  file: string;
  name: string;
}

const idText = (d: DefId): string => `${d.file}#${d.name}`;

export function deriveContract(
  referenceDir: string,
  table: readonly ApiVersionRow[] = API_VERSION_TABLE,
): ContractData {
  const versions: Record<string, ContractVersion> = {};
  for (const [version, operationIds] of Object.entries(CONTRACT_OPERATIONS)) {
    versions[version] = new VersionDeriver(referenceDir, version).derive(operationIds);
  }
  return { apiVersions: checkApiVersionTable(table, versions), versions };
}

/** The api-version table as data, after checking that it means something: one row per api-version, each
 *  checked against a derived swagger version (its own when it says so), each resource type it names
 *  served by at least one operation of that version. */
export function checkApiVersionTable(
  table: readonly ApiVersionRow[],
  versions: Readonly<Record<string, ContractVersion>>,
): ApiVersionRow[] {
  const seen = new Set<string>();
  for (const row of table) {
    const where = `api-version table: ${row.version}`;
    if (seen.has(row.version)) throw new Error(`${where} is listed twice`);
    seen.add(row.version);
    const spec = versions[row.schema];
    if (!spec) throw new Error(`${where} is checked against ${row.schema}, which has no swagger in the contract`);
    if (row.source === 'own swagger' && row.schema !== row.version)
      throw new Error(`${where} says 'own swagger' but is checked against ${row.schema}`);
    if (row.source === 'nearest stable' && (row.schema === row.version || /-preview$/.test(row.schema)))
      throw new Error(`${where} says 'nearest stable' but is checked against ${row.schema}`);
    if (row.resourceTypes.length === 0) throw new Error(`${where} names no resource type`);
    for (const type of row.resourceTypes) {
      if (!spec.operations.some((op) => resourceTypeOf(op.path).toLowerCase() === type.toLowerCase()))
        throw new Error(`${where}: ${row.schema} has no operation on resource type ${type}`);
    }
  }
  return table.map((row) => ({ ...row, resourceTypes: [...row.resourceTypes] }));
}

class VersionDeriver {
  private readonly docs = new Map<string, JsonObject>();
  private readonly ownFiles: string[];
  private readonly nameCount = new Map<string, number>();
  private readonly children = new Map<string, { id: DefId; value: string }[]>();
  private readonly definitions: Record<string, JsonSchema> = {};
  private readonly pending: DefId[] = [];
  private readonly emitted = new Set<string>();

  constructor(
    referenceDir: string,
    private readonly version: string,
  ) {
    const dir = join(referenceDir, version);
    this.ownFiles = ['machineLearningServices.json', 'mfe.json', 'registries.json'].filter((f) => {
      try {
        this.docs.set(f, readJson(join(dir, f)));
        return true;
      } catch {
        return false;
      }
    });
    for (const f of COMMON_FILES) this.docs.set(f, readJson(join(referenceDir, COMMON_TYPES_DIR, f)));
    for (const doc of this.docs.values()) {
      for (const name of Object.keys(asObj(doc['definitions'])))
        this.nameCount.set(name, (this.nameCount.get(name) ?? 0) + 1);
    }
    this.indexDiscriminatorChildren();
  }

  derive(operationIds: readonly string[]): ContractVersion {
    const operations: ContractOperation[] = [];
    for (const wanted of operationIds) {
      const op = this.findOperation(wanted);
      if (!op) throw new Error(`contract: operation ${wanted} not found in ${this.version}`);
      operations.push(op);
    }
    while (this.pending.length > 0) {
      const next = this.pending.shift();
      if (next) this.emitDefinition(next);
    }
    const definitions = Object.fromEntries(Object.entries(this.definitions).sort(([a], [b]) => a.localeCompare(b)));
    return {
      files: [
        ...this.ownFiles.map((f) => `${this.version}/${f}`),
        ...COMMON_FILES.map((f) => `${COMMON_TYPES_DIR}/${f}`),
      ],
      operations: operations.sort((a, b) => a.operationId.localeCompare(b.operationId)),
      definitions,
    };
  }

  // ---- operations ------------------------------------------------------------------------------

  private findOperation(operationId: string): ContractOperation | undefined {
    for (const file of this.ownFiles) {
      const doc = this.doc(file);
      for (const [path, rawItem] of Object.entries(asObj(doc['paths']))) {
        const item = asObj(rawItem);
        for (const method of METHODS) {
          const op = asObj(item[method]);
          if (op['operationId'] !== operationId) continue;
          const params = [...asArr(item['parameters']), ...asArr(op['parameters'])];
          const parameters: ContractParameter[] = [];
          for (const raw of params) {
            const p = this.parameter(raw, file);
            if (p && !parameters.some((x) => x.name === p.name && x.in === p.in)) parameters.push(p);
          }
          const responses: Record<string, ContractResponse> = {};
          for (const [status, rawResponse] of Object.entries(asObj(op['responses']))) {
            const r = asObj(rawResponse);
            const out: ContractResponse = {};
            if (isObject(r['schema'])) out.schema = this.schema(r['schema'], file);
            const headers = asObj(r['headers']);
            if (Object.keys(headers).length > 0) {
              out.headers = Object.fromEntries(
                Object.entries(headers).map(([h, s]) => [h.toLowerCase(), this.simpleSchema(asObj(s))]),
              );
            }
            responses[status] = out;
          }
          const lroOptions = asObj(op['x-ms-long-running-operation-options']);
          const finalStateVia =
            typeof lroOptions['final-state-via'] === 'string' ? lroOptions['final-state-via'] : undefined;
          return {
            operationId,
            method: method.toUpperCase(),
            path,
            parameters,
            responses,
            longRunning: op['x-ms-long-running-operation'] === true,
            ...(finalStateVia ? { finalStateVia } : {}),
          };
        }
      }
    }
    return undefined;
  }

  private parameter(raw: unknown, file: string): ContractParameter | undefined {
    let p = asObj(raw);
    if (typeof p['$ref'] === 'string') {
      const ref = this.resolveRef(p['$ref'], file);
      p = asObj(asObj(this.doc(ref.file)['parameters'])[ref.name]);
      if (Object.keys(p).length === 0) throw new Error(`contract: parameter ${String(raw)} not found`);
      file = ref.file;
    }
    const where = p['in'];
    const name = p['name'];
    if (typeof name !== 'string' || (where !== 'path' && where !== 'query' && where !== 'body')) return undefined;
    if (name === 'api-version') return undefined; // checked by the api-version policy
    const schema = where === 'body' ? this.schema(p['schema'], file) : this.simpleSchema(p);
    return { name, in: where as ParameterLocation, required: p['required'] === true, schema };
  }

  /** Schema of a non-body parameter or a response header (type, format, pattern, enum, ranges). */
  private simpleSchema(p: JsonObject): JsonSchema {
    const out: JsonSchema = {};
    for (const k of [
      'type',
      'format',
      'enum',
      'pattern',
      'minimum',
      'maximum',
      'minLength',
      'maxLength',
      'minItems',
      'maxItems',
    ]) {
      if (p[k] !== undefined) out[k] = structuredClone(p[k]);
    }
    if (isObject(p['items'])) out['items'] = this.simpleSchema(p['items']);
    return out;
  }

  // ---- definitions -----------------------------------------------------------------------------

  private resolveRef(ref: string, fromFile: string): DefId & { section: string } {
    const [filePart = '', pointer = ''] = ref.split('#', 2);
    const file = filePart === '' ? fromFile : basename(filePart);
    if (!this.docs.has(file)) throw new Error(`contract: $ref ${ref} names file ${file}, which is not loaded`);
    const m = /^\/(definitions|parameters)\/(.+)$/.exec(pointer);
    if (!m?.[1] || !m[2]) throw new Error(`contract: unsupported $ref ${ref}`);
    return { file, name: m[2], section: m[1] };
  }

  private keyOf(id: DefId): string {
    return (this.nameCount.get(id.name) ?? 0) > 1 ? `${id.file.replace(/\.json$/, '')}_${id.name}` : id.name;
  }

  private def(id: DefId): JsonObject {
    const d = asObj(this.doc(id.file)['definitions'])[id.name];
    if (!isObject(d)) throw new Error(`contract: definition ${idText(id)} not found`);
    return d;
  }

  private isBase(id: DefId): boolean {
    return typeof this.def(id)['discriminator'] === 'string';
  }

  /** A reference to a definition (the dispatcher, for discriminator bases); queues its emission. */
  private refTo(id: DefId): JsonSchema {
    const key = this.keyOf(id);
    if (!this.emitted.has(idText(id))) {
      this.emitted.add(idText(id));
      this.pending.push(id);
    }
    return { $ref: `#/definitions/${key}` };
  }

  private emitDefinition(id: DefId): void {
    const key = this.keyOf(id);
    const def = this.def(id);
    if (typeof def['discriminator'] === 'string') {
      const property = def['discriminator'];
      // A value no descendant declares is refused by the discriminator's own schema (its enum).
      const base = this.flatten(id);
      const own = asObj(asObj(base['properties'])[property]);
      let dispatch: JsonSchema = { type: 'object', required: [property], properties: { [property]: own } };
      const kids = [...(this.children.get(idText(id)) ?? [])].sort((a, b) => b.value.localeCompare(a.value));
      for (const kid of kids) {
        dispatch = {
          if: { properties: { [property]: { const: kid.value } }, required: [property] },
          then: this.refTo(kid.id),
          else: dispatch,
        };
      }
      this.definitions[key] = dispatch;
      return;
    }
    this.definitions[key] = this.flatten(id);
  }

  /** The definition with its ancestors' properties merged in (allOf flattened). */
  private flatten(id: DefId): JsonSchema {
    const def = this.def(id);
    const parents = asArr(def['allOf']);
    const own = this.schema({ ...def, allOf: undefined, discriminator: undefined }, id.file);
    if (parents.length === 0) return own;
    const properties: Record<string, unknown> = {};
    const required = new Set<string>();
    let additionalProperties: unknown;
    const inline: JsonSchema[] = [];
    for (const parent of parents) {
      const p = asObj(parent);
      const flat =
        typeof p['$ref'] === 'string' ? this.flatten(this.resolveRef(p['$ref'], id.file)) : this.schema(p, id.file);
      if (typeof p['$ref'] !== 'string' && !isObject(flat['properties'])) {
        inline.push(flat);
        continue;
      }
      Object.assign(properties, asObj(flat['properties']));
      for (const r of asArr(flat['required'])) if (typeof r === 'string') required.add(r);
      if (flat['additionalProperties'] !== undefined) additionalProperties = flat['additionalProperties'];
    }
    Object.assign(properties, asObj(own['properties']));
    for (const r of asArr(own['required'])) if (typeof r === 'string') required.add(r);
    if (own['additionalProperties'] !== undefined) additionalProperties = own['additionalProperties'];
    const out: JsonSchema = { type: 'object', properties };
    if (required.size > 0) out['required'] = [...required];
    if (additionalProperties !== undefined) out['additionalProperties'] = additionalProperties;
    if (inline.length > 0) out['allOf'] = inline;
    return out;
  }

  /** Converts one swagger schema (property, item, body, ...) to draft-07. */
  private schema(raw: unknown, file: string): JsonSchema {
    const s = asObj(raw);
    const nullable = s['x-nullable'] === true;
    // x-ms-mutability without "read" (or x-ms-secret) = never returned; ["read"] alone = read-only.
    const mutability = Array.isArray(s['x-ms-mutability']) ? s['x-ms-mutability'] : undefined;
    const writeOnly = s['x-ms-secret'] === true || (mutability !== undefined && !mutability.includes('read'));
    const readOnly =
      s['readOnly'] === true || (mutability !== undefined && mutability.length === 1 && mutability[0] === 'read');
    if (typeof s['$ref'] === 'string') {
      const ref = this.resolveRef(s['$ref'], file);
      let out: JsonSchema = this.refTo(ref);
      if (nullable) out = { anyOf: [out, { type: 'null' }] };
      if (readOnly || writeOnly)
        out = {
          ...(out['$ref'] ? { allOf: [out] } : out),
          ...(readOnly ? { readOnly: true } : {}),
          ...(writeOnly ? { writeOnly: true } : {}),
        };
      return out;
    }
    const out: JsonSchema = {};
    if (readOnly) out['readOnly'] = true;
    if (writeOnly) out['writeOnly'] = true;
    for (const k of COPIED) {
      if (s[k] !== undefined) out[k] = structuredClone(s[k]);
    }
    if (s['exclusiveMinimum'] === true && typeof s['minimum'] === 'number') {
      out['exclusiveMinimum'] = s['minimum'];
      delete out['minimum'];
    }
    if (s['exclusiveMaximum'] === true && typeof s['maximum'] === 'number') {
      out['exclusiveMaximum'] = s['maximum'];
      delete out['maximum'];
    }
    if (isObject(s['properties'])) {
      out['properties'] = Object.fromEntries(
        Object.entries(s['properties']).map(([k, v]) => [k, this.schema(v, file)]),
      );
    }
    if (typeof s['additionalProperties'] === 'boolean') out['additionalProperties'] = s['additionalProperties'];
    else if (isObject(s['additionalProperties']))
      out['additionalProperties'] = this.schema(s['additionalProperties'], file);
    if (isObject(s['items'])) out['items'] = this.schema(s['items'], file);
    if (Array.isArray(s['allOf'])) {
      out['allOf'] = s['allOf'].map((entry) => {
        const e = asObj(entry);
        return typeof e['$ref'] === 'string' ? this.refTo(this.resolveRef(e['$ref'], file)) : this.schema(e, file);
      });
    }
    if (out['type'] === 'file') delete out['type'];
    if (nullable) {
      if (typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
      if (Array.isArray(out['enum'])) out['enum'] = [...(out['enum'] as unknown[]), null];
      if (out['type'] === undefined && out['enum'] === undefined) return { anyOf: [out, { type: 'null' }] };
    }
    return out;
  }

  /** Every definition that inherits (through allOf, transitively) from a discriminator base. */
  private indexDiscriminatorChildren(): void {
    const parentsOf = new Map<string, DefId[]>();
    const all: DefId[] = [];
    for (const [file, doc] of this.docs) {
      for (const [name, rawDef] of Object.entries(asObj(doc['definitions']))) {
        const id = { file, name };
        all.push(id);
        const parents = asArr(asObj(rawDef)['allOf'])
          .map((e) => asObj(e)['$ref'])
          .filter((r): r is string => typeof r === 'string')
          .map((r) => this.resolveRef(r, file));
        parentsOf.set(
          idText(id),
          parents.map((p) => ({ file: p.file, name: p.name })),
        );
      }
    }
    const ancestors = (id: DefId, seen = new Set<string>()): DefId[] => {
      const out: DefId[] = [];
      for (const p of parentsOf.get(idText(id)) ?? []) {
        if (seen.has(idText(p))) continue;
        seen.add(idText(p));
        out.push(p, ...ancestors(p, seen));
      }
      return out;
    };
    for (const id of all) {
      const def = this.def(id);
      const value = typeof def['x-ms-discriminator-value'] === 'string' ? def['x-ms-discriminator-value'] : id.name;
      for (const a of ancestors(id)) {
        if (!this.isBase(a)) continue;
        const list = this.children.get(idText(a)) ?? [];
        list.push({ id, value });
        this.children.set(idText(a), list);
      }
    }
  }

  private doc(file: string): JsonObject {
    const d = this.docs.get(file);
    if (!d) throw new Error(`contract: ${file} is not loaded`);
    return d;
  }
}

function readJson(path: string): JsonObject {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isObject(parsed)) throw new Error(`contract: ${path} is not a JSON object`);
  return parsed;
}

function asObj(v: unknown): JsonObject {
  return isObject(v) ? v : {};
}

function asArr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
