// registerModel over a fake model registry: readable integer versions (the container's nextVersion), one
// per run however often the step is retried (the heartbeated version is read first, then the run's tag is
// looked for), runs of one worker registering at once get consecutive versions, and a version another
// worker takes first is left to it.
import type { ModelVersion } from '@azure/arm-machinelearning';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../../src/activities/deps';
import { makeRegisterModel } from '../../src/activities/registerModel';
import type { RegisterModelInput, RegisteredModel } from '../../src/activities/types';
import { containerNextVersion, nextIntegerVersion, ownVersion, VersionClaims } from '../../src/azure/modelVersions';

class Conflict extends Error {
  statusCode = 409;
  code = 'Conflict';
}
class NotFound extends Error {
  statusCode = 404;
  code = 'NotFound';
}

/** An in-memory workspace model registry that refuses to change a version's modelUri (409), as Azure does. */
function fakeRegistry(initial: Record<string, { modelUri: string; tags?: Record<string, string> }> = {}) {
  const versions = new Map(Object.entries(initial));
  const calls = { get: 0, list: 0, container: 0, put: [] as string[] };
  /** Runs just before a PUT lands: another run may register meanwhile. */
  let beforePut: (version: string) => void = () => undefined;
  const resource = (version: string): ModelVersion => {
    const v = versions.get(version);
    return { id: `/models/m/versions/${version}`, name: version, properties: { modelUri: v?.modelUri, tags: v?.tags } };
  };
  const deps = {
    config: { resourceGroup: 'rg', workspace: 'ws' },
    versionClaims: new VersionClaims(),
    arm: {
      modelContainers: {
        get: async () => {
          calls.container += 1;
          if (versions.size === 0) throw new NotFound('no such model');
          return { properties: { nextVersion: nextIntegerVersion([...versions.keys()]) } };
        },
      },
      modelVersions: {
        get: async (_rg: string, _ws: string, _name: string, version: string) => {
          calls.get += 1;
          if (!versions.has(version)) throw new NotFound('no such version');
          return resource(version);
        },
        list: (_rg: string, _ws: string, _name: string, opts: { listViewType?: string; tags?: string }) => {
          calls.list += 1;
          expect(opts.listViewType).toBe('All');
          const [key = '', value] = (opts.tags ?? '').split('=');
          const all = [...versions.keys()]
            .filter((v) => !opts.tags || versions.get(v)?.tags?.[key] === value)
            .map(resource);
          return (async function* () {
            yield* all;
          })();
        },
        createOrUpdate: async (_rg: string, _ws: string, _name: string, version: string, body: ModelVersion) => {
          beforePut(version);
          calls.put.push(version);
          const existing = versions.get(version);
          if (existing && existing.modelUri !== body.properties.modelUri) throw new Conflict('immutable');
          versions.set(version, {
            modelUri: body.properties.modelUri ?? '',
            tags: body.properties.tags as Record<string, string>,
          });
          return resource(version);
        },
      },
    },
  } as unknown as ActivityDeps;
  return { deps, calls, versions, racing: (fn: (version: string) => void) => (beforePut = fn) };
}

/** A second worker on the same registry: its own claims. */
function otherWorker(deps: ActivityDeps): ActivityDeps {
  return { ...deps, versionClaims: new VersionClaims() };
}

const input = (runId: string, job = `job-${runId}`): RegisterModelInput => ({
  jobName: job,
  modelName: 'Phi-3-mini-4k-instruct-ultrachat-200k',
  description: 'test',
  runId,
});
const uri = (job: string) => `azureml://jobs/${job}/outputs/trained_model`;
const attempt = (deps: ActivityDeps, i: RegisterModelInput, heartbeatDetails?: unknown): Promise<RegisteredModel> =>
  new MockActivityEnvironment({ heartbeatTimeoutMs: 3000, heartbeatDetails }).run(makeRegisterModel(deps), i);

test('the first version of a model is "1", the next run\'s "2": one tag lookup, one container read, one PUT', async () => {
  const { deps, calls } = fakeRegistry();
  await expect(attempt(deps, input('ft-a'))).resolves.toMatchObject({ version: '1', adopted: false });
  await expect(attempt(deps, input('ft-b'))).resolves.toMatchObject({ version: '2', adopted: false });
  expect(calls).toEqual({ get: 0, list: 2, container: 2, put: ['1', '2'] });
});

test('runs of one worker registering at once get consecutive versions, without racing each other', async () => {
  const { deps, calls, versions } = fakeRegistry({ '1': { modelUri: uri('job-ft-x') } });
  const runs = ['ft-a', 'ft-b', 'ft-c', 'ft-d'];
  const results = await Promise.all(runs.map((r) => attempt(deps, input(r))));
  expect(results.map((r) => r.version).sort()).toEqual(['2', '3', '4', '5']);
  expect(calls.put.sort()).toEqual(['2', '3', '4', '5']);
  expect([...versions.keys()].sort()).toEqual(['1', '2', '3', '4', '5']);
});

test('a retry that heartbeated its version reads it there and adopts it: no list, no PUT', async () => {
  const { deps, calls } = fakeRegistry({ '4': { modelUri: uri('job-ft-a'), tags: { 'ftflow-run': 'ft-a' } } });
  await expect(attempt(deps, input('ft-a'), { version: '4' })).resolves.toEqual({
    name: 'Phi-3-mini-4k-instruct-ultrachat-200k',
    version: '4',
    id: '/models/m/versions/4',
    adopted: true,
  });
  expect(calls).toMatchObject({ get: 1, list: 0, put: [] });
});

test("a retry without a heartbeat finds the run's version by its tag; one from another job of the run is not it", async () => {
  const { deps, calls } = fakeRegistry({
    '1': { modelUri: uri('job-ft-a-old'), tags: { 'ftflow-run': 'ft-a' } },
    '2': { modelUri: uri('job-ft-a'), tags: { 'ftflow-run': 'ft-a' } },
    '3': { modelUri: uri('job-ft-b'), tags: { 'ftflow-run': 'ft-b' } },
  });
  await expect(attempt(deps, input('ft-a'))).resolves.toMatchObject({ version: '2', adopted: true });
  expect(calls.put).toEqual([]);
  // A heartbeated version that another run holds is not adopted either.
  await expect(attempt(deps, input('ft-a'), { version: '3' })).resolves.toMatchObject({ version: '2', adopted: true });
});

test('a version another worker takes between the read and the PUT is left to it: the next integer is taken', async () => {
  const { deps: first, calls, racing, versions } = fakeRegistry({ '1': { modelUri: uri('job-ft-x') } });
  const deps = otherWorker(first);
  let raced = false;
  racing((version) => {
    if (raced) return;
    raced = true;
    versions.set(version, { modelUri: uri('job-ft-other'), tags: { 'ftflow-run': 'ft-other' } });
  });
  await expect(attempt(deps, input('ft-a'))).resolves.toMatchObject({ version: '3', adopted: false });
  expect(calls.put).toEqual(['2', '3']);
  expect(versions.get('2')?.tags).toEqual({ 'ftflow-run': 'ft-other' });
});

test('every attempt registers at most once: a step retried three times leaves one version', async () => {
  const { deps, versions } = fakeRegistry();
  const first = await attempt(deps, input('ft-a'));
  await attempt(deps, input('ft-a'), { version: first.version });
  await attempt(deps, input('ft-a'));
  expect([...versions.keys()]).toEqual(['1']);
});

describe('version planning', () => {
  test('the next integer after the highest; other versions (hex versions of older runs, labels) do not count', () => {
    expect(nextIntegerVersion([])).toBe('1');
    expect(nextIntegerVersion(['1', '64b9ced10591', '7', 'v2', '012345678901', '123456789012', '3'])).toBe('8');
    expect(nextIntegerVersion(['999999998'])).toBe('999999999');
  });

  test("the container's nextVersion when it is an integer; else the versions are counted", () => {
    expect(containerNextVersion('12')).toBe('12');
    for (const v of [undefined, null, '', 'v2', '0']) expect(containerNextVersion(v)).toBeUndefined();
  });

  test('claims: consecutive in one worker, after a version another worker took', () => {
    const claims = new VersionClaims();
    expect([claims.claim('m', '3'), claims.claim('m', '3'), claims.claim('other', '1')]).toEqual(['3', '4', '1']);
    claims.taken('m', '9');
    expect(claims.claim('m', '5')).toBe('10');
    expect(claims.claim('m', '20')).toBe('20');
  });

  test("the run's own version: its tag and this job's output", () => {
    const versions = [
      { name: '1', properties: { modelUri: 'u1', tags: { t: 'ft-a' } } },
      { name: '2', properties: { modelUri: 'u2', tags: { t: 'ft-a' } } },
    ];
    expect(ownVersion(versions, 't', 'ft-a', 'u2')).toBe('2');
    expect(ownVersion(versions, 't', 'ft-b', 'u2')).toBeUndefined();
    expect(ownVersion([], 't', 'ft-a', 'u2')).toBeUndefined();
  });
});
