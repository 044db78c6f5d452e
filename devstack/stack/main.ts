// Command line for the embedded local stack.
//   node devstack/dist/stack/main.js up [--keep] [--headless] [--catalog seed|current] [--components temporal,azurite,emulator,worker] [--data-dir DIR]
//   node devstack/dist/stack/main.js down [--data-dir DIR]
//   node devstack/dist/stack/main.js status [--data-dir DIR]
//   node devstack/dist/stack/main.js env [--data-dir DIR]      (prints `export NAME=value` lines for a running stack)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENV } from 'finetune-flow/config';
import { exitQuietlyOnBrokenPipe, exitWith } from 'finetune-flow/process';
import { DEFAULT_DATA_DIR } from './paths';
import { PORT_ENV } from './ports';
import {
  ALL_COMPONENTS,
  liveRecordedProcesses,
  readStackRecord,
  stackEnv,
  stackFileFor,
  startStack,
  stopRecordedStack,
  type ComponentName,
} from './stack';

const USAGE = `usage: node devstack/dist/stack/main.js <command> [options]
commands:
  up       start the stack and stay in the foreground until Ctrl-C
  down     stop the stack recorded in <data-dir>/stack.json (exit 1 when nothing is recorded there)
  status   show the recorded stack and which of its processes run (exit 1 when nothing is recorded or one is gone)
  env      print 'export NAME=value' lines for a worker/client/demo (eval "$(node devstack/dist/stack/main.js env)")
options:
  --data-dir DIR        state and logs (default .data)
  --components LIST     comma-separated subset of ${ALL_COMPONENTS.join(',')} (up; default all)
  --headless            no Temporal Web UI (up)
  --catalog NAME        the emulator's registry: seed (the notebook's Phi-3 days, default) or current (today's: Phi-4) (up)
  --keep                return once everything is ready and leave the stack running; stop it with 'down' (up)
ports: ${Object.values(PORT_ENV).join(', ')} (0 = any free port)`;

interface Args {
  command: string;
  dataDir: string;
  components: ComponentName[];
  headless: boolean;
  keep: boolean;
  catalog?: 'seed' | 'current';
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    command: '',
    dataDir: DEFAULT_DATA_DIR,
    components: [...ALL_COMPONENTS],
    headless: false,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--keep') args.keep = true;
    else if (a === '--headless') args.headless = true;
    else if (a === '--data-dir') args.dataDir = path.resolve(value());
    else if (a === '--catalog') {
      const v = value();
      if (v !== 'seed' && v !== 'current') throw new Error(`--catalog must be seed or current, got ${v}`);
      args.catalog = v;
    } else if (a === '--components') {
      const list = value()
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const bad = list.filter((c) => !(ALL_COMPONENTS as readonly string[]).includes(c));
      if (bad.length > 0)
        throw new Error(`unknown component(s) ${bad.join(', ')}; known: ${ALL_COMPONENTS.join(', ')}`);
      args.components = list as ComponentName[];
    } else if (a === '-h' || a === '--help') args.command = 'help';
    else if (a !== undefined && !a.startsWith('-') && args.command === '') args.command = a;
    else throw new Error(`unknown argument ${String(a)}`);
  }
  return args;
}

function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/** This CLI's command line for `verb` on the same stack: every hint printed for the user goes through here. */
function stackCommand(verb: string, dataDir: string): string {
  return `node devstack/dist/stack/main.js ${verb}${dataDir === DEFAULT_DATA_DIR ? '' : ` --data-dir ${shellQuote(dataDir)}`}`;
}

/** Where to look when nothing is recorded where this looked. */
function elsewhereHint(verb: string): string {
  return (
    `[stack] a stack started with --data-dir DIR is recorded in DIR/stack.json (default DIR: ${DEFAULT_DATA_DIR}); ` +
    `look there with: ${stackCommand(verb, DEFAULT_DATA_DIR)} --data-dir DIR\n`
  );
}

async function up(args: Args): Promise<number> {
  const file = stackFileFor(args.dataDir);
  const existing = readStackRecord(file);
  if (existing && liveRecordedProcesses(existing).length > 0) {
    const live = liveRecordedProcesses(existing)
      .map((p) => `${p.name} (pid ${p.pid})`)
      .join(', ');
    process.stderr.write(
      `[stack] a stack recorded in ${file} is still running: ${live}.\n` +
        `[stack] stop it first: ${stackCommand('down', args.dataDir)}\n`,
    );
    return 1;
  }
  const stack = await startStack({
    dataDir: args.dataDir,
    components: args.components,
    temporal: { headless: args.headless },
    ...(args.catalog ? { emulator: { catalog: args.catalog } } : {}),
  });
  const u = stack.urls;
  const lines = [
    `up in ${(stack.startupMs / 1000).toFixed(1)} s; recorded in ${path.relative(process.cwd(), file) || file}`,
    u.temporalAddress ? `  Temporal   ${u.temporalAddress}` : '',
    u.temporalUi ? `  Web UI     ${u.temporalUi}` : '',
    u.azuriteBlob ? `  Blob       ${u.azuriteBlob}` : '',
    u.emulator ? `  Azure ML   ${u.emulator}${args.catalog ? ` (${args.catalog} catalog)` : ''}` : '',
    `  logs       ${path.relative(process.cwd(), path.join(stack.dataDir, 'logs')) || '.'}/<component>.log`,
    `  env        eval "$(${stackCommand('env', args.dataDir)})"`,
  ].filter((l) => l !== '');
  for (const l of lines) process.stderr.write(`[stack] ${l}\n`);
  if (args.keep) {
    stack.detach();
    process.stderr.write(`[stack] left running (--keep); stop it with: ${stackCommand('down', args.dataDir)}\n`);
    return 0;
  }
  process.stderr.write('[stack] running; Ctrl-C stops everything\n');
  const died = await stack.unexpectedExit;
  process.stderr.write(`[stack] stopping the rest because ${died.name} died\n`);
  await stack.stop();
  return 1;
}

async function down(args: Args): Promise<number> {
  const file = stackFileFor(args.dataDir);
  const result = await stopRecordedStack(file);
  if (!result.found) {
    // Not success: a stack started elsewhere (another --data-dir) may still be running.
    process.stderr.write(`[stack] no stack recorded in ${file}; nothing to stop.\n${elsewhereHint('down')}`);
    return 1;
  }
  if (result.stopped.length === 0) process.stderr.write('[stack] the recorded stack was not running any more\n');
  return 0;
}

function status(args: Args): number {
  const file = stackFileFor(args.dataDir);
  const rec = readStackRecord(file);
  if (!rec) {
    process.stdout.write(`no stack recorded in ${file}\n`);
    process.stderr.write(elsewhereHint('status'));
    return 1;
  }
  const live = new Set(liveRecordedProcesses(rec).map((p) => p.pid));
  process.stdout.write(
    `stack started ${rec.startedAt} (${rec.state}); supervisor ${rec.supervisorPid ?? 'detached'}\n`,
  );
  for (const p of rec.processes)
    process.stdout.write(
      `  ${p.name.padEnd(9)} pid ${String(p.pid).padEnd(8)} ${live.has(p.pid) ? 'running' : 'gone'}  ${p.logFile}\n`,
    );
  for (const [k, v] of Object.entries(rec.urls)) process.stdout.write(`  ${k.padEnd(16)} ${String(v)}\n`);
  return live.size === rec.processes.length ? 0 : 1;
}

function env(args: Args): number {
  const file = stackFileFor(args.dataDir);
  const rec = readStackRecord(file);
  if (!rec) {
    process.stderr.write(
      `no stack recorded in ${file}; start one with: ${stackCommand('up', args.dataDir)}\n${elsewhereHint('env')}`,
    );
    return 1;
  }
  let clientSecret: string | undefined;
  try {
    clientSecret = fs.readFileSync(path.join(rec.dataDir, 'emulator', 'client-secret'), 'utf8').trim() || undefined;
  } catch {
    clientSecret = undefined;
  }
  let webhookSecretKey: string | undefined;
  try {
    webhookSecretKey = fs.readFileSync(path.join(rec.dataDir, 'webhook-secret-key'), 'utf8').trim() || undefined;
  } catch {
    webhookSecretKey = undefined;
  }
  const vars = stackEnv({
    ...rec,
    ...(rec.urls.emulator !== undefined && clientSecret !== undefined ? { clientSecret } : {}),
    ...(webhookSecretKey !== undefined ? { webhookSecretKey } : {}),
  });
  for (const [k, v] of Object.entries(vars)) process.stdout.write(`export ${k}=${shellQuote(v)}\n`);
  if (vars[ENV.clientSecret] === undefined && rec.urls.emulator !== undefined) {
    process.stderr.write('warning: no emulator client secret found\n');
  }
  return 0;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  switch (args.command) {
    case 'up':
      return up(args);
    case 'down':
      return down(args);
    case 'status':
      return status(args);
    case 'env':
      return env(args);
    case 'help':
      process.stdout.write(USAGE + '\n');
      return 0;
    default:
      process.stderr.write(USAGE + '\n');
      return 2;
  }
}

exitQuietlyOnBrokenPipe();
main().then(
  (code) => exitWith(code),
  (err: unknown) => {
    process.stderr.write(`[stack] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
