// `ftflow metrics <run>` (the loss curve: a table, a chart drawn in the terminal, or --json) and
// `ftflow logs <run>` (the tail of the job's user_logs/std_log.txt). Both read Azure when asked, with
// the worker's variables (AZURE_*, FTFLOW_ARM_ENDPOINT), through the client.
import type { Command } from 'commander';
import type { MetricSeries } from '../../control/training';
import type { CliContext } from '../context';
import { CliInputError, EXIT } from '../exitCodes';
import { lineChart, sparkline } from '../chart';
import { table } from '../format';

type Act = (handler: (...args: unknown[]) => Promise<number>) => (...args: unknown[]) => Promise<void>;

interface MetricsFlags {
  metric?: string[];
  limit: string;
  pageToken?: string;
  chart: boolean;
  table: boolean;
}

function positiveInt(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CliInputError(`${flag} must be a whole number from 1 to ${max}`);
  return n;
}

function fmt(v: number): string {
  return Math.abs(v) < 0.001 && v !== 0 ? v.toExponential(3) : Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/** One row per step that any series has a point at; a series without a point there shows "". */
export function seriesTable(series: MetricSeries[]): string[] {
  const steps = [...new Set(series.flatMap((s) => s.points.map((p) => p.step)))].sort((a, b) => a - b);
  const byMetric = series.map((s) => new Map(s.points.map((p) => [p.step, p.value])));
  return table(
    ['STEP', ...series.map((s) => s.metric.toUpperCase())],
    steps.map((step) => [String(step), ...byMetric.map((m) => (m.has(step) ? fmt(m.get(step) ?? 0) : ''))]),
  );
}

export function registerTrainingCommands(program: Command, ctx: () => CliContext, act: Act): void {
  program
    .command('metrics')
    .argument('<run>', 'run id')
    .description("the job's training curves from MLflow (loss, eval_loss, learning_rate, epoch): chart and table")
    .option(
      '--metric <name>',
      'a metric to show (repeatable; default loss, eval_loss, learning_rate, epoch)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--limit <n>', 'points per metric per page (1-1000)', '500')
    .option('--page-token <token>', 'the next page, as the previous page said')
    .option('--no-chart', 'no chart, only the table')
    .option('--no-table', 'no table, only the charts')
    .action(
      act(async (runId, flags) => {
        const c = ctx();
        const f = flags as MetricsFlags;
        const page = await (
          await c.client()
        ).metrics(runId as string, {
          metrics: f.metric,
          limit: positiveInt('--limit', f.limit, 1000),
          pageToken: f.pageToken,
        });
        c.print(page, () => {
          const lines: string[] = [
            `${page.id}  job ${page.jobName}${page.mlflowRunId ? `  run ${page.mlflowRunId}` : ''}`,
          ];
          const width = Math.max(20, Math.min(100, (c.io.columns ?? 80) - 12));
          for (const s of page.data) {
            if (s.points.length === 0) {
              lines.push(`${s.metric}: no points yet`);
              continue;
            }
            const last = s.points[s.points.length - 1];
            lines.push(
              `${s.metric}: ${s.points.length} points, step ${s.points[0].step}..${last.step}, latest ${fmt(last.value)}  ${sparkline(
                s.points.map((p) => p.value),
                30,
              )}`,
            );
          }
          if (f.chart) {
            for (const s of page.data.filter((x) => x.points.length > 1 && x.metric !== 'epoch'))
              lines.push(
                '',
                ...lineChart(
                  s.points.map((p) => ({ x: p.step, y: p.value })),
                  { width, height: 10, title: `${s.metric} by step` },
                ),
              );
          }
          if (f.table && page.data.some((s) => s.points.length > 0)) lines.push('', ...seriesTable(page.data));
          if (page.nextPageToken) lines.push(`(more: --page-token ${page.nextPageToken})`);
          return lines;
        });
        return EXIT.ok;
      }),
    );

  program
    .command('logs')
    .argument('<run>', 'run id')
    .description("the tail of the job's user_logs/std_log.txt")
    .option('--lines <n>', 'how many lines from the end (1-10000)', '100')
    .action(
      act(async (runId, flags) => {
        const c = ctx();
        const lines = positiveInt('--lines', (flags as { lines: string }).lines, 10_000);
        const tail = await (await c.client()).logs(runId as string, { lines });
        c.print(tail, () =>
          tail.lines.length === 0
            ? [`${tail.id}: job ${tail.jobName} has no ${tail.file} yet`]
            : [...(tail.truncated ? [`… (last ${tail.lines.length} lines of ${tail.file})`] : []), ...tail.lines],
        );
        return EXIT.ok;
      }),
    );
}
