// Workspace model versions as registerModel reads them: ModelVersions_List filtered by tags
// ("tag1,tag2=value2") and listViewType (archived versions are left out unless asked for), and the model
// container's nextVersion (Azure's auto-increment: after the highest integer version, archived ones too).
import type { RunningEmulator } from '../../../devstack/emulator/server';
import { armToken, call, startTestEmulator, WS } from './helpers';

const v = 'api-version=2022-10-01';
let emulator: RunningEmulator;
let token: string;

beforeAll(async () => {
  emulator = await startTestEmulator();
  token = await armToken(emulator);
});

afterAll(async () => {
  await emulator?.close();
});

const put = (version: string, tags: Record<string, string>, archived = false) =>
  call(emulator, `${WS}/models/versioned/versions/${version}?${v}`, {
    method: 'PUT',
    token,
    body: {
      properties: {
        modelUri: `azureml://datastores/workspaceblobstore/paths/m/${version}`,
        modelType: 'custom_model',
        tags,
        isArchived: archived,
      },
    },
  });

const names = async (query = ''): Promise<string[]> =>
  (
    (await call(emulator, `${WS}/models/versioned/versions?${v}${query}`, { token })).body as {
      value: { name: string }[];
    }
  ).value.map((m) => m.name);

test('tags and listViewType filter the list; nextVersion is the next integer', async () => {
  expect((await call(emulator, `${WS}/models/versioned?${v}`, { token })).status).toBe(404);
  expect((await put('1', { 'ftflow-run': 'ft-a' })).status).toBe(201);
  expect((await put('2', { 'ftflow-run': 'ft-b', team: 'x' })).status).toBe(201);
  expect((await put('stable', {})).status).toBe(201);
  expect((await put('7', { 'ftflow-run': 'ft-c' }, true)).status).toBe(201);

  expect(await names()).toEqual(['1', '2', 'stable']);
  expect(await names('&listViewType=All')).toEqual(['1', '2', 'stable', '7']);
  expect(await names('&listViewType=ArchivedOnly')).toEqual(['7']);
  expect(await names('&tags=ftflow-run%3Dft-b')).toEqual(['2']);
  expect(await names('&tags=ftflow-run')).toEqual(['1', '2']);
  expect(await names('&tags=ftflow-run%3Dft-b,team%3Dy')).toEqual([]);
  expect(await names('&tags=ftflow-run%3Dft-c&listViewType=All')).toEqual(['7']);

  const container = (await call(emulator, `${WS}/models/versioned?${v}`, { token })).body as {
    properties: { latestVersion: string; nextVersion: string };
  };
  expect(container.properties).toMatchObject({ latestVersion: '7', nextVersion: '8' });
});
