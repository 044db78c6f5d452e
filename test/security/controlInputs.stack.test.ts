// Issue 13, part 4: bad input to the control surface is the caller's error, named, never a 500 or an
// "unexpected error" exit: a forged page token, a bad cron or time zone, a schedule more frequent than
// the operator's minimum (FTFLOW_SCHEDULE_MIN_INTERVAL, default 5 minutes), an API key name that is not
// a name. And the API's access log never holds a query string (where a key sent by mistake would sit).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FineTuneClient } from '../../src/client';
import { hashKey } from '../../src/api/keys';
import { API_MAIN } from '../helpers/frontEnds';
import { waitFor } from '../helpers/localStack';
import { openFrontDoors, terminateAll, type FrontDoors } from './frontDoors';

describe('bad input to the control surface is named and refused', () => {
  let d: FrontDoors;
  const stamp = Date.now();
  const created: string[] = [];
  const runs: string[] = [];
  beforeAll(async () => {
    d = await openFrontDoors({ all: ['fine-tunes:read', 'fine-tunes:write', 'schedules:read', 'schedules:write'] });
  });
  afterAll(async () => {
    if (d) await terminateAll(d.temporal, runs);
    for (const id of created)
      await d?.temporal.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await d?.stop();
  });

  test('a page token that no page gave is a 400 naming pageToken (client, API, CLI)', async () => {
    for (const token of ['AAAA', 'garbage', 'eyJhIjoxfQ', 'x'.repeat(5000)]) {
      await expect(d.client.list({ pageToken: token })).rejects.toMatchObject({
        code: 'invalid',
        issues: [{ field: 'pageToken', message: expect.any(String) }],
      });
      const api = await d.call('GET', `/v1/fine-tunes?pageToken=${token}`, { key: 'all' });
      expect({ token: token.slice(0, 12), status: api.status }).toEqual({ token: token.slice(0, 12), status: 400 });
      expect(api.body.error.fields).toEqual([
        { field: expect.stringMatching(/pageToken$/), message: expect.any(String) },
      ]);
    }
    const cli = await d.cli(['list', '--page-token', 'garbage']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/pageToken/);
    // Two runs on this suite's task queue (no worker: they stay running): a real token pages from one to
    // the other, and is refused for a list with other filters.
    for (const percent of [8.11, 8.12]) runs.push((await d.client.start({ dataset: { percent } })).runId);
    const first = await waitFor('both runs to be listed', async () => {
      const page = await d.client.list({ limit: 1 });
      return page.nextPageToken !== null ? page : undefined;
    });
    const second = await d.client.list({ limit: 1, pageToken: first.nextPageToken ?? '' });
    expect([...first.data, ...second.data].map((r) => r.id).sort()).toEqual([...runs].sort());
    await expect(
      d.client.list({ limit: 1, status: 'failed', pageToken: first.nextPageToken ?? '' }),
    ).rejects.toMatchObject({ code: 'invalid', issues: [{ field: 'pageToken' }] });
    const api = await d.call('GET', `/v1/fine-tunes?limit=1&pageToken=${first.nextPageToken ?? ''}`, { key: 'all' });
    expect(api.status).toBe(200);
  });

  test('a bad cron or time zone is a 400 / exit 2 naming the field', async () => {
    const cases = [
      { body: { cron: '61 * * * *' }, field: 'cron', flags: ['--cron', '61 * * * *'] },
      { body: { cron: 'every tuesday' }, field: 'cron', flags: ['--cron', 'every tuesday'] },
      {
        body: { cron: '0 3 * * 1', timezone: 'Mars/Olympus' },
        field: 'timezone',
        flags: ['--cron', '0 3 * * 1', '--timezone', 'Mars/Olympus'],
      },
      {
        body: { every: '7d', timezone: 'Europe/Paris' },
        field: 'timezone',
        flags: ['--every', '7d', '--timezone', 'Europe/Paris'],
      },
    ];
    for (const [i, c] of cases.entries()) {
      const scheduleId = `badcron-${i}-${stamp}`;
      created.push(scheduleId);
      const api = await d.call('POST', '/v1/schedules', { key: 'all', body: { scheduleId, ...c.body } });
      expect({ i, status: api.status, fields: api.body.error?.fields?.map((f: { field: string }) => f.field) }).toEqual(
        {
          i,
          status: 400,
          fields: [c.field],
        },
      );
      const cli = await d.cli(['schedule', 'create', scheduleId, ...c.flags]);
      expect({ i, code: cli.code }).toEqual({ i, code: 2 });
      expect(cli.stderr).toContain(`${c.field}:`);
    }
    // A good cron in a real time zone is fine.
    const good = `goodcron-${stamp}`;
    created.push(good);
    expect(
      await d.client.schedules.create({
        scheduleId: good,
        spec: {},
        cron: '0 3 * * 1',
        timezone: 'Europe/Paris',
        paused: true,
      }),
    ).toMatchObject({ cron: ['0 3 * * 1'], timezone: 'Europe/Paris', paused: true });
  });

  test('a schedule more frequent than the minimum (5 minutes unless the operator says) is refused naming the field', async () => {
    const tooOften = [
      { every: '1s' },
      { every: '4m' },
      { every: '1m', overlap: 'allow-all' as const },
      { cron: '* * * * *' },
      { cron: '*/2 * * * *', overlap: 'allow-all' as const },
      { cron: '0,1 3 * * *' },
      { cron: '@every 30s' },
    ];
    for (const [i, c] of tooOften.entries()) {
      const scheduleId = `often-${i}-${stamp}`;
      created.push(scheduleId);
      const field = c.every !== undefined ? 'every' : 'cron';
      await expect(d.client.schedules.create({ scheduleId, spec: {}, ...c })).rejects.toMatchObject({
        code: 'invalid',
        issues: [{ field, message: expect.stringMatching(/5m|5 minutes/) }],
      });
      // Nothing was left behind.
      await expect(d.temporal.schedule.getHandle(scheduleId).describe()).rejects.toThrow();
      const api = await d.call('POST', '/v1/schedules', { key: 'all', body: { scheduleId, ...c } });
      expect({ i, status: api.status, field: api.body.error?.fields?.[0]?.field }).toEqual({ i, status: 400, field });
    }
    const cli = await d.cli(['schedule', 'create', `often-cli-${stamp}`, '--every', '1s']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/every: .*at least/);

    // The minimum itself is fine; an operator can lower (or raise) it.
    const atMinimum = `often-ok-${stamp}`;
    created.push(atMinimum);
    expect(
      await d.client.schedules.create({ scheduleId: atMinimum, spec: {}, every: '5m', paused: true }),
    ).toMatchObject({
      every: ['5m'],
    });
    const lowered = await FineTuneClient.connect(
      { client: d.temporal, taskQueue: d.taskQueue },
      { ...process.env, FTFLOW_SCHEDULE_MIN_INTERVAL: '1m' },
    );
    const loweredId = `often-lowered-${stamp}`;
    created.push(loweredId);
    expect(
      await lowered.schedules.create({ scheduleId: loweredId, spec: {}, every: '2m', paused: true }),
    ).toMatchObject({
      every: ['2m'],
    });
    const cliLowered = `often-cli-lowered-${stamp}`;
    created.push(cliLowered);
    expect(
      (
        await d.cli(['schedule', 'create', cliLowered, '--every', '1m', '--paused'], {
          FTFLOW_SCHEDULE_MIN_INTERVAL: '30s',
        })
      ).code,
    ).toBe(0);
    await expect(
      FineTuneClient.connect({ client: d.temporal, taskQueue: d.taskQueue }, { FTFLOW_SCHEDULE_MIN_INTERVAL: 'often' }),
    ).rejects.toThrow(/FTFLOW_SCHEDULE_MIN_INTERVAL/);
  });

  test('api-key create with a name that is not a key name exits 2 naming the rule', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-keys-'));
    try {
      const file = path.join(dir, 'keys.json');
      for (const name of ['../../etc/x', 'has space', '.hidden', 'x'.repeat(65)]) {
        const ran = await d.cli(['api-key', 'create', name, '--file', file]);
        expect({ name, code: ran.code }).toEqual({ name, code: 2 });
        expect(ran.stderr).toMatch(/1-64 letters, digits/);
      }
      expect(fs.existsSync(file)).toBe(false);
      expect((await d.cli(['api-key', 'create', 'ok-name', '--file', file])).code).toBe(0);
      expect((await d.cli(['api-key', 'create', 'ok-name', '--file', file])).code).toBe(6);
      expect((await d.cli(['api-key', 'revoke', 'no-such-key', '--file', file])).code).toBe(5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the API's access log holds paths, never query strings", async () => {
    const secret = `ftflow_${'s'.repeat(40)}`;
    const keys = JSON.stringify({ keys: [{ id: 'reader', hash: hashKey(secret), scopes: ['fine-tunes:read'] }] });
    const child = spawn(process.execPath, [API_MAIN], {
      env: {
        ...process.env,
        FTFLOW_API_KEYS: keys,
        FTFLOW_API_KEYS_FILE: '',
        FTFLOW_API_PORT: '0',
        FTFLOW_TASK_QUEUE: d.taskQueue,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the API did not start:\n${out}`)), 30_000);
        const look = () => {
          const m = /API_READY (\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          } else setTimeout(look, 50);
        };
        look();
      });
      await fetch(`${url}/v1/fine-tunes?api-key=${secret}&limit=1`);
      await fetch(`${url}/v1/fine-tunes?limit=1&api_key=${secret}`, { headers: { authorization: `Bearer ${secret}` } });
      await fetch(`${url}/v1/nowhere?token=${secret}`);
      await fetch(`${url}/healthz?api-key=${secret}`);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const lines = out.split('\n').filter((l) => l.startsWith('{'));
    const urls = lines
      .map((l) => (JSON.parse(l) as { req?: { url?: string } }).req?.url)
      .filter((u) => u !== undefined);
    expect(urls).toEqual(expect.arrayContaining(['/v1/fine-tunes', '/v1/nowhere', '/healthz']));
    expect(out).not.toContain(secret);
    expect(out).not.toContain('s'.repeat(40));
    expect(urls.every((u) => !u.includes('?'))).toBe(true);
  });
});
