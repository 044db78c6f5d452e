// Where the CLI writes: stdout for results, stderr for messages; injectable for tests.
export interface CliIO {
  /** A line of output (stdout). */
  out(line: string): void;
  /** A line of diagnostics (stderr). */
  err(line: string): void;
  /** Raw text to stdout (the live display). */
  write(text: string): void;
  isTTY: boolean;
  /** --json: machine-readable output only. */
  json: boolean;
}

export function processIO(json: boolean): CliIO {
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    write: (text) => process.stdout.write(text),
    isTTY: Boolean(process.stdout.isTTY),
    json,
  };
}
