// Retraining schedules: create, list, describe, pause, unpause, trigger, backfill, delete.
import { Option, type Command } from 'commander';
import type { RetrainingSchedule } from '../../control/schedules';
import { OVERLAP_POLICIES, type OverlapPolicy } from '../../control/schedules';
import type { CliContext } from '../context';
import { CliInputError, EXIT } from '../exitCodes';
import { table } from '../format';
import { loadSpec, type SpecFlags } from '../specInput';
import { specOptions } from './runs';
import { SCHEDULE_ACTION_EXIT_HELP, exitCodeForReport, reportLines, waitSeconds } from './scheduleReport';

type Act = (handler: (...args: unknown[]) => Promise<number>) => (...args: unknown[]) => Promise<void>;

function scheduleLines(s: RetrainingSchedule): string[] {
  return [
    `${s.scheduleId}  ${s.paused ? 'paused' : 'active'}${s.note ? ` (${s.note})` : ''}`,
    `  every        ${[...s.every, ...s.cron].join(', ')}${s.timezone ? ` ${s.timezone}` : ''}`,
    `  trains       ${s.spec ? `${s.spec.model.registry}/${s.spec.model.name} on ${s.spec.dataset.source} (${s.spec.dataset.percent}%)` : '?'}  [${s.contentKey ?? ''}]`,
    `  policies     overlap ${s.overlap}, catch-up ${s.catchupWindowSeconds}s, pause on failure ${s.pauseOnFailure ? 'yes' : 'no'}`,
    `  next         ${s.nextRuns.slice(0, 3).join(', ') || '-'}`,
    `  ticks        ${s.actionsTaken} taken, ${s.skippedOverlap} skipped (overlap), ${s.missedCatchupWindow} missed; running: ${s.runningTicks.join(', ') || 'none'}`,
    ...s.recent.slice(-5).map((r) => `  recent       ${r.takenAt}  ${r.runId}`),
  ];
}

function date(flag: string, value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new CliInputError(`${flag} must be a date/time such as 2026-01-31T00:00:00Z (got "${value}")`);
  return d;
}

export function registerScheduleCommands(program: Command, ctx: () => CliContext, act: Act): void {
  const schedule = program
    .command('schedule')
    .description(
      "this service's retraining schedules (Temporal Schedules; overlapping ticks are skipped by default; the janitor's schedule is `ftflow janitor`)",
    );
  const overlap = () =>
    new Option('--overlap <policy>', 'when a tick comes while the last one runs').choices(
      Object.keys(OVERLAP_POLICIES),
    );

  specOptions(
    schedule.command('create').argument('<id>', 'schedule id').argument('[spec-file]', 'run spec, YAML or JSON'),
  )
    .option('--every <interval>', 'e.g. 7d, 12h, "1 week"; at least $FTFLOW_SCHEDULE_MIN_INTERVAL (default 5m)')
    .option('--cron <expression>', 'e.g. "0 3 * * 1" (Mondays 03:00); ticks at least the same minimum apart')
    .option('--timezone <tz>', 'IANA time zone for --cron')
    .addOption(overlap().default('skip'))
    .option('--catchup-window <duration>', 'how far back missed ticks are caught up', '10m')
    .option('--pause-on-failure', 'pause the schedule when a run fails')
    .option('--paused', 'create it paused')
    .option('--note <text>', 'why it exists or is paused')
    .action(
      act(async (id, file, flags) => {
        const c = ctx();
        const f = flags as SpecFlags & {
          every?: string;
          cron?: string;
          timezone?: string;
          overlap: OverlapPolicy;
          catchupWindow: string;
          pauseOnFailure?: boolean;
          paused?: boolean;
          note?: string;
        };
        const created = await (
          await c.client()
        ).schedules.create({
          scheduleId: id as string,
          spec: loadSpec(file as string | undefined, f),
          every: f.every,
          cron: f.cron,
          timezone: f.timezone,
          overlap: f.overlap,
          catchupWindow: f.catchupWindow,
          pauseOnFailure: f.pauseOnFailure ?? false,
          paused: f.paused ?? false,
          note: f.note,
        });
        c.print(created, () => scheduleLines(created));
        return EXIT.ok;
      }),
    );

  schedule
    .command('list')
    .description('retraining schedules')
    .action(
      act(async () => {
        const c = ctx();
        const all = await (await c.client()).schedules.list();
        c.print({ data: all }, () =>
          table(
            ['ID', 'STATE', 'EVERY', 'MODEL', 'DATASET', 'NEXT'],
            all.map((s) => [
              s.scheduleId,
              s.paused ? 'paused' : 'active',
              [...s.every, ...s.cron].join(','),
              s.spec ? `${s.spec.model.registry}/${s.spec.model.name}` : '',
              s.spec?.dataset.source ?? '',
              s.nextRuns[0] ?? '',
            ]),
          ),
        );
        return EXIT.ok;
      }),
    );

  schedule
    .command('describe')
    .argument('<id>', 'schedule id')
    .action(
      act(async (id) => {
        const c = ctx();
        const s = await (await c.client()).schedules.describe(id as string);
        c.print(s, () => scheduleLines(s));
        return EXIT.ok;
      }),
    );

  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(verb)
      .argument('<id>', 'schedule id')
      .option('--note <text>', 'why')
      .action(
        act(async (id, flags) => {
          const c = ctx();
          const client = await c.client();
          const note = (flags as { note?: string }).note;
          const s =
            verb === 'pause'
              ? await client.schedules.pause(id as string, note)
              : await client.schedules.unpause(id as string, note);
          c.print(s, () => [`${s.scheduleId} ${s.paused ? 'paused' : 'active'}`]);
          return EXIT.ok;
        }),
      );
  }

  schedule
    .command('trigger')
    .argument('<id>', 'schedule id')
    .option('--wait <seconds>', 'how long to wait for the schedule to act on the tick', '10')
    .description("run a tick now, under the schedule's overlap policy, and say whether it started")
    .addHelpText('after', `\n${SCHEDULE_ACTION_EXIT_HELP}`)
    .action(
      act(async (id, flags) => {
        const c = ctx();
        const wait = waitSeconds((flags as { wait: string }).wait);
        const report = await (await c.client()).schedules.trigger(id as string, { waitSeconds: wait });
        c.print(report, () => reportLines(report));
        return exitCodeForReport(report);
      }),
    );

  schedule
    .command('backfill')
    .argument('<id>', 'schedule id')
    .requiredOption('--start <time>', 'from (ISO 8601)')
    .requiredOption('--end <time>', 'to (ISO 8601)')
    .addOption(overlap())
    .option('--wait <seconds>', 'how long to wait for the schedule to act on the ticks', '10')
    .description('run the ticks from --start to --end (both included) and say how many started')
    .addHelpText('after', `\n${SCHEDULE_ACTION_EXIT_HELP}`)
    .action(
      act(async (id, flags) => {
        const c = ctx();
        const f = flags as { start: string; end: string; overlap?: OverlapPolicy; wait: string };
        const wait = waitSeconds(f.wait);
        const report = await (
          await c.client()
        ).schedules.backfill(id as string, {
          start: date('--start', f.start),
          end: date('--end', f.end),
          overlap: f.overlap,
          waitSeconds: wait,
        });
        c.print(report, () => reportLines(report));
        return exitCodeForReport(report);
      }),
    );

  schedule
    .command('delete')
    .argument('<id>', 'schedule id')
    .description('delete the schedule (a running tick goes on; cancel its run to stop it)')
    .action(
      act(async (id) => {
        const c = ctx();
        await (await c.client()).schedules.delete(id as string);
        c.print({ scheduleId: id, deleted: true }, () => [`${String(id)} deleted`]);
        return EXIT.ok;
      }),
    );
}
