// Issue 13, part 3: trigger and backfill say what the schedule did with the ticks they asked for
// (started, skipped by the overlap policy, buffered), read from the schedule's own counters before and
// after; the CLI's exit status says so (0 when a tick started or waits in the buffer, 9 when every tick
// was skipped or none fell in the range) and the API answers with the same fields.
//
// The schedules' ticks run on a task queue no worker polls, so a started tick stays running (at no
// cost) and the next one meets the overlap policy; the suite terminates them at the end.
import { openFrontDoors, terminateAll, type FrontDoors } from '../security/frontDoors';

describe('schedule trigger and backfill report what the schedule did', () => {
  let d: FrontDoors;
  const stamp = Date.now();
  const ids = { skip: `report-skip-${stamp}`, bufferOne: `report-buffer-${stamp}`, allowAll: `report-all-${stamp}` };
  const hour = 3_600_000;
  const top = Math.floor(Date.now() / hour) * hour;
  /** Three ticks of an hourly schedule: top-3h, top-2h and top-1h (a backfill includes both ends). */
  const threeTicks = { start: new Date(top - 3 * hour), end: new Date(top - hour) };

  beforeAll(async () => {
    d = await openFrontDoors({ scheduler: ['schedules:read', 'schedules:write'] });
    // Paused, so no tick of their own comes in the middle; triggers and backfills run all the same.
    await d.client.schedules.create({ scheduleId: ids.skip, spec: {}, every: '1h', paused: true });
    await d.client.schedules.create({
      scheduleId: ids.bufferOne,
      spec: {},
      every: '1h',
      paused: true,
      overlap: 'buffer-one',
    });
    await d.client.schedules.create({
      scheduleId: ids.allowAll,
      spec: {},
      every: '1h',
      paused: true,
      overlap: 'allow-all',
    });
  });
  afterAll(async () => {
    if (d) {
      const ticks: string[] = [];
      for (const id of Object.values(ids)) {
        const handle = d.temporal.schedule.getHandle(id);
        const desc = await handle.describe().catch(() => undefined);
        for (const a of desc?.info.runningActions ?? []) ticks.push(a.workflow.workflowId);
        for (const a of desc?.info.recentActions ?? []) ticks.push(a.action.workflow.workflowId);
        await handle.delete().catch(() => undefined);
      }
      await terminateAll(d.temporal, ticks);
    }
    await d?.stop();
  });

  test('skip: the first trigger starts a tick, the next is skipped (CLI exit 9, API fields), a backfill meanwhile is skipped whole', async () => {
    const first = await d.client.schedules.trigger(ids.skip);
    expect(first).toMatchObject({
      scheduleId: ids.skip,
      action: 'trigger',
      overlap: 'skip',
      requested: 1,
      started: 1,
      skipped: 0,
      buffered: 0,
      settled: true,
      outcome: 'started',
      startedTicks: [
        { tickId: expect.stringMatching(`^ftsched-${ids.skip}-`), runId: expect.stringMatching(`^ft-${ids.skip}-`) },
      ],
    });

    const second = await d.client.schedules.trigger(ids.skip);
    expect(second).toMatchObject({
      requested: 1,
      started: 0,
      skipped: 1,
      buffered: 0,
      outcome: 'skipped',
      startedTicks: [],
    });
    expect(second.message).toMatch(/skipped/);

    const cli = await d.cli(['schedule', 'trigger', ids.skip, '--json']);
    expect(cli.code).toBe(9);
    expect(JSON.parse(cli.stdout)).toMatchObject({ started: 0, skipped: 1, outcome: 'skipped' });
    const plain = await d.cli(['schedule', 'trigger', ids.skip]);
    expect(plain.code).toBe(9);
    expect(plain.stdout + plain.stderr).toMatch(/skipped/);

    const api = await d.call('POST', `/v1/schedules/${ids.skip}/trigger`, { key: 'scheduler' });
    expect(api).toMatchObject({
      status: 200,
      body: { scheduleId: ids.skip, requested: 1, started: 0, skipped: 1, buffered: 0, outcome: 'skipped' },
    });

    // The tick started first still runs: each of the three backfilled ticks is skipped.
    const backfill = await d.call('POST', `/v1/schedules/${ids.skip}/backfill`, {
      key: 'scheduler',
      body: { start: threeTicks.start.toISOString(), end: threeTicks.end.toISOString() },
    });
    expect(backfill).toMatchObject({
      status: 200,
      body: { action: 'backfill', requested: 3, started: 0, skipped: 3, outcome: 'skipped' },
    });
    const cliBackfill = await d.cli([
      'schedule',
      'backfill',
      ids.skip,
      '--start',
      threeTicks.start.toISOString(),
      '--end',
      threeTicks.end.toISOString(),
    ]);
    expect(cliBackfill.code).toBe(9);

    // A range that holds no tick starts nothing, and says so.
    const empty = await d.client.schedules.backfill(ids.skip, {
      start: new Date(top - 3 * hour + 1000),
      end: new Date(top - 3 * hour + 2000),
    });
    expect(empty).toMatchObject({ requested: 0, started: 0, skipped: 0, outcome: 'none' });
  });

  test('buffer-one: a trigger while a tick runs is buffered (exit 0), the next one is skipped', async () => {
    expect(await d.client.schedules.trigger(ids.bufferOne)).toMatchObject({ started: 1, outcome: 'started' });
    const buffered = await d.cli(['schedule', 'trigger', ids.bufferOne, '--json']);
    expect(buffered.code).toBe(0);
    expect(JSON.parse(buffered.stdout)).toMatchObject({ started: 0, buffered: 1, skipped: 0, outcome: 'buffered' });
    expect(await d.client.schedules.trigger(ids.bufferOne)).toMatchObject({
      started: 0,
      buffered: 0,
      skipped: 1,
      outcome: 'skipped',
    });
  });

  test('allow-all: a backfill of three ticks starts three', async () => {
    const report = await d.client.schedules.backfill(ids.allowAll, threeTicks);
    expect(report).toMatchObject({ requested: 3, started: 3, skipped: 0, buffered: 0, outcome: 'started' });
    expect(report.startedTicks).toHaveLength(3);
  });
});
