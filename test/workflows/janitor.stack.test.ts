// The janitor deletes what a run that ran no cleanup left behind, and nothing a running run still uses.
import { createActivities, createDeps } from '../../src/activities';
import { loadAzureConfig } from '../../src/azure/config';
import { FAST_TUNING, startHarness, resourcesOf, waitFor, withClock, type TestHarness } from '../helpers/localStack';

const QUICK = { heartbeatTimeoutSeconds: 3 };

describe('the janitor on the local stack', () => {
  let h: TestHarness;
  const scheduleId = `janitor-test-${Date.now()}`;
  /** This worker's record of the deployEndpoint attempts: how many started and ended, by endpoint name. */
  const deploys = new Map<string, { started: number; ended: number }>();
  beforeAll(async () => {
    const env = { ...process.env, ...FAST_TUNING };
    const real = createActivities(createDeps(loadAzureConfig(env), env));
    h = await startHarness({
      deployEndpoint: async (input) => {
        const record = deploys.get(input.endpointName) ?? { started: 0, ended: 0 };
        deploys.set(input.endpointName, record);
        record.started += 1;
        try {
          return await real.deployEndpoint(input);
        } finally {
          record.ended += 1;
        }
      },
    });
  });
  afterAll(async () => {
    await h?.temporal.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await h?.stop();
  });

  test('deletes the orphan left by a run terminated mid-deploy and keeps the endpoint of a running run', async () => {
    // A run that keeps its endpoint serving: the run is running, so its endpoint is not an orphan.
    const alive = await h.client.start(
      { dataset: { percent: 4.1 }, deployment: { keepAliveMinutes: 30 } },
      { options: QUICK },
    );
    await waitFor(
      'the endpoint to be kept alive',
      async () => (await h.client.progress(alive.runId)).endpointExpiresAt,
    );

    // A run terminated while its deployment is being created: terminate runs no workflow code, so no cleanup.
    const orphan = await withClock({ provisionMs: 4_000 }, async () => {
      const run = await h.client.start({ dataset: { percent: 4.2 } }, { options: QUICK });
      await waitFor('the endpoint to exist', async () =>
        (await resourcesOf(run.names)).endpoints.length > 0 ? true : undefined,
      );
      await h.client.handle(run.runId).terminate('test: the run is lost mid-deploy');
      return run;
    });
    expect((await resourcesOf(orphan.names)).endpoints.map((e) => e.deletedAt ?? null)).toEqual([null]);
    const terminated = await h.client.get(orphan.runId);
    expect(terminated.status).toBe('terminated');
    expect(terminated.steps.find((s) => s.name === 'deployEndpoint')).toMatchObject({
      status: 'cancelled',
      detail: expect.stringMatching(/terminated during this step; no cleanup ran/),
    });

    // The schedule the stack creates, here on this test's task queue; the test triggers it.
    const created = await h.client.janitor.ensureSchedule({ scheduleId, every: '1 hour' });
    expect(created).toMatchObject({ scheduleId, every: ['1h'], paused: false });
    await h.client.janitor.trigger(scheduleId);
    const swept = await waitFor(
      'the sweep to report',
      async () => (await h.client.janitor.describeSchedule(scheduleId)).lastReport,
      60_000,
    );

    expect(swept.deleted).toContainEqual({
      endpointName: orphan.names.endpointName,
      runId: orphan.runId,
      reason: 'run terminated',
    });
    expect(swept.kept).toContainEqual({
      endpointName: alive.names.endpointName,
      runId: alive.runId,
      reason: 'run is running',
    });
    expect(swept.deleted.map((d) => d.endpointName)).not.toContain(alive.names.endpointName);
    expect(swept.failed).toEqual([]);
    expect((await resourcesOf(orphan.names)).endpoints.every((e) => e.deletedAt)).toBe(true);
    expect((await resourcesOf(alive.names)).endpoints.map((e) => e.deletedAt ?? null)).toEqual([null]);

    // The terminated run's deployment step, cancelled by its next heartbeat, recreates nothing: once this
    // worker records its end, the emulator still has the one endpoint, deleted.
    await waitFor("the terminated run's deployment step to end on this worker", async () => {
      const d = deploys.get(orphan.names.endpointName);
      return d && d.started > 0 && d.ended === d.started ? true : undefined;
    });
    const left = await resourcesOf(orphan.names);
    expect(left.endpoints).toHaveLength(1);
    expect(left.endpoints.every((e) => e.deletedAt)).toBe(true);
    // A second sweep finds nothing more to do.
    const again = await h.client.janitor.runNow({ dryRun: true });
    expect(again.deleted.map((d) => d.endpointName)).not.toContain(orphan.names.endpointName);

    await h.client.endpointLifetime(alive.runId, { endNow: true });
    expect((await h.client.handle(alive.runId).result()).endpoint).toMatchObject({ existed: true, deleted: true });
  });
});
