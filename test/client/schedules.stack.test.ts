// Retraining schedules on the dev server (the time-skipping test server has no schedules).
import { ScheduleNotFoundError } from '../../src/client';
import type { ScheduledFineTuneResult } from '../../src/workflows/definitions';
import { startHarness, waitFor, withClock, type TestHarness } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 3 };

describe('retraining schedules on the dev server', () => {
  let h: TestHarness;
  const stamp = Date.now();
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    for (const id of [`retrain-${stamp}`, `defer-${stamp}`])
      await h?.client.schedules.delete(id).catch(() => undefined);
    await h?.stop();
  });

  async function followingJob(runId: string): Promise<void> {
    await waitFor('the run to follow its job', async () =>
      (await h.client.progress(runId).catch(() => undefined))?.currentStep === 'awaitPipeline' ? true : undefined,
    );
  }

  test('a trigger runs a tick that starts the run; a second trigger while it runs is skipped; a start of the same model and data returns it', async () => {
    const scheduleId = `retrain-${stamp}`;
    const spec = { dataset: { percent: 3.1 } };
    const created = await h.client.schedules.create({ scheduleId, spec, every: '1 hour', options: QUICK });
    expect(created).toMatchObject({
      overlap: 'skip',
      catchupWindowSeconds: 600,
      pauseOnFailure: false,
      paused: false,
      every: ['1 hour'],
    });
    expect(created.nextRuns.length).toBeGreaterThan(0);

    const runId = await withClock({ jobPhaseMs: 60_000 }, async () => {
      await h.client.schedules.trigger(scheduleId);
      const ticking = await waitFor('the tick to run', async () => {
        const d = await h.client.schedules.describe(scheduleId);
        return d.runningTicks.length === 1 && d.recent.length === 1 ? d : undefined;
      });
      const id = ticking.recent[0].runId;
      await followingJob(id);
      return id;
    });
    expect(runId).toMatch(new RegExp(`^ft-${scheduleId}-\\d{4}-`));

    await h.client.schedules.trigger(scheduleId);
    const skipped = await waitFor('the overlapping tick to be skipped', async () => {
      const d = await h.client.schedules.describe(scheduleId);
      return d.skippedOverlap >= 1 ? d : undefined;
    });
    expect(skipped).toMatchObject({ actionsTaken: 1, skippedOverlap: 1, runningTicks: [expect.any(String)] });

    expect(await h.client.get(runId)).toMatchObject({ status: 'running', source: 'schedule', scheduleId });
    const again = await h.client.start(spec, { dedupe: true, options: QUICK });
    expect(again).toMatchObject({ runId, created: false, deduplicated: true });

    expect(await h.client.cancel(runId, { waitSeconds: 60 })).toMatchObject({
      cleanup: 'confirmed',
      status: 'cancelled',
    });
    const after = await waitFor('the tick to end', async () => {
      const d = await h.client.schedules.describe(scheduleId);
      return d.runningTicks.length === 0 ? d : undefined;
    });
    expect(after.paused).toBe(false); // pauseOnFailure is off by default
  });

  test('a tick (triggered or backfilled) defers to a running run of the same model and data started elsewhere', async () => {
    const scheduleId = `defer-${stamp}`;
    const spec = { dataset: { percent: 3.2 } };
    const running = await withClock({ jobPhaseMs: 60_000 }, async () => {
      const started = await h.client.start(spec, { options: QUICK });
      await followingJob(started.runId);
      return started;
    });
    await h.client.schedules.create({
      scheduleId,
      spec,
      every: '1 hour',
      paused: true,
      note: 'created paused',
      pauseOnFailure: true,
    });

    await h.client.schedules.trigger(scheduleId);
    const tick = await waitFor('the tick to end', async () => {
      const d = await h.client.schedules.describe(scheduleId);
      return d.recent.length === 1 && d.runningTicks.length === 0 ? d.recent[0] : undefined;
    });
    const result = (await h.temporal.workflow.getHandle(tick.tickId).result()) as ScheduledFineTuneResult;
    expect(result).toEqual({ scheduleId, runId: running.runId, outcome: 'deferred' });

    // The hour before now holds exactly one tick of a 1-hour interval.
    await h.client.schedules.backfill(scheduleId, { start: new Date(Date.now() - 3_600_000), end: new Date() });
    const backfilled = await waitFor('the backfilled tick to end', async () => {
      const d = await h.client.schedules.describe(scheduleId);
      return d.recent.length === 2 && d.runningTicks.length === 0 ? d.recent[1] : undefined;
    });
    expect(await h.temporal.workflow.getHandle(backfilled.tickId).result()).toMatchObject({
      outcome: 'deferred',
      runId: running.runId,
    });

    expect(await h.client.schedules.unpause(scheduleId, 'go')).toMatchObject({ paused: false, note: 'go' });
    expect(await h.client.schedules.pause(scheduleId)).toMatchObject({ paused: true });
    const listed = await h.client.schedules.list();
    expect(listed.map((s) => s.scheduleId)).toContain(scheduleId);
    expect(listed.map((s) => s.scheduleId)).not.toContain('ftflow-janitor');
    expect(listed.find((s) => s.scheduleId === scheduleId)?.spec?.dataset.percent).toBe(3.2);

    await h.client.schedules.delete(scheduleId);
    await expect(h.client.schedules.describe(scheduleId)).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await h.client.cancel(running.runId, { waitSeconds: 60 });
  });

  test('a schedule with a bad interval or spec is refused naming the field', async () => {
    await expect(
      h.client.schedules.create({ scheduleId: `bad-${stamp}`, spec: {}, every: 'sometimes' }),
    ).rejects.toMatchObject({ code: 'invalid', issues: [{ field: 'every', message: expect.any(String) }] });
    await expect(
      h.client.schedules.create({ scheduleId: `bad-${stamp}`, spec: { dataset: { percent: 0 } }, every: '1d' }),
    ).rejects.toMatchObject({
      issues: [{ field: 'spec.dataset.percent', message: expect.stringMatching(/greater than 0/) }],
    });
  });
});
