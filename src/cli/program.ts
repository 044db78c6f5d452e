// The `ftflow` command line: every front-end action of the typed client, for people (live display,
// tables) and scripts (--json, documented exit codes).
import { Command, CommanderError } from 'commander';
import { FineTuneClient } from '../client';
import { TemporalUnreachableError } from '../config/temporalConnection';
import { ControlError } from '../control/errors';
import { RunSpecError } from '../runSpec/schema';
import type { CliContext, GlobalFlags } from './context';
import { CliInputError, EXIT, EXIT_CODE_HELP, exitCodeFor } from './exitCodes';
import { processIO, type CliIO } from './io';
import { registerRunCommands } from './commands/runs';
import { registerScheduleCommands } from './commands/schedules';
import { registerJanitorCommands } from './commands/janitor';
import { registerAdminCommands } from './commands/admin';
import { registerModelCommands } from './commands/models';
import { registerWebhookCommands } from './commands/webhooks';
import { registerTrainingCommands } from './commands/training';
import { registerResultCommands } from './commands/results';
import { versionInfo, versionLine } from './version';

export interface CliOptions {
  io?: (json: boolean) => CliIO;
  env?: NodeJS.ProcessEnv;
}

function describeError(err: unknown): { message: string; fields: { field: string; message: string }[] } {
  if (err instanceof ControlError || err instanceof RunSpecError)
    return { message: err.issues.length > 0 ? 'invalid input' : err.message, fields: err.issues };
  return { message: err instanceof Error ? err.message : String(err), fields: [] };
}

/** The exit status for an error; a refused run spec (from wherever it was judged) is bad input. */
function exitStatusFor(err: unknown): number {
  return err instanceof RunSpecError ? EXIT.badInput : exitCodeFor(err);
}

/** Runs one command line (argv as process.argv: node, script, args...) and returns the exit status. */
export async function runCli(argv: string[], opts: CliOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const io = (opts.io ?? processIO)(argv.includes('--json'));
  let code: number = EXIT.ok;
  let client: FineTuneClient | undefined;
  let globals: GlobalFlags = {};

  const context: CliContext = {
    io,
    env,
    async client() {
      const seconds = globals.connectTimeout !== undefined ? Number(globals.connectTimeout) : undefined;
      if (seconds !== undefined && !(seconds > 0))
        throw new CliInputError('--connect-timeout must be a positive number of seconds');
      client ??= await FineTuneClient.connect(
        {
          address: globals.address,
          namespace: globals.namespace,
          taskQueue: globals.taskQueue,
          connectTimeoutMs: seconds !== undefined ? seconds * 1000 : undefined,
        },
        env,
      );
      return client;
    },
    print(value, lines) {
      if (io.json) io.out(JSON.stringify(value, null, 2));
      else for (const line of lines()) io.out(line);
    },
  };

  const act =
    (handler: (...args: unknown[]) => Promise<number>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      globals = command.optsWithGlobals<GlobalFlags>();
      code = await handler(...args.slice(0, -1));
    };

  const program = new Command('ftflow')
    .description(
      'Fine-tune models on Azure ML as durable Temporal workflows: start, watch, list, cancel, resume, schedule.',
    )
    .option('--address <host:port>', 'Temporal frontend (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (default $TEMPORAL_NAMESPACE or default)')
    .option('--task-queue <name>', 'task queue of the workers (default $FTFLOW_TASK_QUEUE or finetune-flow)')
    .option('--connect-timeout <seconds>', 'give up reaching Temporal after this long (exit 7)', '10')
    .option('--json', 'machine-readable output on stdout')
    .option('-V, --version', 'print the version and the commit it was built from')
    .addHelpText(
      'after',
      `\nTLS, mTLS and Temporal Cloud API keys: TEMPORAL_TLS, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA, TEMPORAL_API_KEY.\n\n${EXIT_CODE_HELP}`,
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(s),
    });

  // Read only when asked: the commit may take a `git` call (a checkout without a build stamp).
  program.on('option:version', () => {
    const info = versionInfo();
    if (io.json) io.out(JSON.stringify(info, null, 2));
    else io.out(versionLine(info));
    throw new CommanderError(EXIT.ok, 'commander.version', versionLine(info));
  });

  const ctx = () => context;
  registerRunCommands(program, ctx, act);
  registerResultCommands(program, ctx, act);
  registerTrainingCommands(program, ctx, act);
  registerScheduleCommands(program, ctx, act);
  registerJanitorCommands(program, ctx, act);
  registerAdminCommands(program, ctx, act);
  registerModelCommands(program, ctx, act);
  registerWebhookCommands(program, ctx, act);
  // Every subcommand reports usage errors the same way (exit 2), never by exiting the process itself.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride();

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      code = exitCodeFor(err);
    } else {
      code = exitStatusFor(err);
      const { message, fields } = describeError(err);
      if (io.json) io.out(JSON.stringify({ error: { message, fields, exitCode: code } }, null, 2));
      io.err(`ftflow: ${message}`);
      for (const f of fields) io.err(`  - ${f.field}: ${f.message}`);
      if (err instanceof TemporalUnreachableError)
        io.err('  for one command: --address host:port, --namespace <name>; --connect-timeout <seconds> waits longer');
    }
  } finally {
    await client?.close();
  }
  return code;
}
