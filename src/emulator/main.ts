// CLI of the local Azure ML emulator:
//   node dist/emulator/main.js [--port N] [--host H] [--cert F] [--key F] [--azurite-url U]
//     [--state-file F] [--client-secret S] [--job-phase-ms N] [--provision-ms N] [--delete-ms N]
//     [--cancel-ms N] [--retry-after N] [--catalog seed|current] [--log]
// Prints `EMULATOR_READY <url>` once listening; SIGINT/SIGTERM close it and exit 0.
// Without --client-secret the secret comes from AZURE_CLIENT_SECRET (else it is random and unknown).
import { parseArgs } from 'node:util';
import { ENV } from '../config/env';
import type { EmulatorClock } from './clock';
import type { CatalogName, EmulatorOptions } from './options';
import { startEmulator } from './server';

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer (got '${value}')`);
  return Number(value);
}

export function optionsFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv): EmulatorOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'azurite-url': { type: 'string' },
      'state-file': { type: 'string' },
      'client-secret': { type: 'string' },
      'job-phase-ms': { type: 'string' },
      'provision-ms': { type: 'string' },
      'delete-ms': { type: 'string' },
      'cancel-ms': { type: 'string' },
      'retry-after': { type: 'string' },
      catalog: { type: 'string' },
      log: { type: 'boolean' },
    },
    strict: true,
  });
  if ((values.cert === undefined) !== (values.key === undefined)) throw new Error('--cert and --key go together');
  const catalog = values.catalog;
  if (catalog !== undefined && catalog !== 'seed' && catalog !== 'current') throw new Error("--catalog must be 'seed' or 'current'");
  const clock: Partial<EmulatorClock> = {};
  const phase = int('job-phase-ms', values['job-phase-ms']);
  const provision = int('provision-ms', values['provision-ms']);
  const del = int('delete-ms', values['delete-ms']);
  const cancel = int('cancel-ms', values['cancel-ms']);
  if (phase !== undefined) clock.jobPhaseMs = phase;
  if (provision !== undefined) clock.provisionMs = provision;
  if (del !== undefined) clock.deleteMs = del;
  if (cancel !== undefined) clock.cancelMs = cancel;
  const opts: EmulatorOptions = { clock };
  const port = int('port', values.port);
  if (port !== undefined) opts.port = port;
  if (values.host) opts.host = values.host;
  if (values.cert && values.key) opts.tls = { certPath: values.cert, keyPath: values.key };
  if (values['azurite-url']) opts.azuriteBlobUrl = values['azurite-url'];
  if (values['state-file']) opts.stateFile = values['state-file'];
  const secret = values['client-secret'] ?? env[ENV.clientSecret];
  if (secret) opts.clientSecret = secret;
  const retryAfter = int('retry-after', values['retry-after']);
  if (retryAfter !== undefined) opts.retryAfterSeconds = retryAfter;
  if (catalog !== undefined) opts.catalog = catalog satisfies CatalogName;
  if (values.log) opts.logger = true;
  return opts;
}

async function main(): Promise<void> {
  const opts = optionsFromArgs(process.argv.slice(2), process.env);
  const emulator = await startEmulator(opts);
  if (!opts.clientSecret) {
    // Never log a secret: without one given, no client can obtain tokens from this instance.
    process.stderr.write(`emulator: no --client-secret or ${ENV.clientSecret} given; the token endpoint accepts a random secret nobody knows\n`);
  }
  process.stdout.write(`EMULATOR_READY ${emulator.url}\n`);
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`emulator: error while closing: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(0);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
