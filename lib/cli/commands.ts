import type { Actor } from "../auth/permissions";
import type { ServiceContext } from "../services/context";
import { createApiKey } from "../services/api-keys/create-api-key";
import { addUser } from "../services/users/add-user";
import { one, UsageError, type ParsedArgs } from "./args";
import type { CliIo } from "./io";

export type CommandEnv = { ctx: ServiceContext; io: CliIo; actor: Actor };

export type Command = {
  usage: string;
  spec: { values: string[]; booleans: string[] };
  validate?: (args: ParsedArgs) => void;
  run: (args: ParsedArgs, env: CommandEnv) => Promise<number>;
};

function noPositionals(args: ParsedArgs): void {
  if (args.positionals.length) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
}

function oneOf(value: string | undefined, allowed: string[], name: string): void {
  if (value !== undefined && !allowed.includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}`);
}

async function readSecretFromStdin(io: CliIo, what: string): Promise<string> {
  if (io.stdinIsTty) io.err(`${what} (then Ctrl-D): `);
  const text = await io.readStdin();
  return text.replace(/\r?\n$/, "");
}

export const COMMANDS: Record<string, Command> = {
  "user add": {
    usage: "gatehouse user add --email E --role owner|auditor   (password from GATEHOUSE_PASSWORD or stdin)",
    spec: { values: ["email", "role"], booleans: [] },
    validate: (a) => {
      noPositionals(a);
      one(a, "email", true);
      oneOf(one(a, "role", true), ["owner", "auditor"], "role");
    },
    run: async (a, { ctx, io, actor }) => {
      const password = io.env.GATEHOUSE_PASSWORD ?? (await readSecretFromStdin(io, "password"));
      if (!password) throw new UsageError("no password: set GATEHOUSE_PASSWORD or pipe it on stdin");
      const user = await addUser({ ctx, actor, input: { email: one(a, "email"), role: one(a, "role"), password } });
      io.err(`added ${user.role} ${user.email}\n`);
      return 0;
    },
  },
  "apikey create": {
    usage: "gatehouse apikey create --name N --role owner|auditor|orchestrator",
    spec: { values: ["name", "role"], booleans: [] },
    validate: (a) => {
      noPositionals(a);
      one(a, "name", true);
      oneOf(one(a, "role", true), ["owner", "auditor", "orchestrator"], "role");
    },
    run: async (a, { ctx, io, actor }) => {
      const key = createApiKey({ ctx, actor, input: { name: one(a, "name"), role: one(a, "role") } });
      io.out(key.key + "\n");
      io.err(`created ${key.role} API key "${key.name}" (${key.prefix}…); it is shown only this once\n`);
      return 0;
    },
  },
};

export const USAGE = `usage: gatehouse <command>

  user add --email E --role owner|auditor       password from GATEHOUSE_PASSWORD or stdin
  apikey create --name N --role owner|auditor|orchestrator
`;
