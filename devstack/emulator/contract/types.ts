// Shapes of the REST contract the emulator checks requests and responses against: the operations
// of the flow, extracted from Azure's swagger files per api-version and converted to JSON Schema
// (draft-07) by derive.ts. Data lives in contract.generated.json.

/** A JSON Schema (draft-07) object; `$ref`s point into the version's `definitions`. */
export type JsonSchema = { [key: string]: unknown };

export type ParameterLocation = 'path' | 'query' | 'body';

export interface ContractParameter {
  name: string;
  in: ParameterLocation;
  required: boolean;
  schema: JsonSchema;
}

export interface ContractResponse {
  /** Body schema; absent when the response has no body. */
  schema?: JsonSchema;
  /** Declared response headers (lower-case names) and their schemas. */
  headers?: Record<string, JsonSchema>;
}

export interface ContractOperation {
  operationId: string;
  /** Upper-case HTTP method. */
  method: string;
  /** The swagger path template, e.g. /subscriptions/{subscriptionId}/.../onlineEndpoints/{endpointName}. */
  path: string;
  parameters: ContractParameter[];
  /** Keyed by status code ('200', '201', ...) and 'default'. */
  responses: Record<string, ContractResponse>;
  longRunning: boolean;
  finalStateVia?: string;
}

export interface ContractVersion {
  /** Where the operations and definitions come from (file names in the reference folder). */
  files: string[];
  operations: ContractOperation[];
  definitions: Record<string, JsonSchema>;
}

/** Where an accepted api-version's schemas come from: the swagger of that very api-version (vendored in
 *  reference/azure-ml-rest), or, for a version whose swagger is not at hand, the nearest stable one's. */
export type SchemaSource = 'own swagger' | 'nearest stable';

/** One accepted api-version: the resource types it is registered for, the schemas that check it, and why. */
export interface ApiVersionRow {
  version: string;
  /** 'arm': ARM paths (/subscriptions/...); 'registry data plane': /mferp/managementfrontend/subscriptions/... */
  surface: 'arm' | 'registry data plane';
  /** Resource types below Microsoft.MachineLearningServices (e.g. workspaces/computes), actions folded
   *  into their resource's type (listKeys → workspaces/onlineEndpoints). Every ARM version also answers the
   *  operation status and result URLs its long-running operations hand out (OPERATION_STATUS_TYPES). */
  resourceTypes: string[];
  /** The swagger api-version (a key of ContractData.versions) whose operations and schemas check it. */
  schema: string;
  source: SchemaSource;
  why: string;
}

export interface ContractData {
  /** Every api-version the emulator accepts (contract/apiVersionTable.ts, copied here by generate.ts). */
  apiVersions: ApiVersionRow[];
  versions: Record<string, ContractVersion>;
}
