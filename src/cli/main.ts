#!/usr/bin/env node
// `ftflow`: see program.ts, or `ftflow --help`.
import { runCli } from './program';

runCli(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ftflow: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(8);
  },
);
