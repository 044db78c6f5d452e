// CLI of the local Azure ML emulator:
//   node devstack/dist/emulator/main.js [--port N] [--host H] [--cert F] [--key F] [--azurite-url U]
//     [--state-file F] [--client-secret S] [--job-phase-ms N] [--job-phases Phase=N,...]
//     [--provision-ms N] [--delete-ms N] [--cancel-ms N] [--speed X] [--clock-mode real|stepped]
//     [--retry-after N] [--catalog seed|current]
//     [--throttle on|off] [--throttle-reads CAP:REFILL] [--throttle-writes CAP:REFILL] [--throttle-deletes CAP:REFILL]
//     [--vcpu-quota FAMILY=N ...] [--default-vcpu-quota N] [--regional-vcpu-quota N] [--max-endpoints N]
//     [--contract-requests on|off] [--contract-responses strict|record|off] [--log]
//     [--event-duplicate-rate R] [--event-reorder-rate R] [--event-lose-rate R] [--event-seed N] [--event-retry-scale X]
// Prints `EMULATOR_READY <url>` once listening; SIGINT/SIGTERM close it and exit 0.
// Without --client-secret the secret comes from AZURE_CLIENT_SECRET (else it is random and unknown).
import { parseArgs } from 'node:util';
import { ENV } from 'finetune-flow/config';
import { JOB_PHASES, type EmulatorClock, type JobPhase } from './clock';
import type { QuotaConfig } from './quota';
import type { BucketLimit, ThrottleConfig } from './throttle';
import type { CatalogName, EmulatorOptions } from './options';
import { startEmulator } from './server';

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer (got '${value}')`);
  return Number(value);
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new Error(`--${name} must be a number > 0 (got '${value}')`);
  return n;
}

function bucket(name: string, value: string | undefined): BucketLimit | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+):(\d+(\.\d+)?)$/.exec(value);
  if (!m || Number(m[1]) < 1 || !(Number(m[2]) > 0))
    throw new Error(`--${name} must be CAPACITY:REFILL_PER_SECOND, e.g. 250:25 (got '${value}')`);
  return { capacity: Number(m[1]), refillPerSecond: Number(m[2]) };
}

function onOff(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'on' && value !== 'off') throw new Error(`--${name} must be 'on' or 'off'`);
  return value === 'on';
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
      'job-phases': { type: 'string' },
      speed: { type: 'string' },
      'clock-mode': { type: 'string' },
      throttle: { type: 'string' },
      'throttle-reads': { type: 'string' },
      'throttle-writes': { type: 'string' },
      'throttle-deletes': { type: 'string' },
      'vcpu-quota': { type: 'string', multiple: true },
      'default-vcpu-quota': { type: 'string' },
      'regional-vcpu-quota': { type: 'string' },
      'max-endpoints': { type: 'string' },
      'contract-requests': { type: 'string' },
      'contract-responses': { type: 'string' },
      'retry-after': { type: 'string' },
      catalog: { type: 'string' },
      log: { type: 'boolean' },
      'event-duplicate-rate': { type: 'string' },
      'event-reorder-rate': { type: 'string' },
      'event-lose-rate': { type: 'string' },
      'event-seed': { type: 'string' },
      'event-retry-scale': { type: 'string' },
    },
    strict: true,
  });
  if ((values.cert === undefined) !== (values.key === undefined)) throw new Error('--cert and --key go together');
  const catalog = values.catalog;
  if (catalog !== undefined && catalog !== 'seed' && catalog !== 'current')
    throw new Error("--catalog must be 'seed' or 'current'");
  const clock: Partial<EmulatorClock> = {};
  const phase = int('job-phase-ms', values['job-phase-ms']);
  const provision = int('provision-ms', values['provision-ms']);
  const del = int('delete-ms', values['delete-ms']);
  const cancel = int('cancel-ms', values['cancel-ms']);
  if (phase !== undefined) clock.jobPhaseMs = phase;
  if (provision !== undefined) clock.provisionMs = provision;
  if (del !== undefined) clock.deleteMs = del;
  if (cancel !== undefined) clock.cancelMs = cancel;
  const speed = positive('speed', values.speed);
  if (speed !== undefined) clock.speed = speed;
  if (values['job-phases'] !== undefined) {
    const phases: Partial<Record<JobPhase, number>> = {};
    for (const part of values['job-phases'].split(',').filter((p) => p.trim() !== '')) {
      const [phase = '', ms] = part.split('=', 2).map((x) => x.trim());
      if (!(JOB_PHASES as readonly string[]).includes(phase))
        throw new Error(`--job-phases: '${phase}' is not a job phase (${JOB_PHASES.join(', ')})`);
      const n = int('job-phases', ms);
      if (n === undefined) throw new Error(`--job-phases: ${phase} needs =MILLISECONDS`);
      phases[phase as JobPhase] = n;
    }
    clock.jobPhases = phases;
  }
  const opts: EmulatorOptions = { clock };
  const mode = values['clock-mode'];
  if (mode !== undefined) {
    if (mode !== 'real' && mode !== 'stepped') throw new Error("--clock-mode must be 'real' or 'stepped'");
    opts.timeMode = mode;
  }
  const throttleOn = onOff('throttle', values.throttle);
  const throttle: Partial<ThrottleConfig> = {};
  for (const type of ['reads', 'writes', 'deletes'] as const) {
    const limit = bucket(`throttle-${type}`, values[`throttle-${type}`]);
    if (limit) throttle[type] = limit;
  }
  if (throttleOn === false) opts.throttle = false;
  else if (Object.keys(throttle).length > 0) opts.throttle = throttle;
  const quotas: Partial<QuotaConfig> = {};
  for (const entry of values['vcpu-quota'] ?? []) {
    const [family = '', n] = entry.split('=', 2);
    const limit = int('vcpu-quota', n);
    if (family === '' || limit === undefined)
      throw new Error(`--vcpu-quota must be FAMILY=VCPUS, e.g. standardNCSv3Family=24 (got '${entry}')`);
    quotas.familyVcpus = { ...(quotas.familyVcpus ?? {}), [family]: limit };
  }
  const defaultQuota = int('default-vcpu-quota', values['default-vcpu-quota']);
  if (defaultQuota !== undefined) quotas.defaultFamilyVcpus = defaultQuota;
  const regional = int('regional-vcpu-quota', values['regional-vcpu-quota']);
  if (regional !== undefined) quotas.totalRegionalVcpus = regional;
  const maxEndpoints = int('max-endpoints', values['max-endpoints']);
  if (maxEndpoints !== undefined) quotas.maxEndpoints = maxEndpoints;
  if (Object.keys(quotas).length > 0) opts.quotas = quotas;
  const contractRequests = onOff('contract-requests', values['contract-requests']);
  const responses = values['contract-responses'];
  if (responses !== undefined && responses !== 'strict' && responses !== 'record' && responses !== 'off')
    throw new Error("--contract-responses must be 'strict', 'record' or 'off'");
  if (contractRequests !== undefined || responses !== undefined) {
    opts.contract = {
      ...(contractRequests !== undefined ? { requests: contractRequests } : {}),
      ...(responses !== undefined ? { responses } : {}),
    };
  }
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
  const events: NonNullable<EmulatorOptions['events']> = {};
  for (const [flag, key] of [
    ['event-duplicate-rate', 'duplicateRate'],
    ['event-reorder-rate', 'reorderRate'],
    ['event-lose-rate', 'loseRate'],
  ] as const) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const rate = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || rate > 1)
      throw new Error(`--${flag} must be a share between 0 and 1 (got '${raw}')`);
    events[key] = rate;
  }
  const seed = int('event-seed', values['event-seed']);
  if (seed !== undefined) events.seed = seed;
  const retryScale = positive('event-retry-scale', values['event-retry-scale']);
  if (retryScale !== undefined) events.retryScale = retryScale;
  if (Object.keys(events).length > 0) opts.events = events;
  return opts;
}

async function main(): Promise<void> {
  const opts = optionsFromArgs(process.argv.slice(2), process.env);
  const emulator = await startEmulator(opts);
  if (!opts.clientSecret) {
    // Never log a secret: without one given, no client can obtain tokens from this instance.
    process.stderr.write(
      `emulator: no --client-secret or ${ENV.clientSecret} given; the token endpoint accepts a random secret nobody knows\n`,
    );
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
