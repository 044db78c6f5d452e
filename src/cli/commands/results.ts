// `ftflow result <run>` (a succeeded run's whole record: the same the API's /result and the client's
// result() return) and `ftflow keep-alive <run> --extend 2h | --end` (the endpoint kept serving after the
// smoke test: longer, or deleted now).
import type { Command } from 'commander';
import { durationMinutes, keepAliveChange, type KeepAliveRequest } from '../../control/keepAlive';
import type { CliContext } from '../context';
import { EXIT } from '../exitCodes';
import { resultLines } from '../format';

type Act = (handler: (...args: unknown[]) => Promise<number>) => (...args: unknown[]) => Promise<void>;

const CLI_FIELDS = { extend: '--extend', end: '--end' };

/** The flags as a keep-alive request, checked with the flags' names (the client checks it again). */
export function keepAliveRequestOf(flags: { extend?: string; end?: boolean }): KeepAliveRequest {
  const request: KeepAliveRequest = {
    ...(flags.extend !== undefined ? { extendMinutes: durationMinutes(flags.extend, '--extend') } : {}),
    ...(flags.end ? { end: true } : {}),
  };
  keepAliveChange(request, CLI_FIELDS);
  return request;
}

export function registerResultCommands(program: Command, ctx: () => CliContext, act: Act): void {
  program
    .command('result')
    .argument('<run>', 'run id')
    .description(
      "a succeeded run's record: registered model and version, datasets (URI, sha256, rows), job and studio link, scoring URI, served time, smoke reply, warnings and notes",
    )
    .option('--wait', 'wait for a running run to end (a failed run then exits 1)')
    .action(
      act(async (runId, flags) => {
        const c = ctx();
        const result = await (
          await c.client()
        ).result(runId as string, { wait: (flags as { wait?: boolean }).wait === true });
        c.print(result, () => resultLines(result));
        return EXIT.ok;
      }),
    );

  program
    .command('keep-alive')
    .argument('<run>', 'run id of a run keeping its endpoint alive after the smoke test (deployment.keepAliveMinutes)')
    .description('keep the endpoint serving longer (--extend 2h) or delete it now (--end)')
    .option('--extend <duration>', 'how much longer: "2h", "90m", "1h30m", or minutes')
    .option('--end', 'stop serving: the endpoint is deleted now and the run ends')
    .action(
      act(async (runId, flags) => {
        const c = ctx();
        const request = keepAliveRequestOf(flags as { extend?: string; end?: boolean });
        const outcome = await (await c.client()).keepAlive(runId as string, request);
        c.print(outcome, () => [outcome.message]);
        return EXIT.ok;
      }),
    );
}
