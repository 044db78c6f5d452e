// Issue 13, part 2: the schedule routes and `ftflow schedule ...` see only the service's retraining
// schedules. The janitor's schedule (the billing safety net) and any schedule the service did not create
// are "no such schedule" to them (404, exit 5), so an ordinary schedules:write key cannot describe, pause,
// trigger or delete them. The janitor has its own routes under the janitor:admin scope, and its own
// commands (`ftflow janitor schedule|pause|unpause|trigger`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ScheduleNotFoundError } from '../../src/client';
import { JANITOR_SCHEDULE_ID } from '../../src/workflows/definitions';
import { openFrontDoors, terminateAll, type FrontDoors } from './frontDoors';

describe("the janitor's and strangers' schedules are not retraining schedules", () => {
  let d: FrontDoors;
  const stamp = Date.now();
  const ours = `ours-${stamp}`;
  const stranger = `other-app-nightly-${stamp}`;
  /** Made to look like a retraining schedule (action type, id, memo) but for another task queue. */
  const lookalike = `lookalike-${stamp}`;
  const ticks = new Set<string>();
  let janitorExisted = false;

  beforeAll(async () => {
    d = await openFrontDoors({
      scheduler: ['schedules:read', 'schedules:write'],
      operator: ['janitor:admin'],
    });
    janitorExisted = await d.temporal.schedule
      .getHandle(JANITOR_SCHEDULE_ID)
      .describe()
      .then(
        () => true,
        () => false,
      );
    await d.client.janitor.ensureSchedule({ every: '1000h' });
    await d.client.schedules.create({ scheduleId: ours, spec: {}, every: '7d', paused: true });
    await d.temporal.schedule.create({
      scheduleId: stranger,
      spec: { intervals: [{ every: '1d' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'nightlyBilling',
        args: [],
        taskQueue: `other-app-${stamp}`,
        workflowId: stranger,
      },
      state: { paused: true },
    });
    await d.temporal.schedule.create({
      scheduleId: lookalike,
      spec: { intervals: [{ every: '1d' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledFineTune',
        args: [{ scheduleId: lookalike, spec: {} }],
        taskQueue: `other-app-${stamp}`,
        workflowId: `ftsched-${lookalike}`,
      },
      memo: { ftflow: { kind: 'retraining', contentKey: 'x' } },
      state: { paused: true },
    });
  });
  afterAll(async () => {
    if (d) {
      for (const id of [ours, stranger, lookalike, ...(janitorExisted ? [] : [JANITOR_SCHEDULE_ID])]) {
        const handle = d.temporal.schedule.getHandle(id);
        const desc = await handle.describe().catch(() => undefined);
        for (const a of desc?.info.runningActions ?? []) ticks.add(a.workflow.workflowId);
        await handle.delete().catch(() => undefined);
      }
      await terminateAll(d.temporal, ticks);
    }
    await d?.stop();
  });

  async function stillThere(id: string, paused: boolean): Promise<void> {
    const desc = await d.temporal.schedule.getHandle(id).describe();
    expect({ id, paused: desc.state.paused }).toEqual({ id, paused });
  }

  test('the typed client: describe, pause, unpause, trigger, backfill, delete are "no such schedule"; list leaves them out', async () => {
    const hour = { start: new Date(Date.now() - 3_600_000), end: new Date() };
    for (const id of [JANITOR_SCHEDULE_ID, stranger, lookalike]) {
      const calls: [string, () => Promise<unknown>][] = [
        ['describe', () => d.client.schedules.describe(id)],
        ['pause', () => d.client.schedules.pause(id, 'nope')],
        ['unpause', () => d.client.schedules.unpause(id)],
        ['trigger', () => d.client.schedules.trigger(id)],
        ['backfill', () => d.client.schedules.backfill(id, hour)],
        ['delete', () => d.client.schedules.delete(id)],
      ];
      for (const [name, call] of calls) {
        const outcome = await call().then(
          (value) => ({ name, value }),
          (err: unknown) => ({ name, err }),
        );
        expect(outcome).toEqual({ name, err: expect.any(ScheduleNotFoundError) });
      }
    }
    await stillThere(JANITOR_SCHEDULE_ID, false);
    await stillThere(stranger, true);
    await stillThere(lookalike, true);
    expect((await d.temporal.schedule.getHandle(JANITOR_SCHEDULE_ID).describe()).info.numActionsTaken).toBe(0);
    const listed = (await d.client.schedules.list()).map((s) => s.scheduleId);
    expect(listed).toContain(ours);
    expect(listed).not.toEqual(expect.arrayContaining([JANITOR_SCHEDULE_ID]));
    expect(listed).not.toContain(stranger);
    expect(listed).not.toContain(lookalike);
    expect(await d.client.schedules.describe(ours)).toMatchObject({ scheduleId: ours, paused: true });

    // The janitor's id cannot be taken by a retraining schedule either.
    await expect(
      d.client.schedules.create({ scheduleId: JANITOR_SCHEDULE_ID, spec: {}, every: '7d' }),
    ).rejects.toMatchObject({
      code: 'invalid',
      issues: [{ field: 'scheduleId', message: expect.stringMatching(/reserved/) }],
    });
  });

  test('a schedules:write key gets 404 for the janitor and strangers; janitor:admin has its own routes', async () => {
    for (const id of [JANITOR_SCHEDULE_ID, stranger, lookalike]) {
      const answers = {
        get: await d.call('GET', `/v1/schedules/${id}`, { key: 'scheduler' }),
        pause: await d.call('POST', `/v1/schedules/${id}/pause`, { key: 'scheduler', body: {} }),
        unpause: await d.call('POST', `/v1/schedules/${id}/unpause`, { key: 'scheduler', body: {} }),
        trigger: await d.call('POST', `/v1/schedules/${id}/trigger`, { key: 'scheduler' }),
        backfill: await d.call('POST', `/v1/schedules/${id}/backfill`, {
          key: 'scheduler',
          body: { start: new Date(Date.now() - 3_600_000).toISOString(), end: new Date().toISOString() },
        }),
        delete: await d.call('DELETE', `/v1/schedules/${id}`, { key: 'scheduler' }),
      };
      for (const [route, answer] of Object.entries(answers))
        expect({ id, route, status: answer.status, type: answer.body?.error?.type }).toEqual({
          id,
          route,
          status: 404,
          type: 'not_found_error',
        });
    }
    await stillThere(JANITOR_SCHEDULE_ID, false);
    await stillThere(stranger, true);
    const list = await d.call('GET', '/v1/schedules', { key: 'scheduler' });
    expect(list.body.data.map((s: { scheduleId: string }) => s.scheduleId)).not.toContain(JANITOR_SCHEDULE_ID);
    const reserved = await d.call('POST', '/v1/schedules', {
      key: 'scheduler',
      body: { scheduleId: JANITOR_SCHEDULE_ID, every: '7d' },
    });
    expect(reserved).toMatchObject({ status: 400, body: { error: { fields: [{ field: 'scheduleId' }] } } });

    // The janitor's own routes: only with janitor:admin.
    expect((await d.call('GET', '/v1/janitor', { key: 'scheduler' })).status).toBe(403);
    expect((await d.call('POST', '/v1/janitor/pause', { key: 'scheduler', body: {} })).status).toBe(403);
    expect((await d.call('GET', '/v1/janitor', { key: 'operator' })).body).toMatchObject({
      scheduleId: JANITOR_SCHEDULE_ID,
      paused: false,
      every: ['1000h'],
    });
    expect((await d.call('GET', '/v1/schedules', { key: 'operator' })).status).toBe(403);
    expect(
      (await d.call('POST', '/v1/janitor/pause', { key: 'operator', body: { note: 'maintenance' } })).body,
    ).toMatchObject({ paused: true });
    await stillThere(JANITOR_SCHEDULE_ID, true);
    expect((await d.call('POST', '/v1/janitor/unpause', { key: 'operator', body: {} })).body).toMatchObject({
      paused: false,
    });
    const triggered = await d.call('POST', '/v1/janitor/trigger', { key: 'operator' });
    expect(triggered).toMatchObject({ status: 200, body: { scheduleId: JANITOR_SCHEDULE_ID, started: 1 } });
    for (const t of triggered.body.startedTicks) ticks.add(t.tickId);
    // There is no route that deletes the janitor.
    expect((await d.call('DELETE', '/v1/janitor', { key: 'operator' })).status).toBe(404);
    await stillThere(JANITOR_SCHEDULE_ID, false);
  });

  test('ftflow schedule ... exits 5 for the janitor and strangers; ftflow janitor ... manages the janitor', async () => {
    for (const id of [JANITOR_SCHEDULE_ID, stranger]) {
      for (const args of [
        ['schedule', 'describe', id],
        ['schedule', 'pause', id],
        ['schedule', 'unpause', id],
        ['schedule', 'trigger', id],
        ['schedule', 'delete', id],
      ]) {
        const ran = await d.cli(args);
        expect({ args, code: ran.code }).toEqual({ args, code: 5 });
        expect(ran.stderr).toContain(`no schedule ${id}`);
      }
    }
    await stillThere(JANITOR_SCHEDULE_ID, false);
    await stillThere(stranger, true);
    const list = await d.cli(['schedule', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { data: { scheduleId: string }[] }).data.map((s) => s.scheduleId)).not.toContain(
      JANITOR_SCHEDULE_ID,
    );

    expect(await d.cli(['janitor', 'pause', '--note', 'maintenance'])).toMatchObject({ code: 0 });
    await stillThere(JANITOR_SCHEDULE_ID, true);
    expect((await d.cli(['janitor', 'schedule'])).stdout).toMatch(/ftflow-janitor {2}paused/);
    expect(await d.cli(['janitor', 'unpause'])).toMatchObject({ code: 0 });
    await stillThere(JANITOR_SCHEDULE_ID, false);
  });

  test('api-key create: janitor:admin is a scope of its own, never given by default', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftflow-keys-'));
    try {
      const file = path.join(dir, 'keys.json');
      const plain = await d.cli(['api-key', 'create', 'ci-pipeline', '--file', file, '--json']);
      expect(plain.code).toBe(0);
      expect(JSON.parse(plain.stdout).scopes).toEqual([
        'fine-tunes:read',
        'fine-tunes:write',
        'schedules:read',
        'schedules:write',
        'webhooks:read',
        'webhooks:write',
      ]);
      const operator = await d.cli([
        'api-key',
        'create',
        'oncall',
        '--scopes',
        'janitor:admin',
        '--file',
        file,
        '--json',
      ]);
      expect(operator.code).toBe(0);
      expect(JSON.parse(operator.stdout).scopes).toEqual(['janitor:admin']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
