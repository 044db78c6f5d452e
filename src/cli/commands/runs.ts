// Run commands: start, run (start and watch), status, watch, events, list, cancel, resume.
import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import type { RunFilter, RunStatusFilter } from '../../config/visibility';
import { RUN_STATUS_FILTERS } from '../../config/visibility';
import type { CliContext } from '../context';
import { CliInputError, EXIT, exitCodeForRefusal, exitCodeForRun } from '../exitCodes';
import { eventLine, recordLines, runRows } from '../format';
import { estimateLine, planLines, refusalLines } from '../plan';
import { loadSpec, type SpecFlags } from '../specInput';
import { watchRun } from '../watch';
import { RunNotFoundError } from '../../control/errors';
import { refusalOf } from '../../control/refusal';
import type { FineTunePlan } from '../../workflows/definitions';

type Act = (handler: (...args: unknown[]) => Promise<number>) => (...args: unknown[]) => Promise<void>;

interface StartFlags extends SpecFlags {
  idempotencyKey?: string;
  dedupe: boolean;
  heartbeatTimeout?: string;
  /** start only: plan and print, start nothing. */
  dryRun?: boolean;
  /** start only: false with --no-plan (start without the plan's checks first). */
  plan?: boolean;
  owner?: string;
}

interface WatchFlags {
  interval: string;
  timeout?: string;
}

/** The flags that set run-spec fields, shared by run, start and schedule create. */
export function specOptions(cmd: Command): Command {
  return cmd
    .option('--model <name>', 'model.name, or registry/name')
    .option('--model-version <version>', 'model.version (default: the label "latest")')
    .option('--compute <name>', 'compute.name (the GPU cluster)')
    .option('--vm-size <size>', 'compute.vmSize')
    .option('--dataset <id>', 'dataset.source (a Hugging Face dataset id)')
    .option('--percent <n>', 'dataset.percent: how much of each split to take')
    .option('--instance-type <type>', 'deployment.instanceType')
    .option('--keep-alive <minutes>', 'deployment.keepAliveMinutes')
    .option(
      '--set <path=value>',
      'any spec field, e.g. training.learning_rate=0.0002 (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    );
}

function startOptions(cmd: Command): Command {
  return specOptions(cmd)
    .option('--idempotency-key <key>', 'the run id becomes ft-<key>; starting again with it returns the same run')
    .option('--no-dedupe', 'start even if a run training the same model, data and inputs is running')
    .option('--heartbeat-timeout <seconds>', 'how soon a crashed worker is noticed (default 30)')
    .option('--owner <api-key-id>', "the API key the run belongs to: that key's registered webhooks hear of it");
}

function planOptions(cmd: Command): Command {
  return cmd
    .option(
      '--dry-run',
      "plan only: run the checks of the run's first steps read-only and print the names, parameters, data and cost estimate",
    )
    .option('--no-plan', "start without those checks first (a refused spec then fails in the run's first steps)");
}

function watchOptions(cmd: Command): Command {
  return cmd
    .option('--interval <seconds>', 'how often to look', '1')
    .option('--timeout <seconds>', 'stop watching after this long (exit 4; the run goes on)');
}

/** The run spec's webhook secrets, shown once (only the start that created the run has them). */
function secretLines(secrets: { url: string; secret: string }[] | undefined): string[] {
  return (secrets ?? []).map((w, i) => `webhook run:${i} ${w.url}  secret ${w.secret}  (shown only now)`);
}

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new CliInputError(`${flag} must be a number of seconds (got "${value}")`);
  return n;
}

/** Who runs the CLI, recorded with the runs it starts or resumes (their summary in the Temporal UI). */
function cliUser(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME; // no passwd entry for this uid (some containers)
  }
}

async function startFromFlags(ctx: CliContext, file: string | undefined, flags: StartFlags, loaded?: unknown) {
  const spec = loaded ?? loadSpec(file, flags);
  const heartbeat = seconds('--heartbeat-timeout', flags.heartbeatTimeout);
  const client = await ctx.client();
  return client.start(spec, {
    idempotencyKey: flags.idempotencyKey,
    dedupe: flags.dedupe,
    source: 'cli',
    owner: flags.owner,
    actor: cliUser(ctx.env),
    options: heartbeat !== undefined ? { heartbeatTimeoutSeconds: heartbeat } : undefined,
  });
}

/**
 * The plan of the spec the flags describe (a dry run on the workers), or the exit status of its refusal,
 * printed as the run would fail with it.
 */
async function planOf(
  ctx: CliContext,
  spec: unknown,
  flags: StartFlags,
): Promise<{ plan: FineTunePlan } | { refused: number }> {
  try {
    return { plan: await (await ctx.client()).plan(spec, { idempotencyKey: flags.idempotencyKey }) };
  } catch (err) {
    const refusal = refusalOf(err);
    if (!refusal) throw err;
    const code = exitCodeForRefusal(refusal);
    if (ctx.io.json) ctx.io.out(JSON.stringify({ refused: refusal, exitCode: code }, null, 2));
    for (const line of refusalLines(refusal)) ctx.io.err(line);
    return { refused: code };
  }
}

/** Whether the run the idempotency key names exists already: start then finds it, and needs no plan. */
async function keyedRunExists(ctx: CliContext, key: string | undefined): Promise<boolean> {
  if (key === undefined) return false;
  try {
    await (await ctx.client()).summary(`ft-${key}`);
    return true;
  } catch (err) {
    if (err instanceof RunNotFoundError) return false;
    throw err;
  }
}

async function watchAndExit(ctx: CliContext, runId: string, flags: WatchFlags): Promise<number> {
  const client = await ctx.client();
  const timeout = seconds('--timeout', flags.timeout);
  const run = await watchRun(client, runId, ctx.io, {
    intervalMs: (seconds('--interval', flags.interval) ?? 1) * 1000,
    timeoutMs: timeout !== undefined ? timeout * 1000 : undefined,
  });
  if (ctx.io.json) ctx.io.out(JSON.stringify(run, null, 2));
  if (run.status === 'running') ctx.io.err(`${runId} is still running; stopped watching after ${flags.timeout} s`);
  return exitCodeForRun(run.status);
}

export function registerRunCommands(program: Command, ctx: () => CliContext, act: Act): void {
  planOptions(
    startOptions(
      program
        .command('start')
        .argument('[spec-file]', 'run spec, YAML or JSON ("-" for stdin)')
        .description(
          'check the spec with a dry run, then start the run (or find the existing one) and print its id; --dry-run plans only',
        ),
    ),
  ).action(
    act(async (file, flags) => {
      const c = ctx();
      const f = flags as StartFlags;
      // Read (and checked by the schema) once, before anything connects: stdin cannot be read twice.
      const spec = loadSpec(file as string | undefined, f);
      // The plan's checks first (unless --no-plan, or the key's run exists: start then finds it), so a spec
      // the run would refuse fails here, with the run's own message, instead of starting a run that fails.
      let plan: FineTunePlan | undefined;
      if (f.dryRun || (f.plan !== false && !(await keyedRunExists(c, f.idempotencyKey)))) {
        const planned = await planOf(c, spec, f);
        if ('refused' in planned) return planned.refused;
        plan = planned.plan;
        if (f.dryRun) {
          c.print(plan, () => planLines(plan as FineTunePlan));
          return EXIT.ok;
        }
      }
      const run = await startFromFlags(c, file as string | undefined, f, spec);
      c.print(plan ? { ...run, plan } : run, () => [
        `${run.runId}  ${run.created ? 'started' : run.deduplicated ? 'already running (same model, data and inputs)' : 'exists (same idempotency key)'}`,
        ...(plan && run.created ? [`estimated cost ${estimateLine(plan.cost)}`] : []),
        ...secretLines(run.webhookSecrets),
      ]);
      return EXIT.ok;
    }),
  );

  watchOptions(
    startOptions(
      program
        .command('run')
        .argument('[spec-file]', 'run spec, YAML or JSON ("-" for stdin)')
        .description('start a run and watch it to the end; exits with its outcome'),
    ),
  ).action(
    act(async (file, flags) => {
      const c = ctx();
      const run = await startFromFlags(c, file as string | undefined, flags as StartFlags);
      if (!c.io.json) c.io.err(`${run.runId} ${run.created ? 'started' : 'found (already started)'}`);
      for (const line of secretLines(run.webhookSecrets)) c.io.err(line);
      return watchAndExit(c, run.runId, flags as WatchFlags);
    }),
  );

  program
    .command('status')
    .argument('<run>', 'run id')
    .description("a run's state, steps, job status, metrics and warnings")
    .action(
      act(async (runId) => {
        const c = ctx();
        const run = await (await c.client()).get(runId as string);
        c.print(run, () => recordLines(run));
        return EXIT.ok;
      }),
    );

  watchOptions(
    program
      .command('watch')
      .argument('<run>', 'run id')
      .description('follow a run live until it ends; exits with its outcome'),
  ).action(act(async (runId, flags) => watchAndExit(ctx(), runId as string, flags as WatchFlags)));

  program
    .command('events')
    .argument('<run>', 'run id')
    .description('what happened in a run, oldest first (paged: --after <id of the last event seen>)')
    .option('--after <event-id>', 'events after this one')
    .option('--limit <n>', 'page size (1-500)', '50')
    .action(
      act(async (runId, flags) => {
        const c = ctx();
        const f = flags as { after?: string; limit: string };
        const page = await (await c.client()).events(runId as string, { after: f.after, limit: Number(f.limit) });
        c.print(page, () => [...page.data.map(eventLine), ...(page.hasMore ? [`(more: --after ${page.lastId})`] : [])]);
        return EXIT.ok;
      }),
    );

  program
    .command('list')
    .description('runs, newest first')
    .addOption(new Option('--status <status>', 'only runs in this state').choices(Object.keys(RUN_STATUS_FILTERS)))
    .option('--model <registry/name>', 'only runs of this model')
    .option('--dataset <id>', 'only runs on this dataset')
    .option('--limit <n>', 'page size (1-100)', '20')
    .option('--page-token <token>', 'the next page, as the previous page said')
    .action(
      act(async (flags) => {
        const c = ctx();
        const f = flags as RunFilter & { limit: string; pageToken?: string; status?: RunStatusFilter };
        const page = await (
          await c.client()
        ).list({
          status: f.status,
          model: f.model,
          dataset: f.dataset,
          limit: Number(f.limit),
          pageToken: f.pageToken,
        });
        c.print(page, () => [
          ...runRows(page.data),
          ...(page.nextPageToken ? [`(more: --page-token ${page.nextPageToken})`] : []),
        ]);
        return EXIT.ok;
      }),
    );

  program
    .command('cancel')
    .argument('<run>', 'run id')
    .description('cancel a run and wait until its cleanup is confirmed (job cancelled, endpoint deleted)')
    .option('--wait <seconds>', 'how long to wait for the cleanup (0: only request it)', '300')
    .action(
      act(async (runId, flags) => {
        const c = ctx();
        const outcome = await (
          await c.client()
        ).cancel(runId as string, { waitSeconds: seconds('--wait', (flags as { wait: string }).wait) });
        c.print(outcome, () => [outcome.message]);
        return outcome.cleanup === 'timed-out' ? EXIT.timeout : EXIT.ok;
      }),
    );

  watchOptions(
    program
      .command('resume')
      .argument('<run>', 'run id of a failed, cancelled or terminated run')
      .description(
        'start the run again with its spec; every step adopts what Azure already has (never retrains a completed job)',
      )
      .option('--watch', 'watch it to the end and exit with its outcome'),
  ).action(
    act(async (runId, flags) => {
      const c = ctx();
      const outcome = await (await c.client()).resume(runId as string, { source: 'cli', actor: cliUser(c.env) });
      const f = flags as WatchFlags & { watch?: boolean };
      if (!f.watch) {
        c.print(outcome, () => [`${outcome.runId} resumed (it had ${outcome.previousStatus})`]);
        return EXIT.ok;
      }
      if (!c.io.json) c.io.err(`${outcome.runId} resumed (it had ${outcome.previousStatus})`);
      return watchAndExit(c, outcome.runId, f);
    }),
  );
}
