// The janitor: sweep now, show its schedule and last report, install the schedule, trigger it.
import type { Command } from 'commander';
import type { JanitorReport } from '../../workflows/definitions';
import type { CliContext } from '../context';
import { CliInputError, EXIT } from '../exitCodes';
import {
  SCHEDULE_ACTION_EXIT_HELP,
  exitCodeForReport,
  reportLines as actionLines,
  waitSeconds,
} from './scheduleReport';

type Act = (handler: (...args: unknown[]) => Promise<number>) => (...args: unknown[]) => Promise<void>;

function reportLines(r: JanitorReport): string[] {
  return [
    `janitor ${r.dryRun ? '(dry run) ' : ''}at ${r.checkedAt}: ${r.examined} endpoint(s) examined, ${r.deleted.length} ${r.dryRun ? 'to delete' : 'deleted'}, ${r.kept.length} kept${r.failed?.length ? `, ${r.failed.length} failed` : ''}`,
    ...r.deleted.map(
      (d) => `  ${r.dryRun ? 'would delete' : 'deleted'} ${d.endpointName}  (${d.runId ?? 'no run'}: ${d.reason})`,
    ),
    ...r.kept.map((d) => `  kept    ${d.endpointName}  (${d.runId ?? 'no run'}: ${d.reason})`),
    ...(r.failed ?? []).map((d) => `  FAILED  ${d.endpointName}  (${d.runId ?? 'no run'}: ${d.reason})`),
  ];
}

export function registerJanitorCommands(program: Command, ctx: () => CliContext, act: Act): void {
  const janitor = program
    .command('janitor')
    .description('deletes endpoints whose run has ended (the safety net for terminated runs)');

  janitor
    .command('run', { isDefault: true })
    .description('sweep now and print what was deleted')
    .option('--dry-run', 'only report what would be deleted')
    .option('--max-age-hours <n>', 'also delete endpoints older than this, even of running runs')
    .action(
      act(async (flags) => {
        const c = ctx();
        const f = flags as { dryRun?: boolean; maxAgeHours?: string };
        const maxAge = f.maxAgeHours !== undefined ? Number(f.maxAgeHours) : undefined;
        if (maxAge !== undefined && !(maxAge > 0)) throw new CliInputError('--max-age-hours must be a positive number');
        const report = await (
          await c.client()
        ).janitor.runNow({ dryRun: f.dryRun ?? false, maxEndpointAgeHours: maxAge });
        c.print(report, () => reportLines(report));
        return EXIT.ok;
      }),
    );

  janitor
    .command('schedule')
    .description("show the janitor's schedule and its last report")
    .action(
      act(async () => {
        const c = ctx();
        const info = await (await c.client()).janitor.describeSchedule();
        c.print(info, () => [
          `${info.scheduleId}  ${info.paused ? 'paused' : 'active'}  every ${info.every.join(', ')}  next ${info.nextRuns[0] ?? '-'}${info.note ? `  (${info.note})` : ''}`,
          ...(info.lastReport ? reportLines(info.lastReport) : ['no finished sweep yet']),
        ]);
        return EXIT.ok;
      }),
    );

  janitor
    .command('install')
    .description("create or update the janitor's schedule (the local stack does this itself)")
    .option('--every <interval>', 'how often', '5m')
    .action(
      act(async (flags) => {
        const c = ctx();
        const info = await (await c.client()).janitor.ensureSchedule({ every: (flags as { every: string }).every });
        c.print(info, () => [`${info.scheduleId} every ${info.every.join(', ')}`]);
        return EXIT.ok;
      }),
    );

  janitor
    .command('trigger')
    .description('start a sweep on the schedule now (skipped while one runs) and say whether it started')
    .option('--wait <seconds>', 'how long to wait for the schedule to act', '10')
    .addHelpText('after', `\n${SCHEDULE_ACTION_EXIT_HELP}`)
    .action(
      act(async (flags) => {
        const c = ctx();
        const wait = waitSeconds((flags as { wait: string }).wait);
        const report = await (await c.client()).janitor.trigger(undefined, { waitSeconds: wait });
        c.print(report, () => actionLines(report));
        return exitCodeForReport(report);
      }),
    );

  for (const verb of ['pause', 'unpause'] as const) {
    janitor
      .command(verb)
      .option('--note <text>', 'why')
      .description(
        verb === 'pause'
          ? "pause the janitor's schedule (endpoints of ended runs are not deleted until it is unpaused)"
          : "unpause the janitor's schedule",
      )
      .action(
        act(async (flags) => {
          const c = ctx();
          const client = await c.client();
          const note = (flags as { note?: string }).note;
          const info = verb === 'pause' ? await client.janitor.pause(note) : await client.janitor.unpause(note);
          c.print(info, () => [`${info.scheduleId} ${info.paused ? 'paused' : 'active'}`]);
          return EXIT.ok;
        }),
      );
  }
}
