// The cloud plumbing the Python SDKs need before their first call: ARM's cloud metadata document (a
// cloud whose every endpoint is the local stack, Azurite as its storage), tokens for every audience
// the management plane accepts (and the local cloud's own resource manager), and MLflow under
// /mlflow/v2.0 (azureml-mlflow with MLflow 2 and 3) as under /mlflow/v1.0.
import { LOCAL_AZURE } from '../../../src/config/local';
import { storageSuffix } from '../../../devstack/emulator/blob';
import { LOCAL_CLOUD_NAME } from '../../../devstack/emulator/cloud';
import type { RunningEmulator } from '../../../devstack/emulator/server';
import {
  advance,
  armToken,
  blobContainer,
  call,
  chatRows,
  credentialFor,
  pipelineJobBody,
  startAzurite,
  startTestEmulator,
  WS,
  type Azurite,
  createCluster,
} from './helpers';

const v = '?api-version=2022-10-01';
const METADATA = '/metadata/endpoints?api-version=2019-05-01';

let azurite: Azurite;
let emulator: RunningEmulator;
let token: string;

interface CloudDoc {
  name: string;
  portal: string;
  resourceManager: string;
  authentication: { loginEndpoint: string; audiences: string[]; tenant: string; identityProvider: string };
  suffixes: { storage: string };
}

beforeAll(async () => {
  azurite = await startAzurite();
  emulator = await startTestEmulator({
    azuriteBlobUrl: azurite.url,
    timeMode: 'stepped',
    clock: { jobPhaseMs: 1000, provisionMs: 100, deleteMs: 100, cancelMs: 100 },
  });
  token = await armToken(emulator);
}, 60_000);

afterAll(async () => {
  await emulator?.close();
  await azurite?.stop();
});

describe('cloud metadata', () => {
  test('2019-05-01 lists one cloud, every endpoint on the emulator and Azurite, anonymously', async () => {
    const res = await call(emulator, METADATA);
    expect(res.status).toBe(200);
    const clouds = res.body as CloudDoc[];
    expect(Array.isArray(clouds)).toBe(true);
    expect(clouds).toHaveLength(1);
    const azuritePort = new URL(azurite.url).port;
    expect(clouds[0]).toEqual({
      name: LOCAL_CLOUD_NAME,
      portal: `${emulator.url}/_emulator/studio`,
      resourceManager: `${emulator.url}/`,
      authentication: {
        loginEndpoint: `${emulator.url}/`,
        audiences: [`${emulator.url}/`, 'https://management.core.windows.net/', 'https://management.azure.com/'],
        tenant: LOCAL_AZURE.tenantId,
        identityProvider: 'AAD',
      },
      suffixes: { storage: `core.localhost:${azuritePort}` },
    });
    // azure-ai-ml picks the cloud whose resourceManager is part of ARM_CLOUD_METADATA_URL.
    expect(`${emulator.url}${METADATA}`).toContain(clouds[0]?.resourceManager);
    // The token endpoint under the login endpoint answers for the tenant the document names.
    const discovery = await call(
      emulator,
      `${clouds[0]?.authentication.loginEndpoint}${clouds[0]?.authentication.tenant}/v2.0/.well-known/openid-configuration`,
    );
    expect(discovery.body).toMatchObject({ token_endpoint: expect.stringContaining(`${emulator.url}/`) });
  });

  test('the document names the origin the client used', async () => {
    const url = emulator.url.replace('127.0.0.1', 'localhost');
    const clouds = (await call(emulator, `${url}${METADATA}`)).body as CloudDoc[];
    expect(clouds[0]?.resourceManager).toBe(`${url}/`);
    expect(clouds[0]?.authentication.loginEndpoint).toBe(`${url}/`);
  });

  test('2015-01-01 and 2018-01-01 describe the one cloud as an object', async () => {
    for (const version of ['2015-01-01', '2018-01-01']) {
      const res = await call(emulator, `/metadata/endpoints?api-version=${version}`);
      expect(res.body).toMatchObject({ name: LOCAL_CLOUD_NAME, resourceManager: `${emulator.url}/` });
    }
  });

  test('without a known api-version it is refused as ARM refuses it', async () => {
    expect(await call(emulator, '/metadata/endpoints')).toMatchObject({
      status: 400,
      body: { error: { code: 'MissingApiVersionParameter' } },
    });
    expect(await call(emulator, '/metadata/endpoints?api-version=2019-01-01')).toMatchObject({
      status: 400,
      body: { error: { code: 'InvalidApiVersionParameter' } },
    });
  });

  test("the storage suffix is core. and Azurite's host and port, a loopback address written localhost", () => {
    expect(storageSuffix('http://127.0.0.1:10000/devstoreaccount1')).toBe('core.localhost:10000');
    expect(storageSuffix('https://localhost:10443/devstoreaccount1')).toBe('core.localhost:10443');
    expect(storageSuffix('https://[::1]:10000/devstoreaccount1')).toBe('core.localhost:10000');
    expect(storageSuffix('http://azurite:10000/devstoreaccount1')).toBe('core.azurite:10000');
    expect(storageSuffix(undefined)).toBe('core.localhost:10000');
  });
});

describe('token audiences', () => {
  const workspace = `${WS}${v}`;

  test("every audience ARM accepts, and the local cloud's resource manager under each of its names", async () => {
    const port = new URL(emulator.url).port;
    const audiences = [
      'https://management.azure.com',
      'https://management.azure.com/',
      'https://management.core.windows.net',
      'https://management.core.windows.net/',
      emulator.url,
      `${emulator.url}/`,
      `https://localhost:${port}`,
      `https://[::1]:${port}/`,
    ];
    for (const audience of audiences) {
      const t = (await credentialFor(emulator).getToken(`${audience}/.default`)).token;
      const claims = JSON.parse(Buffer.from(t.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud: string };
      expect(claims.aud).toBe(audience);
      for (const path of [
        workspace,
        `/history/v1.0${WS}/runs/none/details`,
        `/mlflow/v2.0${WS}/api/2.0/mlflow/experiments/get-by-name?experiment_name=none`,
      ]) {
        const res = await call(emulator, path, { token: t });
        expect({ audience, path, status: res.status }).toEqual({
          audience,
          path,
          status: path === workspace ? 200 : 404,
        });
      }
    }
  });

  test('a token for any other audience is refused, naming the allowed ones', async () => {
    const port = Number(new URL(emulator.url).port);
    for (const audience of [
      'https://storage.azure.com',
      'https://graph.microsoft.com',
      'https://management.azure.com/extra',
      `https://127.0.0.1:${port + 1}`,
      'https://ml.azure.com',
    ]) {
      const t = (await credentialFor(emulator).getToken(`${audience}/.default`)).token;
      const res = await call(emulator, workspace, { token: t });
      expect({ audience, status: res.status, body: res.body }).toMatchObject({
        audience,
        status: 401,
        body: {
          error: {
            code: 'InvalidAuthenticationTokenAudience',
            message: expect.stringContaining(
              `'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com','${emulator.url}/','${emulator.url}'`,
            ),
          },
        },
      });
      expect((await call(emulator, `/mlflow/v2.0${WS}/api/2.0/mlflow/runs/get?run_id=x`, { token: t })).status).toBe(
        401,
      );
    }
  });
});

describe('MLflow under /mlflow/v2.0', () => {
  const v1 = `/mlflow/v1.0${WS}/api/2.0/mlflow`;
  const v2 = `/mlflow/v2.0${WS}/api/2.0/mlflow`;

  beforeAll(async () => {
    await createCluster(emulator, token, 'cpu');
    await advance(emulator, 200);
    const container = blobContainer(azurite);
    for (const [path, rows] of [
      ['v2/train.jsonl', 40],
      ['v2/test.jsonl', 10],
    ] as const) {
      await container.getBlockBlobClient(path).upload(chatRows(rows), Buffer.byteLength(chatRows(rows)));
    }
    const res = await call(emulator, `${WS}/jobs/v2-job${v}`, {
      method: 'PUT',
      token,
      body: pipelineJobBody({
        compute: 'cpu',
        train: 'v2/train.jsonl',
        test: 'v2/test.jsonl',
        experimentName: 'exp-v2',
      }),
    });
    expect(res.status).toBe(201);
    await advance(emulator, 3500); // halfway through Running
  });

  test('the paths azureml-mlflow calls answer as under v1.0', async () => {
    const experiment = (await call(emulator, `${v2}/experiments/get-by-name?experiment_name=exp-v2`, { token }))
      .body as { experiment: { experiment_id: string; name: string } };
    expect(experiment.experiment.name).toBe('exp-v2');
    const search = await call(emulator, `${v2}/runs/search`, {
      method: 'POST',
      token,
      // As MLflow 3's RestStore sends it.
      body: {
        experiment_ids: [experiment.experiment.experiment_id],
        filter: "tags.mlflow.rootRunId = 'v2-job'",
        run_view_type: 'ACTIVE_ONLY',
        max_results: 1000,
        order_by: [],
      },
    });
    const runs = (search.body as { runs: { info: { run_id: string; status: string } }[] }).runs;
    expect(runs.map((r) => r.info.status)).toEqual(['RUNNING', 'RUNNING']);
    const child = runs.find((r) => r.info.run_id !== 'v2-job')?.info.run_id ?? '';
    const requests: [string, string, unknown?][] = [
      ['GET', `/experiments/get-by-name?experiment_name=exp-v2`],
      ['GET', `/experiments/get?experiment_id=${experiment.experiment.experiment_id}`],
      ['GET', `/runs/get?run_uuid=${child}&run_id=${child}`],
      ['GET', `/metrics/get-history?run_uuid=${child}&run_id=${child}&metric_key=loss&max_results=25000`],
      [
        'POST',
        '/runs/search',
        { experiment_ids: [experiment.experiment.experiment_id], filter: "tags.mlflow.rootRunId = 'v2-job'" },
      ],
      ['GET', '/artifacts/list?run_id=v2-job'],
      ['GET', '/runs/get?run_id=no-such-run'],
    ];
    for (const [method, path, body] of requests) {
      const a = await call(emulator, `${v1}${path}`, { method, token, ...(body ? { body } : {}) });
      const b = await call(emulator, `${v2}${path}`, { method, token, ...(body ? { body } : {}) });
      expect({ path, status: b.status, body: b.body }).toEqual({ path, status: a.status, body: a.body });
    }
    const history = (await call(emulator, `${v2}/metrics/get-history?run_id=${child}&metric_key=loss`, { token }))
      .body as { metrics: { key: string; step: number }[] };
    expect(history.metrics.length).toBeGreaterThan(0);
    expect((await call(emulator, `/mlflow/v3.0${WS}/api/2.0/mlflow/runs/get?run_id=v2-job`, { token })).status).toBe(
      404,
    );
  });

  test('without a token v2.0 answers 401 as v1.0 does', async () => {
    expect((await call(emulator, `${v2}/runs/get?run_id=v2-job`)).status).toBe(401);
  });

  test('artifacts/list shows the root run log folder; the fine-tune run has none', async () => {
    const root = (await call(emulator, `${v2}/artifacts/list?run_id=v2-job`, { token })).body;
    expect(root).toEqual({
      root_uri: 'azureml://experiments/exp-v2/runs/v2-job/artifacts',
      files: [{ path: 'user_logs', is_dir: true }],
    });
    const search = (
      await call(emulator, `${v2}/runs/search`, {
        method: 'POST',
        token,
        body: { filter: "tags.mlflow.parentRunId = 'v2-job'" },
      })
    ).body as { runs: { info: { run_id: string; artifact_uri: string } }[] };
    const child = search.runs[0]?.info;
    expect((await call(emulator, `${v2}/artifacts/list?run_id=${child?.run_id ?? ''}`, { token })).body).toEqual({
      root_uri: child?.artifact_uri,
    });
  });
});
