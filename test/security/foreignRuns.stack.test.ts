// Issue 13, part 1: a run id that names a workflow the service does not run (another application's
// workflow in the same namespace) is "no such run" everywhere: the typed client, `ftflow` and the HTTP
// API answer as for a missing id (RunNotFoundError, exit 5, 404), and the foreign workflow is never
// cancelled, resumed or read as a fine-tune. A workflow is the service's run when its workflow type is
// one of the service's run types AND it runs on the service's task queue (src/control/ownership.ts).
import { RunNotFoundError } from '../../src/client';
import { FINETUNE_SEARCH_ATTRIBUTES as SA } from '../../src/config/searchAttributes';
import { runContentKey } from '../../src/runSpec/contentKey';
import { parseRunSpec } from '../../src/runSpec/schema';
import { waitFor } from '../helpers/localStack';
import { openFrontDoors, terminateAll, within, type FrontDoors } from './frontDoors';

describe("another application's workflows are not runs of this service", () => {
  let d: FrontDoors;
  const stamp = Date.now();
  const otherQueue = `other-app-${stamp}`;
  const started = new Set<string>();
  /** Another app's workflow: its own type, its own task queue (nobody polls it: it stays running). */
  const foreign = `ft-other-app-${stamp}`;
  /** Named like a run and typed like one, but on another task queue: not executed by this service. */
  const foreignFineTune = `ft-other-finetune-${stamp}`;
  /** On this service's task queue, but of a type the service does not have. */
  const foreignOnOurQueue = `ft-other-type-${stamp}`;
  /** Closed, with an input that looks like a run spec: resume must not take it over. */
  const foreignClosed = `ft-other-closed-${stamp}`;
  const dedupeSpec = { dataset: { percent: 7.31 } };

  beforeAll(async () => {
    d = await openFrontDoors({
      reader: ['fine-tunes:read'],
      writer: ['fine-tunes:read', 'fine-tunes:write'],
    });
    const start = async (id: string, type: string, taskQueue: string, extra: Record<string, unknown> = {}) => {
      await d.temporal.workflow.start(type, {
        workflowId: id,
        taskQueue,
        args: [{ spec: { dataset: { percent: 1 } } }],
        ...extra,
      });
      started.add(id);
    };
    await start(foreign, 'billingReconciliation', otherQueue);
    await start(foreignFineTune, 'fineTune', otherQueue, {
      // Everything a run's record shows, and the content key a de-duplicating start looks for.
      memo: { ftflow: { spec: parseRunSpec(dedupeSpec), source: 'client' } },
      typedSearchAttributes: [
        { key: SA.contentKey, value: runContentKey(parseRunSpec(dedupeSpec)) },
        { key: SA.status, value: 'running' },
      ],
    });
    await start(foreignOnOurQueue, 'payroll', d.taskQueue);
    await start(foreignClosed, 'billingReconciliation', otherQueue);
    await d.temporal.workflow.getHandle(foreignClosed).terminate('closed by its owner');
    // Visibility is eventually consistent: wait until the foreign fineTune-typed workflow can be listed.
    await waitFor('the foreign workflows to be visible', async () => {
      const ids: string[] = [];
      for await (const e of d.temporal.workflow.list({ query: `WorkflowId = '${foreignFineTune}'` }))
        ids.push(e.workflowId);
      return ids.length > 0 ? true : undefined;
    });
  });
  afterAll(async () => {
    if (d) await terminateAll(d.temporal, started);
    await d?.stop();
  });

  async function untouched(id: string): Promise<void> {
    const handle = d.temporal.workflow.getHandle(id);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(false);
    expect(history.events?.some((e) => e.workflowExecutionSignaledEventAttributes)).toBe(false);
  }

  test('the typed client: get, summary, result, progress, events, cancel, resume, endpointLifetime, keepAlive are "no such run"', async () => {
    for (const id of [foreign, foreignFineTune, foreignOnOurQueue]) {
      const calls: [string, () => Promise<unknown>][] = [
        ['get', () => d.client.get(id)],
        ['summary', () => d.client.summary(id)],
        ['result', () => d.client.result(id)],
        ['progress', () => d.client.progress(id)],
        ['events', () => d.client.events(id)],
        ['cancel', () => d.client.cancel(id, { waitSeconds: 0 })],
        ['resume', () => d.client.resume(id)],
        ['endpointLifetime', () => d.client.endpointLifetime(id, { endNow: true })],
        ['keepAlive', () => d.client.keepAlive(id, { end: true })],
        ['result (no wait)', () => d.client.result(id, { wait: false })],
      ];
      for (const [name, call] of calls) {
        const outcome = await within(5000, call()).then(
          (value) => ({ name, value }),
          (err: unknown) => ({ name, err }),
        );
        expect(outcome).toEqual({ name, err: expect.any(RunNotFoundError) });
        // The same answer as for an id nobody uses: existence is not leaked.
        expect((outcome as { err: Error }).err.message).toBe(new RunNotFoundError(id).message);
      }
      await untouched(id);
    }
    // A closed foreign workflow is not resumed (nothing starts under its id).
    await expect(d.client.resume(foreignClosed)).rejects.toBeInstanceOf(RunNotFoundError);
    expect((await d.temporal.workflow.getHandle(foreignClosed).describe()).type).toBe('billingReconciliation');
  });

  test("list and a de-duplicating start see only this service's runs; an idempotency key naming a foreign id is a conflict", async () => {
    const listed = await d.client.list({ limit: 100 });
    expect(listed.data.map((r) => r.id)).not.toContain(foreignFineTune);
    const running = await d.client.list({ status: 'running', limit: 100 });
    expect(running.data.map((r) => r.id)).not.toContain(foreignFineTune);

    // The foreign fineTune-typed workflow carries the spec's content key: a de-duplicating start must not
    // answer with it.
    const deduped = await d.client.start(dedupeSpec, { dedupe: true });
    started.add(deduped.runId);
    expect(deduped).toMatchObject({ created: true, deduplicated: false });
    expect(deduped.runId).not.toBe(foreignFineTune);

    // ft-<key> is another app's workflow: the key cannot be used, and the foreign workflow is not returned.
    await expect(d.client.start({}, { idempotencyKey: foreign.slice('ft-'.length) })).rejects.toMatchObject({
      code: 'conflict',
    });
    await untouched(foreign);
  });

  test('ftflow: status, result, events, watch, cancel, resume, keep-alive exit 5 (no such run); list does not show them', async () => {
    for (const id of [foreign, foreignFineTune, foreignOnOurQueue]) {
      for (const args of [
        ['status', id],
        ['events', id],
        ['watch', id, '--timeout', '1'],
        ['cancel', id, '--wait', '0'],
        ['resume', id],
        ['result', id],
        ['keep-alive', id, '--end'],
      ]) {
        const ran = await d.cli(args);
        expect({ args, code: ran.code }).toEqual({ args, code: 5 });
        expect(ran.stderr).toContain(`no run ${id}`);
      }
      await untouched(id);
    }
    const list = await d.cli(['list', '--limit', '100', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { data: { id: string }[] }).data.map((r) => r.id)).not.toContain(
      foreignFineTune,
    );
  });

  test('the HTTP API: get, result, events, cancel, resume, keep-alive answer 404; list does not show them; a write key cancels nothing', async () => {
    for (const id of [foreign, foreignFineTune, foreignOnOurQueue]) {
      const answers = {
        get: await d.call('GET', `/v1/fine-tunes/${id}`, { key: 'reader' }),
        events: await d.call('GET', `/v1/fine-tunes/${id}/events`, { key: 'reader' }),
        cancel: await d.call('POST', `/v1/fine-tunes/${id}/cancel?wait=0`, { key: 'writer' }),
        resume: await d.call('POST', `/v1/fine-tunes/${id}/resume`, { key: 'writer' }),
        result: await d.call('GET', `/v1/fine-tunes/${id}/result`, { key: 'reader' }),
        keepAlive: await d.call('POST', `/v1/fine-tunes/${id}/keep-alive`, { key: 'writer', body: { end: true } }),
      };
      const missing = await d.call('GET', `/v1/fine-tunes/ft-nobody-${stamp}`, { key: 'reader' });
      for (const [route, answer] of Object.entries(answers)) {
        expect({ route, status: answer.status }).toEqual({ route, status: 404 });
        expect(answer.body.error).toEqual({
          type: 'not_found_error',
          message: missing.body.error.message.replace(`ft-nobody-${stamp}`, id),
        });
      }
      await untouched(id);
    }
    const resumeClosed = await d.call('POST', `/v1/fine-tunes/${foreignClosed}/resume`, { key: 'writer' });
    expect(resumeClosed.status).toBe(404);
    const list = await d.call('GET', '/v1/fine-tunes?limit=100', { key: 'reader' });
    expect(list.status).toBe(200);
    expect(list.body.data.map((r: { id: string }) => r.id)).not.toContain(foreignFineTune);
    const taken = await d.call('POST', '/v1/fine-tunes', {
      key: 'writer',
      body: {},
      headers: { 'idempotency-key': foreign.slice('ft-'.length) },
    });
    expect(taken).toMatchObject({ status: 409, body: { error: { type: 'conflict_error' } } });
    await untouched(foreign);
  });
});
