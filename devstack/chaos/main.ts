// `npm run chaos -- --runs 100 --seed 7` (or `make chaos RUNS=100 SEED=7`): N fine-tune runs on an
// embedded local stack with seeded Azure faults and worker kills. Prints the report, then one JSON line
// with the same figures. Exit code 0 when nothing leaked, no run had two jobs and no run was lost; 1
// otherwise; 2 for a bad option; 3 when the stack or the workers could not be started.
import { Command, InvalidArgumentError, Option } from 'commander';
import { makePlan } from './plan';
import { formatReport } from './report';
import { runChaos } from './runner';

function integer(min: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer >= ${min}`);
    return n;
  };
}

function fraction(raw: string): number {
  const n = Number(raw);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be between 0 and 1');
  return n;
}

interface CliOptions {
  runs: number;
  seed: number;
  concurrency: number;
  workers: number;
  kills?: number;
  failureRate: number;
  heartbeatTimeout: number;
  runTimeout: number;
  jobPhaseMs: number;
  plan: boolean;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('chaos')
    .description(
      'fine-tune runs with seeded Azure faults and worker kills against an embedded local stack; reports leaks, duplicate jobs and lost runs',
    )
    .addOption(new Option('--runs <n>', 'fine-tune runs').argParser(integer(1)).default(20))
    .addOption(
      new Option('--seed <n>', 'seed of the fault and kill schedule (same seed, same schedule)')
        .argParser(integer(0))
        .default(7),
    )
    .addOption(new Option('--concurrency <n>', 'runs in flight at once').argParser(integer(1)).default(4))
    .addOption(new Option('--workers <n>', 'worker processes').argParser(integer(1)).default(2))
    .addOption(
      new Option('--kills <n>', 'worker kills (default: one per eight runs, at least one)').argParser(integer(0)),
    )
    .addOption(
      new Option('--failure-rate <p>', 'chance that a run gets a fault it cannot ride out')
        .argParser(fraction)
        .default(0.25),
    )
    .addOption(
      new Option('--heartbeat-timeout <s>', "the runs' heartbeat timeout: how soon a killed worker's step moves on")
        .argParser(integer(1))
        .default(5),
    )
    .addOption(
      new Option('--run-timeout <s>', 'a run not ended after this long is lost').argParser(integer(10)).default(600),
    )
    .addOption(
      new Option('--job-phase-ms <ms>', 'emulator duration of each of the five job phases')
        .argParser(integer(0))
        .default(600),
    )
    .option('--plan', 'print the fault and kill schedule for the seed and exit (no stack)', false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<CliOptions>();
  if (o.plan) {
    const plan = makePlan({
      runs: o.runs,
      seed: o.seed,
      tag: 'plan',
      ...(o.kills !== undefined ? { kills: o.kills } : {}),
      failureRate: o.failureRate,
    });
    console.log(`seed ${plan.seed}, plan ${plan.digest}`);
    for (const run of plan.runs)
      console.log(
        `run ${run.index}: ${run.faults.map((f) => `${f.kind} on ${f.target} ×${f.rule.count}`).join('; ') || 'no faults'}`,
      );
    for (const k of plan.kills)
      console.log(`kill: during run ${k.run} at ${k.atStep} or later, restart after ${k.restartDelayMs} ms`);
    return 0;
  }
  let report;
  try {
    report = await runChaos({
      runs: o.runs,
      seed: o.seed,
      concurrency: o.concurrency,
      workers: o.workers,
      ...(o.kills !== undefined ? { kills: o.kills } : {}),
      failureRate: o.failureRate,
      heartbeatTimeoutSeconds: o.heartbeatTimeout,
      runTimeoutSeconds: o.runTimeout,
      clock: { jobPhaseMs: o.jobPhaseMs },
    });
  } catch (err) {
    process.stderr.write(`chaos could not run: ${err instanceof Error ? err.message : String(err)}\n`);
    return 3;
  }
  console.log(formatReport(report));
  console.log(JSON.stringify(report));
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(3);
  },
);
