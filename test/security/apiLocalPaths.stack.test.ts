// A remote API caller cannot make a worker read its own disk: run specs and schedule specs that name
// local dataset files (paths or file:// URLs) are refused with 400 naming each field, before any run
// starts, unless the operator set FTFLOW_DATA_ROOT for the API (workers then check their own root).
// Keys named `__proto__`/`constructor` in a body reach the spec check and are refused by name.
import { openFrontDoors, terminateAll, type FrontDoors } from './frontDoors';

const KEYS = { writer: ['fine-tunes:read', 'fine-tunes:write', 'schedules:read', 'schedules:write'] as const };
const localSpec = (train: string) => ({
  dataset: { source: 'files', files: { train, test: 'https://data.example.com/test.jsonl' } },
});

describe('the API without FTFLOW_DATA_ROOT', () => {
  let d: FrontDoors;
  beforeAll(async () => {
    d = await openFrontDoors({ writer: [...KEYS.writer] }, process.env, { allowLocalDatasetPaths: false });
  });
  afterAll(async () => d?.stop());

  test.each([
    ['an absolute path', '/srv/data/train.jsonl'],
    ['a file:// URL', 'file:///etc/passwd.jsonl'],
  ])('refuses %s in dataset.files with 400 naming the field; no run starts', async (_what, train) => {
    const answer = await d.call('POST', '/v1/fine-tunes', { key: 'writer', body: localSpec(train) });
    expect(answer.status).toBe(400);
    expect(answer.body.error.fields).toEqual([
      { field: 'dataset.files.train', message: expect.stringContaining('FTFLOW_DATA_ROOT') },
    ]);
    expect((await d.client.list({})).data).toEqual([]);
  });

  test('refuses a schedule whose spec names a local file', async () => {
    const answer = await d.call('POST', '/v1/schedules', {
      key: 'writer',
      body: { scheduleId: 'local-path-schedule', every: '7d', spec: localSpec('/srv/data/train.jsonl') },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['dataset.files.train']);
    expect((await d.call('GET', '/v1/schedules/local-path-schedule', { key: 'writer' })).status).toBe(404);
  });

  test('a __proto__ key in the body is refused by its path, not as invalid JSON', async () => {
    const answer = await fetchRaw(d, '{"training":{"__proto__":{"learning_rate":1}}}');
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('training.__proto__');
    expect(JSON.stringify(answer.body)).not.toMatch(/not valid JSON/i);
  });
});

describe('the API with FTFLOW_DATA_ROOT set', () => {
  let d: FrontDoors;
  const started: string[] = [];
  beforeAll(async () => {
    d = await openFrontDoors({ writer: [...KEYS.writer] }, process.env, { allowLocalDatasetPaths: true });
  });
  afterAll(async () => {
    await terminateAll(d.temporal, started);
    await d?.stop();
  });

  test('passes a local path on to the run (the worker judges it against its own data root)', async () => {
    const answer = await d.call('POST', '/v1/fine-tunes', { key: 'writer', body: localSpec('/srv/data/train.jsonl') });
    expect(answer.status).toBe(201);
    started.push(answer.body.id);
  });
});

/** A raw JSON text, as a client that writes its own body would send it. */
async function fetchRaw(d: FrontDoors, text: string): Promise<{ status: number; body: any }> {
  return d.call('POST', '/v1/fine-tunes', { key: 'writer', body: JSON.parse(text) as unknown });
}
