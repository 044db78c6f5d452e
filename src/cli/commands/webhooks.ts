// `ftflow webhooks add|list|show|remove|rotate-secret`: an API key's webhook endpoints, through the client
// (the same registry the HTTP API's /v1/webhooks changes). The key is named with --owner (or
// FTFLOW_WEBHOOK_OWNER); a secret is printed once, by add and rotate-secret.
import { Option, type Command } from 'commander';
import type { WebhookEndpoint, WebhookEndpointWithSecret } from '../../control/webhooks';
import { WEBHOOK_EVENT_TYPES } from '../../runSpec/notifications';
import type { CliContext } from '../context';
import { CliInputError, EXIT } from '../exitCodes';
import { table } from '../format';

type Act = (handler: (...args: unknown[]) => Promise<number>) => (...args: unknown[]) => Promise<void>;

export const WEBHOOK_OWNER_ENV = 'FTFLOW_WEBHOOK_OWNER';

interface OwnerFlags {
  owner: string;
}

const ownerOption = () =>
  new Option('--owner <api-key-id>', 'the API key whose endpoints these are (its id in the key file)')
    .env(WEBHOOK_OWNER_ENV)
    .makeOptionMandatory();

/** "12h", "30m", "90s", "2d" or seconds. */
export function parseOverlap(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new CliInputError(`--overlap must be a duration such as 24h, 30m or 0 (got "${text}")`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

function lines(e: WebhookEndpoint): string[] {
  return [
    `${e.id}  ${e.url}`,
    `  events   ${e.events.join(', ')}`,
    ...(e.description ? [`  about    ${e.description}`] : []),
    `  created  ${e.createdAt}; secret made ${e.secretCreatedAt}`,
    ...(e.previousSecretExpiresAt ? [`  previous secret signs too until ${e.previousSecretExpiresAt}`] : []),
  ];
}

function withSecret(e: WebhookEndpointWithSecret): string[] {
  return [...lines(e), `  secret   ${e.secret}  (shown only now: give it to the receiver)`];
}

export function registerWebhookCommands(program: Command, ctx: () => CliContext, act: Act): void {
  const hooks = program
    .command('webhooks')
    .description("an API key's webhook endpoints: signed notifications of its runs (docs/operations.md, Webhooks)");

  hooks
    .command('add')
    .argument('<url>', 'https URL of the receiver')
    .addOption(ownerOption())
    .option(
      '--events <list>',
      `comma-separated, of: ${WEBHOOK_EVENT_TYPES.join(', ')} (default: all but run.step.completed)`,
    )
    .option('--description <text>', 'a note for people')
    .description('register an endpoint and print its secret (shown only this once)')
    .action(
      act(async (url, flags) => {
        const c = ctx();
        const f = flags as OwnerFlags & { events?: string; description?: string };
        const events = f.events
          ?.split(',')
          .map((e) => e.trim())
          .filter((e) => e !== '');
        const created = await (
          await c.client()
        ).webhooks.add(f.owner, {
          url,
          ...(events ? { events } : {}),
          ...(f.description !== undefined ? { description: f.description } : {}),
        });
        c.print(created, () => withSecret(created));
        return EXIT.ok;
      }),
    );

  hooks
    .command('list')
    .addOption(ownerOption())
    .description("the key's endpoints (no secrets)")
    .action(
      act(async (flags) => {
        const c = ctx();
        const all = await (await c.client()).webhooks.list((flags as OwnerFlags).owner);
        c.print({ data: all }, () =>
          table(
            ['ID', 'URL', 'EVENTS', 'CREATED'],
            all.map((e) => [e.id, e.url, e.events.join(','), e.createdAt]),
          ),
        );
        return EXIT.ok;
      }),
    );

  hooks
    .command('show')
    .argument('<id>', 'endpoint id (we_...)')
    .addOption(ownerOption())
    .action(
      act(async (id, flags) => {
        const c = ctx();
        const e = await (await c.client()).webhooks.get((flags as OwnerFlags).owner, id as string);
        c.print(e, () => lines(e));
        return EXIT.ok;
      }),
    );

  hooks
    .command('remove')
    .argument('<id>', 'endpoint id (we_...)')
    .addOption(ownerOption())
    .description('remove an endpoint (deliveries being retried to it stop at their next attempt)')
    .action(
      act(async (id, flags) => {
        const c = ctx();
        const e = await (await c.client()).webhooks.remove((flags as OwnerFlags).owner, id as string);
        c.print({ ...e, removed: true }, () => [`${e.id} removed`]);
        return EXIT.ok;
      }),
    );

  hooks
    .command('rotate-secret')
    .argument('<id>', 'endpoint id (we_...)')
    .addOption(ownerOption())
    .option(
      '--overlap <duration>',
      'how long the previous secret keeps signing beside the new one (0: stop now)',
      '24h',
    )
    .description('make a new secret and print it (shown only this once); both sign during the overlap')
    .action(
      act(async (id, flags) => {
        const c = ctx();
        const f = flags as OwnerFlags & { overlap: string };
        const rotated = await (
          await c.client()
        ).webhooks.rotateSecret(f.owner, id as string, {
          overlapSeconds: parseOverlap(f.overlap),
        });
        c.print(rotated, () => withSecret(rotated));
        return EXIT.ok;
      }),
    );
}
