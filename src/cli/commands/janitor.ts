// The janitor: sweep now, show its schedule and last report, install the schedule, trigger it.
import type { Command } from 'commander';
import type { JanitorReport } from '../../workflows/definitions';
import type { CliContext } from '../context';
import { CliInputError, EXIT } from '../exitCodes';

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
          `${info.scheduleId}  ${info.paused ? 'paused' : 'active'}  every ${info.every.join(', ')}  next ${info.nextRuns[0] ?? '-'}`,
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
    .description('start a sweep on the schedule now')
    .action(
      act(async () => {
        const c = ctx();
        await (await c.client()).janitor.trigger();
        c.print({ triggered: true }, () => ['janitor triggered']);
        return EXIT.ok;
      }),
    );
}
