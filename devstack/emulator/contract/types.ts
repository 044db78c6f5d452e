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

export interface ContractData {
  versions: Record<string, ContractVersion>;
}
