// Operator commands: the local stack (delegated to devstack/stack's own CLI) and the HTTP API's keys.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { API_SCOPES, DEFAULT_API_SCOPES, createApiKey, listApiKeys, revokeApiKey, type ApiScope } from '../../api/keys';
import { ENV } from '../../config/env';
import type { CliContext } from '../context';
import { CliInputError, EXIT } from '../exitCodes';
import { table } from '../format';

type Act = (handler: (...args: unknown[]) => Promise<number>) => (...args: unknown[]) => Promise<void>;

/**
 * The local stack is the repository's other wing (devstack/, built to devstack/dist/): a clone has it beside
 * dist/, the npm package and the image do not. Found by path at run time, never imported.
 */
const STACK_MAIN = path.resolve(__dirname, '..', '..', '..', 'devstack', 'dist', 'stack', 'main.js');

function runStack(args: string[]): Promise<number> {
  if (!fs.existsSync(STACK_MAIN)) {
    process.stderr.write(
      `ftflow stack: the local stack is not here (${STACK_MAIN} is missing). It is part of the repository ` +
        '(devstack/), not of the package or the image: run `make build` in a clone of finetune-flow, or use ' +
        '`make stack` there.\n',
    );
    return Promise.resolve(EXIT.badInput);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STACK_MAIN, ...args], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export function registerAdminCommands(program: Command, ctx: () => CliContext, act: Act): void {
  const stack = program
    .command('stack')
    .description(
      'the local stack: Temporal dev server, Azurite, the Azure ML emulator, a worker (node devstack/dist/stack/main.js)',
    );
  for (const verb of ['up', 'down', 'status', 'env'] as const) {
    stack
      .command(verb)
      .description(
        verb === 'up'
          ? 'start it (--keep to return once ready)'
          : verb === 'down'
            ? 'stop it'
            : verb === 'status'
              ? 'show it'
              : "print 'export' lines for it",
      )
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]', 'passed on, e.g. --keep, --headless, --data-dir DIR')
      .action(act(async (args) => runStack([verb, ...((args as string[] | undefined) ?? [])])));
  }

  const keys = program.command('api-key').description("the HTTP API's keys, stored hashed in a JSON file");
  const fileOption = () => new Option('--file <path>', 'the key file').env(ENV.apiKeysFile).makeOptionMandatory();
  keys
    .command('create')
    .argument('<id>', 'a name for the key, e.g. ci-pipeline')
    .addOption(fileOption())
    .option(
      '--scopes <list>',
      `comma-separated: ${API_SCOPES.join(', ')} (janitor:admin only when named)`,
      DEFAULT_API_SCOPES.join(','),
    )
    .option('--rate-limit <per-minute>', 'requests per minute for this key (default: the server setting)')
    .description('create a key and print it (shown only this once)')
    .action(
      act(async (id, flags) => {
        const c = ctx();
        const f = flags as { file: string; scopes: string; rateLimit?: string };
        const scopes = f.scopes
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
        if (unknown.length > 0)
          throw new CliInputError(`unknown scope(s) ${unknown.join(', ')}; known: ${API_SCOPES.join(', ')}`);
        const rate = f.rateLimit !== undefined ? Number(f.rateLimit) : undefined;
        if (rate !== undefined && !(Number.isInteger(rate) && rate > 0))
          throw new CliInputError('--rate-limit must be a positive whole number');
        const created = createApiKey(f.file, id as string, scopes as ApiScope[], rate);
        c.print({ id: created.stored.id, key: created.key, scopes: created.stored.scopes }, () => [created.key]);
        if (!c.io.json)
          c.io.err(
            `key ${created.stored.id} (${created.stored.scopes.join(', ')}) added to ${f.file}; it is not stored anywhere else`,
          );
        return EXIT.ok;
      }),
    );
  keys
    .command('revoke')
    .argument('<id>', 'key id')
    .addOption(fileOption())
    .description('revoke a key (requests with it get 403 from then on)')
    .action(
      act(async (id, flags) => {
        const c = ctx();
        const key = revokeApiKey((flags as { file: string }).file, id as string);
        c.print({ id: key.id, revoked: true }, () => [`${key.id} revoked`]);
        return EXIT.ok;
      }),
    );
  keys
    .command('list')
    .addOption(fileOption())
    .action(
      act(async (flags) => {
        const c = ctx();
        const all = listApiKeys((flags as { file: string }).file);
        c.print({ data: all }, () =>
          table(
            ['ID', 'SCOPES', 'STATE', 'CREATED'],
            all.map((k) => [k.id, k.scopes.join(','), k.revoked ? 'revoked' : 'active', k.createdAt ?? '']),
          ),
        );
        return EXIT.ok;
      }),
    );
}
