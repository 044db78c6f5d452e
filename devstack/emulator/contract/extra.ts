// ARM routes the emulator serves that no swagger file describes: the long-running operation status
// (Azure-AsyncOperation → mfeOperationsStatus) and result (Location → mfeOperationResults) URLs.
// Their shapes follow ARM's asynchronous-operation convention (MicrosoftDocs/azure-docs
// articles/azure-resource-manager/management/async-operations.md): a status body {id, name, status,
// startTime, endTime, percentComplete, error}; a Location URL answering 202 (+ Location, Retry-After)
// while running and 200/204 when done.
import type { ContractOperation } from './types';

const LOCATION_PREFIX =
  '/subscriptions/{subscriptionId}/providers/Microsoft.MachineLearningServices/locations/{location}';
const PATH_PARAMS = [
  { name: 'subscriptionId', in: 'path' as const, required: true, schema: { type: 'string', minLength: 1 } },
  { name: 'location', in: 'path' as const, required: true, schema: { type: 'string', pattern: '^[-\\w\\._]+$' } },
  { name: 'operationId', in: 'path' as const, required: true, schema: { type: 'string', minLength: 1 } },
];
const ERROR = { schema: { $ref: '#/definitions/ErrorResponse' } };

export const EXTRA_OPERATIONS: readonly ContractOperation[] = [
  {
    operationId: 'OperationStatus_Get',
    method: 'GET',
    path: `${LOCATION_PREFIX}/mfeOperationsStatus/{operationId}`,
    parameters: PATH_PARAMS,
    responses: {
      '200': {
        schema: {
          type: 'object',
          required: ['id', 'name', 'status'],
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            status: { type: 'string', minLength: 1 },
            startTime: { type: 'string', format: 'date-time' },
            endTime: { type: 'string', format: 'date-time' },
            percentComplete: { type: 'number', minimum: 0, maximum: 100 },
            properties: { type: 'object' },
            error: { $ref: '#/definitions/ErrorDetail' },
          },
        },
      },
      default: ERROR,
    },
    longRunning: false,
  },
  {
    operationId: 'OperationResult_Get',
    method: 'GET',
    path: `${LOCATION_PREFIX}/mfeOperationResults/{operationId}`,
    parameters: PATH_PARAMS,
    responses: {
      '200': {},
      '202': { headers: { location: { type: 'string' }, 'retry-after': { type: 'integer' } } },
      '204': {},
      default: ERROR,
    },
    longRunning: false,
  },
];
