#!/usr/bin/env node
// `ftflow`: see program.ts, or `ftflow --help`.
import { exitQuietlyOnBrokenPipe, exitWith } from './brokenPipe';
import { runCli } from './program';

exitQuietlyOnBrokenPipe();
runCli(process.argv).then(
  (code) => exitWith(code),
  (err: unknown) => {
    process.stderr.write(`ftflow: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(8);
  },
);
