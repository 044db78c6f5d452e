// The pure parts of the front ends: connection settings, content keys, list queries, API keys, spec
// files and flags, event paging and history events, exit codes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { resolveTemporalConnection } from '../../src/config/temporalConnection';
import { parseRunSpec } from '../../src/runSpec/schema';
import { runContentKey, canonicalJson } from '../../src/runSpec/contentKey';
import { runListQuery, InvalidFilterError } from '../../src/config/visibility';
import { ApiKeyStore, createApiKey, hashKey, listApiKeys, revokeApiKey } from '../../src/api/keys';
import { loadSpec } from '../../src/cli/specInput';
import { CliInputError, EXIT, exitCodeFor, exitCodeForRun } from '../../src/cli/exitCodes';
import { ControlError, RunNotFoundError } from '../../src/control/errors';
import { eventsFromHistory, pageEvents, type RunEvent } from '../../src/control/events';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-unit-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('Temporal connection settings', () => {
  test('plain TCP to 127.0.0.1:7233 in namespace default unless told otherwise', () => {
    expect(resolveTemporalConnection({}, {})).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      apiKey: undefined,
    });
    expect(
      resolveTemporalConnection({ namespace: 'ml' }, { TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'x' }),
    ).toMatchObject({ address: 'temporal:7233', namespace: 'ml' });
  });

  test('an API key (Temporal Cloud) implies TLS; TEMPORAL_TLS=true alone asks for TLS with system roots', () => {
    expect(
      resolveTemporalConnection({}, { TEMPORAL_API_KEY: 'k', TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' }),
    ).toEqual({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'default', apiKey: 'k', tls: {} });
    expect(resolveTemporalConnection({}, { TEMPORAL_TLS: 'true' }).tls).toEqual({});
    expect(resolveTemporalConnection({ tls: false }, { TEMPORAL_TLS: 'true' }).tls).toBeUndefined();
  });

  test('mTLS reads the certificate files and needs both the certificate and its key', () => {
    const cert = path.join(scratch, 'client.pem');
    const key = path.join(scratch, 'client-key.pem');
    const notPem = path.join(scratch, 'not-pem.txt');
    fs.writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n');
    fs.writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n');
    fs.writeFileSync(notPem, 'CERT');
    const tls = resolveTemporalConnection(
      {},
      { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' },
    ).tls;
    expect(tls?.serverNameOverride).toBe('temporal.internal');
    expect(Buffer.from(tls?.clientCertPair?.crt ?? []).toString()).toContain('CERT');
    expect(() => resolveTemporalConnection({}, { TEMPORAL_TLS_CERT: cert })).toThrow(
      /mTLS needs both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/,
    );
    expect(() => resolveTemporalConnection({ tls: { ca: path.join(scratch, 'missing.pem') } })).toThrow(
      /TEMPORAL_TLS_CA=.*missing.pem cannot be read/,
    );
    expect(() => resolveTemporalConnection({ tls: { cert: notPem, key } })).toThrow(
      /TEMPORAL_TLS_CERT=.*is not a PEM file/,
    );
  });
});

describe('the run content key', () => {
  test('is the same for the same training however the spec is written, and ignores what happens after training', () => {
    const a = parseRunSpec({
      dataset: { percent: 5, source: 'HuggingFaceH4/ultrachat_200k' },
      training: { learning_rate: 0.0002, num_train_epochs: 1 },
    });
    const b = parseRunSpec({
      training: { num_train_epochs: 1, learning_rate: 0.0002 },
      dataset: { percent: 5 },
      deployment: { keepAliveMinutes: 30 },
      qualityGate: { eval_loss: { max: 2 } },
    });
    expect(runContentKey(a)).toBe(runContentKey(b));
    expect(runContentKey(a)).toMatch(/^ck-[0-9a-f]{16}$/);
    expect(runContentKey(parseRunSpec({ dataset: { percent: 6 } }))).not.toBe(
      runContentKey(parseRunSpec({ dataset: { percent: 5 } })),
    );
    expect(runContentKey(parseRunSpec({ training: { num_train_epochs: 2 } }))).not.toBe(
      runContentKey(parseRunSpec({})),
    );
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
  });
});

describe('list queries', () => {
  test('filters become search-attribute clauses; a bare model name is looked up in azureml', () => {
    expect(
      runListQuery({ status: 'failed', model: 'Phi-3-mini-4k-instruct', dataset: 'HuggingFaceH4/ultrachat_200k' }),
    ).toBe(
      "WorkflowType = 'fineTune' AND ExecutionStatus = 'Failed' AND FineTuneModel = 'azureml/Phi-3-mini-4k-instruct' AND FineTuneDataset = 'HuggingFaceH4/ultrachat_200k'",
    );
  });

  test('a value that could change the query is refused, naming the filter', () => {
    expect(() => runListQuery({ model: "x' OR WorkflowType = 'janitor" })).toThrow(InvalidFilterError);
    expect(() => runListQuery({ dataset: 'a b' })).toThrow(/dataset may contain only/);
  });
});

describe('API keys', () => {
  test('a created key is stored only as its hash; revoking it in the file takes effect without a restart', async () => {
    const file = path.join(scratch, 'keys.json');
    const { key, stored } = createApiKey(file, 'ci', ['fine-tunes:read']);
    expect(fs.readFileSync(file, 'utf8')).not.toContain(key);
    expect(stored.hash).toBe(hashKey(key));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(() => createApiKey(file, 'ci', [])).toThrow(/exists/);

    const store = ApiKeyStore.fromFile(file);
    expect(store.authenticate(`Bearer ${key}`)).toMatchObject({ result: 'ok', key: { id: 'ci' } });
    expect(store.authenticate('Bearer ftflow_guess')).toEqual({ result: 'unknown' });
    expect(store.authenticate(undefined)).toEqual({ result: 'missing' });
    expect(store.authenticate(`Basic ${key}`)).toEqual({ result: 'missing' });

    await new Promise((r) => setTimeout(r, 20)); // a new mtime
    revokeApiKey(file, 'ci');
    expect(store.authenticate(`Bearer ${key}`)).toMatchObject({ result: 'revoked' });
    expect(listApiKeys(file)).toEqual([expect.not.objectContaining({ hash: expect.anything() })]);
  });

  test('a key file that is not what it should be is refused with the reason', () => {
    expect(() => ApiKeyStore.fromEnv({ FTFLOW_API_KEYS: '{"keys":[{"id":"a","hash":"md5:00","scopes":[]}]}' })).toThrow(
      /hash must be "sha256:"/,
    );
    expect(() => ApiKeyStore.fromEnv({})).toThrow(/no API keys configured/);
  });
});

describe('run specs from files and flags', () => {
  test('a YAML file, then the flags, then --set path=value', () => {
    const file = path.join(scratch, 'spec.yaml');
    fs.writeFileSync(file, 'dataset:\n  percent: 5\ncompute: { name: a100 }\n');
    expect(
      loadSpec(file, {
        model: 'myreg/Phi-3.5-mini-instruct',
        percent: '2.5',
        keepAlive: '30',
        set: ['training.learning_rate=0.0002', 'experimentName=nightly'],
      }),
    ).toEqual({
      dataset: { percent: 2.5 },
      compute: { name: 'a100' },
      model: { registry: 'myreg', name: 'Phi-3.5-mini-instruct' },
      deployment: { keepAliveMinutes: 30 },
      training: { learning_rate: 0.0002 },
      experimentName: 'nightly',
    });
  });

  test('unreadable files, bad numbers and bad paths are input errors', () => {
    const bad = path.join(scratch, 'list.json');
    fs.writeFileSync(bad, '[1, 2]');
    expect(() => loadSpec(path.join(scratch, 'nope.yaml'), {})).toThrow(CliInputError);
    expect(() => loadSpec(bad, {})).toThrow(/must be a mapping/);
    expect(() => loadSpec(undefined, { percent: 'five' })).toThrow(/--percent must be a number/);
    expect(() => loadSpec(undefined, { set: ['__proto__.x=1'] })).toThrow(/not a field path/);
    expect(() => loadSpec(undefined, { set: ['noequals'] })).toThrow(/path=value/);
  });
});

describe('events', () => {
  const events = Array.from({ length: 5 }, (_, i): RunEvent => ({
    id: `e.${i}.0`,
    object: 'fine_tune.event',
    createdAt: '',
    level: 'info',
    type: 'step.started',
    message: String(i),
  }));

  test('pages follow the cursor; an unknown cursor is not a page', () => {
    expect(pageEvents(events, undefined, 2)).toMatchObject({
      data: [{ id: 'e.0.0' }, { id: 'e.1.0' }],
      hasMore: true,
      lastId: 'e.1.0',
    });
    expect(pageEvents(events, 'e.3.0', 2)).toMatchObject({ data: [{ id: 'e.4.0' }], hasMore: false, lastId: 'e.4.0' });
    expect(pageEvents(events, 'e.4.0', 2)).toEqual({ data: [], hasMore: false, lastId: 'e.4.0' });
    expect(pageEvents(events, 'nope', 2)).toBeUndefined();
  });

  test('a recorded history becomes the run story: started, each step, the job, metrics, the end', () => {
    const raw = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'histories', 'fixture-success.json'), 'utf8');
    const list = eventsFromHistory(
      historyFromJSON(JSON.parse(raw)),
      '0123456789abcdef',
      defaultPayloadConverter,
      false,
    );
    const types = list.map((e) => e.type);
    expect(types[0]).toBe('run.started');
    expect(types[types.length - 1]).toBe('run.succeeded');
    expect(list.filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual([
      'authenticate',
      'resolveModel',
      'validateCompute',
      'stageDataset',
      'submitPipeline',
      'awaitPipeline',
      'collectMetrics',
      'registerModel',
      'deployEndpoint',
      'smokeScore',
      'deleteEndpoint',
    ]);
    expect(list.find((e) => e.type === 'job.status')?.message).toMatch(/^job ftflow-\S+ Completed$/);
    expect(list.find((e) => e.type === 'metrics')?.data).toHaveProperty('train_loss');
    expect(list.every((e) => e.id.startsWith('01234567.'))).toBe(true);
    expect(new Set(list.map((e) => e.id)).size).toBe(list.length);
  });
});

describe('exit codes', () => {
  test('each outcome and error has its documented code', () => {
    expect([
      exitCodeForRun('succeeded'),
      exitCodeForRun('failed'),
      exitCodeForRun('timed-out'),
      exitCodeForRun('cancelled'),
      exitCodeForRun('terminated'),
      exitCodeForRun('running'),
    ]).toEqual([0, 1, 1, 3, 3, 4]);
    expect(exitCodeFor(new CliInputError('x'))).toBe(EXIT.badInput);
    expect(exitCodeFor(new ControlError('invalid', 'x'))).toBe(2);
    expect(exitCodeFor(new RunNotFoundError('ft-x'))).toBe(5);
    expect(exitCodeFor(new ControlError('conflict', 'x'))).toBe(6);
    expect(exitCodeFor(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }))).toBe(7);
    expect(exitCodeFor(new Error('boom'))).toBe(8);
  });
});
