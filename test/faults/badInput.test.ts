// docs/design.md, invariant 4 (bad input fails before money is spent), as a corpus: test/fixtures/bad-input/
// holds the bad run specs and data files. Specs the shared schema refuses never start a run; specs
// only the run can judge (the registry, the allow lists, the data's content) fail in the run's first
// steps. Either way the error names the field and the fix, and the emulator records no mutating ARM
// request (PUT, POST, PATCH, DELETE) for the case.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ControlError } from '../../src/control/errors';
import { deriveRunNames } from '../../src/spec/names';
import { emulator, emulatorUrl, startHarness, type EmulatorRequest, type TestHarness } from '../helpers/localStack';

const CORPUS = path.join(__dirname, '..', 'fixtures', 'bad-input');
const QUICK = { heartbeatTimeoutSeconds: 3 };

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

/** Replaces "@files/x" and "@generated/x" in a spec with absolute paths. */
function resolvePaths(value: unknown, generatedDir: string): unknown {
  if (typeof value === 'string') {
    if (value.startsWith('@files/')) return path.join(CORPUS, 'files', value.slice('@files/'.length));
    if (value.startsWith('@generated/')) return path.join(generatedDir, value.slice('@generated/'.length));
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => resolvePaths(v, generatedDir));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolvePaths(v, generatedDir)]));
  }
  return value;
}

const MUTATING = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);
/** A request that creates, changes or deletes something in ARM (the token endpoint is not ARM). */
const isArmMutation = (r: EmulatorRequest) =>
  MUTATING.has(r.method) && r.path.toLowerCase().startsWith('/subscriptions/');

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
let generatedDir: string;

beforeAll(async () => {
  h = await startHarness();
  generatedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-bad-input-'));
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
  if (generatedDir) fs.rmSync(generatedDir, { recursive: true, force: true });
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

describe('bad input only the run can judge', () => {
  interface Outcome {
    c: RunCase;
    runId: string;
    compute: string;
    error?: string;
    failedStep?: string;
    laterSteps: string[];
  }
  let outcomes: Outcome[];
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
        const run = await h.client.start(spec, { idempotencyKey: `bad-run-${tag}-${i}`, options: QUICK });
        const outcome: Outcome = { c, runId: run.runId, compute, laterSteps: [] };
        try {
          await h.client.result(run.runId);
        } catch (err) {
          outcome.error = messageChain(err);
        }
        const record = await h.client.get(run.runId);
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
        return [o.compute, names.jobName, names.endpointName, names.modelVersion].some((n) => segments.includes(n));
      });
      expect(mine).toEqual([]);
      expect(o.laterSteps).not.toContain('submitPipeline');
    },
  );

  test('while the corpus ran, the emulator saw no mutating ARM request at all', () => {
    expect(armMutations.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});
