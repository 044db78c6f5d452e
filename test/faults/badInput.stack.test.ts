// docs/design.md, invariant 4 (bad input fails before money is spent), as a corpus: test/fixtures/bad-input/
// holds the bad run specs and data files. Specs the shared schema refuses never start a run; specs
// only the run can judge (the registry, the allow lists, the data's content) fail in the run's first
// steps. Either way the error names the field and the fix, and the emulator records no mutating ARM
// request (PUT, POST, PATCH, DELETE) for the case.
//
// Dataset sources the run refuses (issue 13): local paths outside the worker's data root, URLs to
// non-public addresses (also after a redirect or a DNS lookup), unreachable or hung servers (within
// seconds, on the step's first attempt), and error answers whose text must not reach the run. Cases
// marked "worker": "remote" run on a second worker that is not in local mode and has no data root.
//
// A dry run of each case (issue 18: client.plan, what `ftflow start --dry-run` and the API's dryRun=true
// call) fails with the same error as the real run (the same step, failure type and message), and while the
// dry runs ran Azure saw no mutating request and no blob was written.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { refusalOf, type Refusal } from '../../src/control/refusal';
import { createDeps } from '../../src/activities';
import { makeStageDataset } from '../../src/activities/stageDataset';
import { loadAzureConfig } from '../../src/azure/config';
import { DATASET_ENV, loadDatasetSourceSettings } from '../../src/dataset/sourceSettings';
import { ControlError } from '../../src/control/errors';
import { deriveRunNames } from '../../src/runSpec/names';
import { emulator, emulatorUrl, startHarness, type EmulatorRequest, type TestHarness } from '../helpers/localStack';

const CORPUS = path.join(__dirname, '..', 'fixtures', 'bad-input');
const QUICK = { heartbeatTimeoutSeconds: 3 };
/** Short dataset timeouts for the hung-server cases (the defaults are 10 / 30 / 60 s). */
const DATASET_TIMEOUTS = {
  [DATASET_ENV.connectTimeout]: '1',
  [DATASET_ENV.responseTimeout]: '1',
  [DATASET_ENV.idleTimeout]: '1',
};
const DATASTORE_DIR = `bad-input-${randomUUID().slice(0, 8)}`;

interface ClientCase {
  name: string;
  spec: unknown;
  idempotencyKey?: string;
  field: string;
  message: string;
}

interface RunCase {
  name: string;
  spec: Record<string, unknown>;
  step: string;
  message: string[];
  /** Text the error must not carry (what the server sent). */
  absent?: string[];
  /** The run must fail within this many seconds. */
  maxSeconds?: number;
  /** "remote": a worker not in local mode, without FTFLOW_DATA_ROOT. */
  worker?: 'remote';
}

interface LoggedRequest extends EmulatorRequest {
  time: string;
}

function loadCorpus<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(CORPUS, file), 'utf8')) as T;
}

const clientCorpus = loadCorpus<{ cases: ClientCase[] }>('client-cases.json');
const runCorpus = loadCorpus<{
  setup: { archivedModel: { name: string; version: string; isArchived: boolean } };
  cases: RunCase[];
}>('run-cases.json');

/** Where the placeholders of dataset sources point (see run-cases.json's description). */
const places: Record<string, string> = {};

/** Replaces "@files/x", "@generated/x" and the other placeholders in a spec with paths and URLs. */
function resolvePaths(value: unknown, generatedDir: string): unknown {
  if (typeof value === 'string') {
    if (value.startsWith('@files/')) return path.join(CORPUS, 'files', value.slice('@files/'.length));
    if (value.startsWith('@generated/')) return path.join(generatedDir, value.slice('@generated/'.length));
    const place = /^@([\w:-]+)\/(.*)$/.exec(value);
    if (place?.[1] && places[place[1]] !== undefined) return `${places[place[1]]}/${place[2] ?? ''}`;
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => resolvePaths(v, generatedDir));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolvePaths(v, generatedDir)]));
  }
  return value;
}

/** A loopback http server for the URL cases: a redirect to a private address, a hang, a 403 with secrets. */
async function startFileServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/redirect/')) return res.writeHead(302, { location: 'https://10.0.0.1/train.jsonl' }).end();
    if (url.startsWith('/hang/')) return; // accepts, never answers
    if (url.startsWith('/denied/'))
      return res
        .writeHead(403, { 'x-error-code': 'TopSecretCode', 'x-error-message': 'db01.internal:5432 said no' })
        .end('stack trace at db01.internal');
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const MUTATING = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);
/** A request that creates, changes or deletes something in ARM (the token endpoint is not ARM). */
const isArmMutation = (r: EmulatorRequest) =>
  MUTATING.has(r.method) && r.path.toLowerCase().startsWith('/subscriptions/');

/** The attempt number of the last started attempt of the run's `step` activity (from the history). */
async function lastAttemptOf(harness: TestHarness, runId: string, step: string): Promise<number | undefined> {
  const history = await harness.temporal.workflow.getHandle(runId).fetchHistory();
  const scheduled = new Set<string>();
  let attempt: number | undefined;
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === step) scheduled.add(String(e.eventId));
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.has(String(started.scheduledEventId))) attempt = started.attempt ?? undefined;
  }
  return attempt;
}

async function requestsSince(since: string): Promise<LoggedRequest[]> {
  return ((await emulator.requests()) as LoggedRequest[]).filter((r) => r.time >= since);
}

/** The messages of an error and its causes, outermost first. */
function messageChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join(' <- ');
}

let h: TestHarness;
/** A worker that is not in local mode and has no data root (cases with "worker": "remote"). */
let remote: TestHarness;
let generatedDir: string;
let fileServer: http.Server;
const savedEnv = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, DATASET_TIMEOUTS);
  h = await startHarness();
  const env = { ...process.env };
  delete env.FTFLOW_ARM_ENDPOINT; // judged as a worker that does not run against the local stack
  const deps = createDeps(loadAzureConfig(process.env), process.env);
  remote = await startHarness({ stageDataset: makeStageDataset(deps, { sources: loadDatasetSourceSettings(env) }) });
  fileServer = await startFileServer();
  places['url:files'] = `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;
  const closed = http.createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  places['url:closed'] = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((resolve) => closed.close(resolve));
  places.emulator = emulatorUrl();
  places['emulator-by-name'] = emulatorUrl().replace('127.0.0.1', 'localhost');
  const ds = await deps.datastore();
  places.datastore = `azureml://datastores/${ds.name}/paths/${DATASTORE_DIR}`;
  const good = fs.readFileSync(path.join(CORPUS, 'files', 'good.jsonl'));
  await ds.container.getBlockBlobClient(`${DATASTORE_DIR}/good.jsonl`).upload(good, good.length);

  generatedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bad-input-'));
  // A file under the data root that is a symlink to one outside it.
  fs.symlinkSync('/etc/passwd', path.join(generatedDir, 'escape-link.jsonl'));
  // Rows of 3 MiB each: far past what a chat row of a 4k-context model can hold.
  const huge = 'x'.repeat(3 * 1024 * 1024);
  const row = (i: number) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: `q${i} ${huge}` },
        { role: 'assistant', content: `a${i}` },
      ],
    });
  fs.writeFileSync(path.join(generatedDir, 'oversized-rows.jsonl'), [0, 1, 2, 3].map(row).join('\n') + '\n');
  const res = await fetch(`${emulatorUrl()}/_emulator/registry/models`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(runCorpus.setup.archivedModel),
  });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await h?.stop();
  await remote?.stop();
  fileServer?.closeAllConnections();
  await new Promise((resolve) => (fileServer ? fileServer.close(resolve) : resolve(undefined)));
  if (generatedDir) fs.rmSync(generatedDir, { recursive: true, force: true });
  for (const name of Object.keys(DATASET_TIMEOUTS)) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

test(`the corpus has at least 40 cases (${clientCorpus.cases.length} refused by the schema, ${runCorpus.cases.length} by the run)`, () => {
  expect(clientCorpus.cases.length + runCorpus.cases.length).toBeGreaterThanOrEqual(40);
  const names = [...clientCorpus.cases, ...runCorpus.cases].map((c) => c.name);
  expect(new Set(names).size).toBe(names.length);
});

test('the client refuses every bad spec before a run starts, naming the field and the fix; Azure sees nothing', async () => {
  const since = new Date().toISOString();
  const prefix = `bad-client-${randomUUID().slice(0, 8)}`;
  const problems: string[] = [];
  const runIds: string[] = [];
  for (const [i, c] of clientCorpus.cases.entries()) {
    const key = c.idempotencyKey ?? `${prefix}-${i}`;
    runIds.push(`ft-${key}`);
    let error: unknown;
    try {
      await h.client.start(resolvePaths(c.spec, generatedDir), { idempotencyKey: key, options: QUICK });
    } catch (err) {
      error = err;
    }
    if (!(error instanceof ControlError) || error.code !== 'invalid') {
      problems.push(
        `${c.name}: expected an invalid-input error, got ${error === undefined ? 'a started run' : messageChain(error)}`,
      );
      continue;
    }
    const issue = error.issues.find((x) => x.field === c.field);
    if (!issue) problems.push(`${c.name}: no issue names ${c.field}: ${JSON.stringify(error.issues)}`);
    else if (!issue.message.includes(c.message))
      problems.push(`${c.name}: ${c.field}: "${issue.message}" does not say "${c.message}"`);
  }
  expect(problems).toEqual([]);

  // No run exists under any of the keys, and the emulator saw no ARM change.
  for (const runId of runIds) {
    await expect(h.temporal.workflow.getHandle(runId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }
  expect((await requestsSince(since)).filter(isArmMutation)).toEqual([]);
});

interface Outcome {
  c: RunCase;
  runId: string;
  compute: string;
  /** The spec the run was started with (placeholders resolved, its own compute name). */
  spec: Record<string, unknown>;
  error?: string;
  /** The step, failure type, kind and message the run failed with (src/control/refusal.ts). */
  refusal?: Refusal;
  failedStep?: string;
  laterSteps: string[];
  seconds: number;
  /** The attempt the failed step's activity ended on (1: failed for good at once, no retries). */
  attempt?: number;
}
/** The real runs of the corpus, set by the describe block below; the dry runs compare with them. */
let outcomes: Outcome[];

describe('bad input only the run can judge', () => {
  let armMutations: LoggedRequest[];

  beforeAll(async () => {
    const since = new Date().toISOString();
    const tag = randomUUID().slice(0, 6);
    // All at once: each run fails within its first steps.
    outcomes = await Promise.all(
      runCorpus.cases.map(async (c, i): Promise<Outcome> => {
        const compute = `bad-${tag}-${i}`;
        const given = resolvePaths(c.spec, generatedDir) as Record<string, unknown>;
        const spec = { ...given, compute: { name: compute, ...((given.compute as object | undefined) ?? {}) } };
        const harness = c.worker === 'remote' ? remote : h;
        const t0 = Date.now();
        const run = await harness.client.start(spec, { idempotencyKey: `bad-run-${tag}-${i}`, options: QUICK });
        const outcome: Outcome = { c, runId: run.runId, compute, spec, laterSteps: [], seconds: 0 };
        try {
          await harness.client.result(run.runId);
        } catch (err) {
          outcome.error = messageChain(err);
          outcome.refusal = refusalOf(err);
        }
        outcome.seconds = (Date.now() - t0) / 1000;
        outcome.attempt = await lastAttemptOf(harness, run.runId, c.step);
        const record = await harness.client.get(run.runId);
        outcome.failedStep = record.steps.find((s) => s.status === 'failed')?.name;
        outcome.laterSteps = record.steps
          .filter((s) => s.status === 'completed' || s.status === 'running')
          .map((s) => s.name);
        return outcome;
      }),
    );
    armMutations = (await requestsSince(since)).filter(isArmMutation);
  }, 90_000);

  test.each(runCorpus.cases.map((c) => [c.name, c] as const))(
    '%s: the run fails at its step, naming the field and the fix',
    (_name, c) => {
      const o = outcomes.find((x) => x.c === c);
      expect(o?.error).toBeDefined();
      expect(o?.failedStep).toBe(c.step);
      for (const fragment of c.message) expect(o?.error).toContain(fragment);
      for (const fragment of c.absent ?? []) expect(o?.error).not.toContain(fragment);
      if (c.maxSeconds !== undefined) expect(o?.seconds).toBeLessThan(c.maxSeconds);
    },
  );

  test.each(runCorpus.cases.filter((c) => c.step === 'stageDataset').map((c) => [c.name, c] as const))(
    '%s: stageDataset failed for good on its first attempt (no activity retries)',
    (_name, c) => {
      expect(outcomes.find((x) => x.c === c)?.attempt).toBe(1);
    },
  );

  test.each(runCorpus.cases.map((c) => [c.name, c] as const))(
    '%s: no ARM resource was created, changed or deleted for it',
    (_name, c) => {
      const o = outcomes.find((x) => x.c === c);
      if (!o) throw new Error(`no outcome for ${c.name}`);
      const names = deriveRunNames(o.runId);
      const mine = armMutations.filter((r) => {
        const segments = r.path.split('/');
        // (A model version is not the run's by its path: the corpus registers none, see the next test.)
        return [o.compute, names.jobName, names.endpointName].some((n) => segments.includes(n));
      });
      expect(mine).toEqual([]);
      expect(o.laterSteps).not.toContain('submitPipeline');
    },
  );

  test('while the corpus ran, the emulator saw no mutating ARM request at all', () => {
    expect(armMutations.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});

describe('a dry run of each case: the same error as the run, and nothing created, uploaded or submitted', () => {
  interface Planned {
    c: RunCase;
    error?: string;
    refusal?: Refusal;
    seconds: number;
  }
  let planned: Planned[];
  let mutations: LoggedRequest[];
  let blobsBefore: string[];
  let blobsAfter: string[];

  /** Every blob of the workspace's datastore container, with its etag: a write changes the list. */
  async function blobs(): Promise<string[]> {
    const ds = await createDeps(loadAzureConfig(process.env), process.env).datastore();
    const out: string[] = [];
    for await (const b of ds.container.listBlobsFlat()) out.push(`${b.name} ${b.properties.etag ?? ''}`);
    return out.sort();
  }

  beforeAll(async () => {
    blobsBefore = await blobs();
    const since = new Date().toISOString();
    planned = await Promise.all(
      outcomes.map(async (o): Promise<Planned> => {
        const harness = o.c.worker === 'remote' ? remote : h;
        const t0 = Date.now();
        const result: Planned = { c: o.c, seconds: 0 };
        try {
          await harness.client.plan(o.spec, { options: QUICK });
        } catch (err) {
          result.error = messageChain(err);
          result.refusal = refusalOf(err);
        }
        result.seconds = (Date.now() - t0) / 1000;
        return result;
      }),
    );
    mutations = (await requestsSince(since)).filter((r) => MUTATING.has(r.method) && !r.path.includes('/oauth2/'));
    blobsAfter = await blobs();
  }, 90_000);

  test.each(runCorpus.cases.map((c) => [c.name, c] as const))(
    '%s: the dry run fails as the run did (step, failure type, message)',
    (_name, c) => {
      const run = outcomes.find((x) => x.c === c);
      const plan = planned.find((x) => x.c === c);
      expect(run?.refusal).toBeDefined();
      expect(plan?.refusal).toEqual(run?.refusal);
      expect(plan?.error).toBe(run?.error);
    },
  );

  test('while the dry runs ran, the emulator saw no mutating request and no blob was written', () => {
    expect(mutations.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(blobsAfter).toEqual(blobsBefore);
    const slowest = Math.max(...planned.map((p) => p.seconds));
    console.log(
      `dry runs of ${planned.length} bad-input cases, all at once: slowest ${slowest.toFixed(1)} s, median ${planned
        .map((p) => p.seconds)
        .sort((a, b) => a - b)
        [Math.floor(planned.length / 2)]?.toFixed(1)} s`,
    );
  });
});

// Issue 13: 50,000 unknown training keys (a 1 MB request) once made a 4.5 MB failure that gRPC could
// not carry, so resolveModel was retried instead of failing. The client now refuses the spec at once
// with a small error; resolveModel's own check is capped too (test/runSpec/limits.test.ts calls it directly).
test('50,000 unknown training keys: refused promptly by the client with a small error naming training; Azure sees nothing', async () => {
  const since = new Date().toISOString();
  const key = `bad-client-50k-${randomUUID().slice(0, 8)}`;
  const training = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`unknown_input_${i}`, 1]));
  const t0 = Date.now();
  const error = await h.client
    .start({ training }, { idempotencyKey: key, options: QUICK })
    .then(() => undefined)
    .catch((err: unknown) => err);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(error).toBeInstanceOf(ControlError);
  const refused = error as ControlError;
  expect(refused.code).toBe('invalid');
  expect(refused.issues).toEqual([
    {
      field: 'training',
      message: 'training has 50,000 entries: at most 256 are allowed (the pipeline component declares about 70 inputs)',
    },
  ]);
  expect(refused.message.length).toBeLessThan(16 * 1024);
  await expect(h.temporal.workflow.getHandle(`ft-${key}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  expect((await requestsSince(since)).filter(isArmMutation)).toEqual([]);
});
