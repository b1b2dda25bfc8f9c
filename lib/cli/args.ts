// A small strict argument parser: unknown flags and missing values are usage errors (exit 2).
export class UsageError extends Error {}

export type ParsedArgs = { positionals: string[]; flags: Map<string, string[]>; booleans: Set<string> };

export function parseArgs(argv: string[], spec: { values: string[]; booleans: string[] }): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: new Map(), booleans: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (spec.booleans.includes(name)) {
        if (eq > 0) throw new UsageError(`--${name} takes no value`);
        out.booleans.add(name);
        continue;
      }
      if (!spec.values.includes(name)) throw new UsageError(`unknown option --${name}`);
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
      out.flags.set(name, [...(out.flags.get(name) ?? []), value]);
      continue;
    }
    out.positionals.push(arg);
  }
  return out;
}

export function one(args: ParsedArgs, name: string, required: true): string;
export function one(args: ParsedArgs, name: string, required?: false): string | undefined;
export function one(args: ParsedArgs, name: string, required = false): string | undefined {
  const values = args.flags.get(name);
  if (!values || values.length === 0) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (values.length > 1) throw new UsageError(`--${name} given more than once`);
  return values[0];
}
