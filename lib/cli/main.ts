// `npx gatehouse <command>`: thin over lib/services. Exit 0 ok, 1 failure, 2 usage.
import { prepareDataDir, StartupError } from "../bootstrap";
import { EnvError, readEnv } from "../env";
import { AppError } from "../errors";
import type { ServiceContext } from "../services/context";
import { parseArgs, UsageError } from "./args";
import { COMMANDS, USAGE } from "./commands";
import type { CliIo } from "./io";

export { USAGE };

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [group, verb, ...rest] = argv;
  if (!group || group === "help" || group === "--help" || group === "-h") {
    (group ? io.out : io.err)(USAGE);
    return group ? 0 : 2;
  }
  const key = COMMANDS[`${group} ${verb ?? ""}`] ? `${group} ${verb}` : COMMANDS[group] ? group : null;
  if (!key) {
    io.err(`gatehouse: unknown command "${[group, verb].filter(Boolean).join(" ")}"\n${USAGE}`);
    return 2;
  }
  const command = COMMANDS[key]!;
  const args = key === group ? [verb, ...rest].filter((a): a is string => a !== undefined) : rest;
  let parsed;
  try {
    parsed = parseArgs(args, command.spec);
    command.validate?.(parsed);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`gatehouse ${key}: ${err.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    throw err;
  }
  if (command.standalone) {
    try {
      return await command.standalone(parsed, io);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      io.err(`gatehouse ${key}: ${err.message}\nusage: ${command.usage}\n`);
      return 2;
    }
  }
  let ctx: ServiceContext;
  try {
    const env = readEnv(io.env);
    const { db, vault } = await prepareDataDir(env, { createKey: true });
    ctx = { db, vault, env, now: Date.now };
  } catch (err) {
    if (err instanceof EnvError || err instanceof StartupError) {
      io.err(`gatehouse: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  try {
    return await command.run(parsed, { ctx, io, actor: { type: "cli", role: "owner" } });
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`gatehouse ${key}: ${err.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    if (err instanceof AppError) {
      io.err(`gatehouse ${key}: ${err.message}\n`);
      return err.code === "invalid_field" || err.code === "bad_request" ? 2 : 1;
    }
    throw err;
  }
}
