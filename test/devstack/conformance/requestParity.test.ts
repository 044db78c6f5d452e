import { compareBodies, firstWrites, flatten, operationOf, unexplained } from './requestParity';

const WS = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

test('operations are named by method and path template; other paths have none', () => {
  expect(operationOf('put', `${WS}/computes/gpu`)).toBe('PUT computes/{name}');
  expect(operationOf('PUT', `${WS}/onlineEndpoints/e1/deployments/demo`)).toBe(
    'PUT onlineEndpoints/{name}/deployments/{name}',
  );
  expect(operationOf('POST', `${WS}/onlineEndpoints/e1/listKeys`)).toBe('POST onlineEndpoints/{name}/listKeys');
  expect(operationOf('PUT', `${WS}/models/m/versions/3`)).toBe('PUT models/{name}/versions/{version}');
  expect(operationOf('GET', '/mlflow/v2.0/runs/get')).toBeUndefined();
  expect(operationOf('PUT', `${WS}/somethingElse/x`)).toBeUndefined();
});

test('flatten names every leaf, keeps empty containers, and compareBodies lists each differing field', () => {
  expect(flatten({ a: { b: [1, { c: 'x' }] }, e: {}, f: [] })).toEqual({ 'a.b[0]': 1, 'a.b[1].c': 'x', e: {}, f: [] });
  const diffs = compareBodies('PUT computes/{name}', { p: { size: 'A', min: 0 } }, { p: { size: 'A', max: 2 } });
  expect(diffs).toEqual([
    { operation: 'PUT computes/{name}', field: 'p.max', sdk: undefined, product: 2 },
    { operation: 'PUT computes/{name}', field: 'p.min', sdk: 0, product: undefined },
  ]);
  expect(unexplained(diffs, [{ operation: /computes/, field: /^p\.min$/, reason: 'r' }]).map((d) => d.field)).toEqual([
    'p.max',
  ]);
});

test('firstWrites keeps the first successful write of each operation', () => {
  const writes = firstWrites([
    { method: 'GET', path: `${WS}/computes/gpu`, status: 200 },
    { method: 'PUT', path: `${WS}/computes/gpu`, status: 400, body: { bad: true } },
    { method: 'PUT', path: `${WS}/computes/gpu`, status: 201, body: { good: 1 } },
    { method: 'PUT', path: `${WS}/computes/gpu`, status: 200, body: { good: 2 } },
  ]);
  expect([...writes.keys()]).toEqual(['PUT computes/{name}']);
  expect(writes.get('PUT computes/{name}')?.body).toEqual({ good: 1 });
});
