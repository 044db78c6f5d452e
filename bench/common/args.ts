// Command-line options of the benches: `--smoke` and `--name value` pairs, nothing else.

export interface BenchArgs {
  smoke: boolean;
  /** Every `--name value` given (value as a string). */
  values: Map<string, string>;
}

/** Parses argv; `known` lists the options that take a value (anything else is an error). */
export function parseBenchArgs(argv: readonly string[], known: readonly string[]): BenchArgs {
  const args: BenchArgs = { smoke: false, values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--smoke') {
      args.smoke = true;
      continue;
    }
    const name = flag.replace(/^--/, '');
    if (!flag.startsWith('--') || !known.includes(name))
      throw new Error(`unknown option ${flag} (known: --smoke${known.map((k) => ` --${k}`).join('')})`);
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    args.values.set(name, value);
  }
  return args;
}

/** A positive number option, or `fallback`. */
export function numberArg(args: BenchArgs, name: string, fallback: number): number {
  const raw = args.values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${name} must be a number > 0 (got '${raw}')`);
  return n;
}

/** A comma-separated list of positive whole numbers, or `fallback`. */
export function listArg(args: BenchArgs, name: string, fallback: readonly number[]): number[] {
  const raw = args.values.get(name);
  if (raw === undefined) return [...fallback];
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--${name} must be whole numbers >= 1, comma-separated (got '${raw}')`);
  return list;
}

/** A comma-separated list of words from `allowed`, or `fallback`. */
export function wordsArg<T extends string>(
  args: BenchArgs,
  name: string,
  allowed: readonly T[],
  fallback: readonly T[],
): T[] {
  const raw = args.values.get(name);
  if (raw === undefined) return [...fallback];
  const list = raw.split(',').map((s) => s.trim());
  const bad = list.filter((w) => !(allowed as readonly string[]).includes(w));
  if (list.length === 0 || bad.length > 0)
    throw new Error(`--${name} takes ${allowed.join(', ')}, comma-separated (got '${raw}')`);
  return list as T[];
}
