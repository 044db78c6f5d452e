// What every command gets: the output, the client (connected on first use, from the global flags and
// the environment), and the global flags themselves.
import type { FineTuneClient } from '../client';
import type { CliIO } from './io';

export interface GlobalFlags {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  connectTimeout?: string;
  json?: boolean;
}

export interface CliContext {
  io: CliIO;
  client(): Promise<FineTuneClient>;
  env: NodeJS.ProcessEnv;
  /** Prints a value: JSON with --json, else the given lines. */
  print(value: unknown, lines: () => string[]): void;
}
