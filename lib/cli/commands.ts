import type { Actor } from "../auth/permissions";
import type { ServiceContext } from "../services/context";
import { createApiKey } from "../services/api-keys/create-api-key";
import { addUser } from "../services/users/add-user";
import { removeUser } from "../services/users/remove-user";
import { setUserPassword } from "../services/users/set-user-password";
import { setUserRole } from "../services/users/set-user-role";
import { unlockUser } from "../services/users/unlock-user";
import { setPasswordSignIn } from "../services/sso/set-password-sign-in";
import { setTotpRequired } from "../services/totp/set-totp-required";
import crypto from "node:crypto";
import fs from "node:fs";
import { chunked, exportAudit } from "../services/audit/export-audit";
import { createSession } from "../services/sessions/create-session";
import { rotateMasterKey } from "../services/vault/rotate-master-key";
import { masterKeyPath } from "../vault";
import YAML from "yaml";
import { setCredential } from "../services/credentials/set-credential";
import { getPolicy } from "../services/policy/get-policy";
import { parsePolicyText } from "../services/policy/parse-policy-text";
import { previewPolicyImpact, windowDaysInput } from "../services/policy/preview-impact";
import { putPolicy } from "../services/policy/put-policy";
import { formatImpact } from "./impact";
import type { Change } from "../policy";
import { one, UsageError, type ParsedArgs } from "./args";
import type { CliIo } from "./io";
import { STREAM_COMMANDS } from "./stream-commands";
import { DB_COPY_USAGE, runDbCopy, validateDbCopy } from "./db-copy";

export type CommandEnv = { ctx: ServiceContext; io: CliIo; actor: Actor };

export type Command = {
  usage: string;
  spec: { values: string[]; booleans: string[] };
  validate?: (args: ParsedArgs) => void;
  run: (args: ParsedArgs, env: CommandEnv) => Promise<number>;
  /** Runs instead of `run`, without the data directory being prepared (migrated, given a key) first. */
  standalone?: (args: ParsedArgs, io: CliIo) => Promise<number>;
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
  "auth password": {
    usage: "gatehouse auth password --enable|--disable   (break-glass: local password sign-in)",
    spec: { values: [], booleans: ["enable", "disable"] },
    validate: (a) => {
      noPositionals(a);
      if (a.booleans.has("enable") === a.booleans.has("disable")) throw new UsageError("give exactly one of --enable or --disable");
    },
    run: async (a, { ctx, io, actor }) => {
      const enabled = a.booleans.has("enable");
      const { changed } = await setPasswordSignIn({ ctx, actor, input: { enabled } });
      io.err(`password sign-in ${changed ? "turned" : "was already"} ${enabled ? "on" : "off"}\n`);
      return 0;
    },
  },
  "auth totp": {
    usage: "gatehouse auth totp --required|--not-required   (a second factor for Owners who sign in with a password)",
    spec: { values: [], booleans: ["required", "not-required"] },
    validate: (a) => {
      noPositionals(a);
      if (a.booleans.has("required") === a.booleans.has("not-required"))
        throw new UsageError("give exactly one of --required or --not-required");
    },
    run: async (a, { ctx, io, actor }) => {
      const required = a.booleans.has("required");
      const { changed } = await setTotpRequired({ ctx, actor, input: { required } });
      io.err(`a second factor for Owners ${changed ? "is now" : "was already"} ${required ? "required" : "not required"}\n`);
      return 0;
    },
  },
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
  "user unlock": {
    usage: "gatehouse user unlock --email E",
    spec: { values: ["email"], booleans: [] },
    validate: (a) => {
      noPositionals(a);
      one(a, "email", true);
    },
    run: async (a, { ctx, io, actor }) => {
      const r = await unlockUser({ ctx, actor, input: { email: one(a, "email") } });
      io.err(r.wasLocked ? `unlocked ${one(a, "email")}\n` : `${one(a, "email")} was not locked\n`);
      return 0;
    },
  },
  "user remove": {
    usage: "gatehouse user remove --email E",
    spec: { values: ["email"], booleans: [] },
    validate: (a) => {
      noPositionals(a);
      one(a, "email", true);
    },
    run: async (a, { ctx, io, actor }) => {
      await removeUser({ ctx, actor, input: { email: one(a, "email") } });
      io.err(`removed ${one(a, "email")}; their dashboard sessions have ended\n`);
      return 0;
    },
  },
  "user set-role": {
    usage: "gatehouse user set-role --email E --role owner|auditor",
    spec: { values: ["email", "role"], booleans: [] },
    validate: (a) => {
      noPositionals(a);
      one(a, "email", true);
      oneOf(one(a, "role", true), ["owner", "auditor"], "role");
    },
    run: async (a, { ctx, io, actor }) => {
      await setUserRole({ ctx, actor, input: { email: one(a, "email"), role: one(a, "role") } });
      io.err(`${one(a, "email")} is now ${one(a, "role")}; their dashboard sessions have ended\n`);
      return 0;
    },
  },
  "user set-password": {
    usage: "gatehouse user set-password --email E   (password from GATEHOUSE_PASSWORD or stdin)",
    spec: { values: ["email"], booleans: [] },
    validate: (a) => {
      noPositionals(a);
      one(a, "email", true);
    },
    run: async (a, { ctx, io, actor }) => {
      const password = io.env.GATEHOUSE_PASSWORD ?? (await readSecretFromStdin(io, "password"));
      if (!password) throw new UsageError("no password: set GATEHOUSE_PASSWORD or pipe it on stdin");
      await setUserPassword({ ctx, actor, input: { email: one(a, "email"), password } });
      io.err(`set the password of ${one(a, "email")}; their dashboard sessions have ended\n`);
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
      const key = await createApiKey({ ctx, actor, input: { name: one(a, "name"), role: one(a, "role") } });
      io.out(key.key + "\n");
      io.err(`created ${key.role} API key "${key.name}" (${key.prefix}…); it is shown only this once\n`);
      return 0;
    },
  },
};

function formatDiff(diff: Change[]): string {
  if (diff.length === 0) return "no changes\n";
  return (
    diff
      .map(
        (c) =>
          `${c.op === "added" ? "+" : c.op === "removed" ? "-" : "~"} ${c.path || "(document)"}${c.op === "changed" ? `: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}` : ` ${JSON.stringify(c.op === "added" ? c.after : c.before)}`}`,
      )
      .join("\n") + "\n"
  );
}

COMMANDS["policy export"] = {
  usage: "gatehouse policy export [--out FILE] [--format json|yaml]",
  spec: { values: ["out", "format"], booleans: [] },
  validate: (a) => {
    noPositionals(a);
    oneOf(one(a, "format"), ["json", "yaml"], "format");
  },
  run: async (a, { ctx, io, actor }) => {
    const out = one(a, "out");
    const format = one(a, "format") ?? (out && /\.ya?ml$/i.test(out) ? "yaml" : "json");
    const doc = await getPolicy({ ctx, actor });
    const text = format === "yaml" ? YAML.stringify(doc) : JSON.stringify(doc, null, 2) + "\n";
    if (out) {
      fs.writeFileSync(out, text);
      io.err(`wrote the policy to ${out}\n`);
    } else io.out(text);
    return 0;
  },
};

COMMANDS["policy import"] = {
  usage: "gatehouse policy import FILE [--dry-run [--window-days N] [--json]]",
  spec: { values: ["window-days"], booleans: ["dry-run", "json"] },
  validate: (a) => {
    if (a.positionals.length !== 1) throw new UsageError("give exactly one policy file (JSON or YAML)");
    if ((one(a, "window-days") !== undefined || a.booleans.has("json")) && !a.booleans.has("dry-run"))
      throw new UsageError("--window-days and --json go with --dry-run");
    const days = one(a, "window-days");
    if (days !== undefined && !/^\d{1,2}$/.test(days)) throw new UsageError("--window-days takes a number of days (1-90)");
  },
  run: async (a, { ctx, io, actor }) => {
    const file = a.positionals[0]!;
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      io.err(`gatehouse policy import: cannot read ${file} (${(err as NodeJS.ErrnoException).code})\n`);
      return 1;
    }
    let doc: unknown;
    try {
      doc = parsePolicyText(text, /\.json$/i.test(file) ? "application/json" : null);
    } catch (err) {
      io.err(`gatehouse policy import: ${file}: ${err instanceof Error ? err.message : "neither valid JSON nor YAML"}\n`);
      return 2;
    }
    const result = await putPolicy({ ctx, actor, input: doc, dryRun: a.booleans.has("dry-run") });
    if (result.dryRun) {
      // The dry run replays the logged requests of the window against the file: what would change.
      const impact = await previewPolicyImpact({ ctx, actor, draft: result.policy, windowDays: windowDaysInput(one(a, "window-days")) });
      if (a.booleans.has("json")) io.out(JSON.stringify({ dryRun: true, applied: false, diff: result.diff, impact }, null, 2) + "\n");
      else io.out(formatDiff(result.diff) + formatImpact(impact));
      io.err("dry run: nothing was changed\n");
      return 0;
    }
    io.out(formatDiff(result.diff));
    io.err(result.dryRun ? "dry run: nothing was changed\n" : result.applied ? "policy imported\n" : "policy unchanged\n");
    return 0;
  },
};

COMMANDS["credential set"] = {
  usage: "gatehouse credential set BUNDLE/CONNECTION   (the secret on stdin, never as an argument)",
  spec: { values: [], booleans: [] },
  validate: (a) => {
    if (a.positionals.length !== 1 || !/^[^/]+\/[^/]+$/.test(a.positionals[0]!))
      throw new UsageError("give BUNDLE/CONNECTION; the secret is read from stdin");
  },
  run: async (a, { ctx, io, actor }) => {
    const [bundle, connection] = a.positionals[0]!.split("/") as [string, string];
    const secret = await readSecretFromStdin(io, "secret");
    const r = await setCredential({ ctx, actor, input: { bundle, connection, secret } });
    io.err(`${r.replaced ? "replaced" : "set"} the credential of ${bundle}/${connection} (fingerprint ${r.fingerprint})\n`);
    return 0;
  },
};

COMMANDS["vault rotate-key"] = {
  usage: "gatehouse vault rotate-key",
  spec: { values: [], booleans: [] },
  validate: noPositionals,
  run: async (_a, { ctx, io, actor }) => {
    const newKey = crypto.randomBytes(32);
    if (ctx.env.masterKey) {
      // The key lives in the environment: re-seal, then hand the operator the new key to set.
      const r = await rotateMasterKey({ ctx, actor, newKey });
      io.out(newKey.toString("base64") + "\n");
      io.err(
        `re-sealed ${r.credentials} credential(s); set GATEHOUSE_MASTER_KEY to the key above everywhere Gatehouse runs, then restart\n`,
      );
      return 0;
    }
    // The key lives in <data>/master.key: write the next key beside it first, re-seal in one
    // transaction, then move it into place. A crash in between leaves master.key.next to recover with.
    const file = masterKeyPath(ctx.env.dataDir);
    const nextFile = file + ".next";
    fs.writeFileSync(nextFile, newKey.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
    try {
      const r = await rotateMasterKey({ ctx, actor, newKey });
      fs.renameSync(nextFile, file);
      io.err(`re-sealed ${r.credentials} credential(s) under a new master key in ${file}; running processes follow it on their next use\n`);
      return 0;
    } catch (err) {
      fs.rmSync(nextFile, { force: true });
      throw err;
    }
  },
};

COMMANDS["session create"] = {
  usage: "gatehouse session create --workspace W --channel C --member M [--org-member] [--role R]… [--thread T] [--dm]",
  spec: { values: ["workspace", "channel", "member", "role", "thread"], booleans: ["org-member", "dm"] },
  validate: (a) => {
    noPositionals(a);
    one(a, "workspace", true);
    one(a, "channel", true);
    one(a, "member", true);
  },
  run: async (a, { ctx, io, actor }) => {
    const session = await createSession({
      ctx,
      actor,
      input: {
        workspace: one(a, "workspace"),
        channel: one(a, "channel"),
        thread: one(a, "thread") ?? `cli-${Date.now()}`,
        kind: a.booleans.has("dm") ? "dm" : "channel",
        member: { id: one(a, "member"), orgMember: a.booleans.has("org-member"), roles: a.flags.get("role") ?? [] },
      },
    });
    io.out(session.token + "\n");
    io.err(`session ${session.id} granted until ${session.expiresAt}; the sandbox's environment:\n`);
    for (const [k, v] of Object.entries(session.env)) io.err(`${k}=${v}\n`);
    if (session.caCertPem) io.err(`(write the CA certificate from ${session.proxy.caCertUrl} to the path NODE_EXTRA_CA_CERTS names)\n`);
    return 0;
  },
};

const AUDIT_FILTERS = ["q", "kind", "outcome", "host", "workspace", "channel", "member", "actor", "connection", "action", "from", "to"];

COMMANDS["audit export"] = {
  usage: `gatehouse audit export --format jsonl|csv [${AUDIT_FILTERS.map((f) => `--${f} V`).join("] [")}]`,
  spec: { values: ["format", ...AUDIT_FILTERS], booleans: [] },
  validate: (a) => {
    noPositionals(a);
    oneOf(one(a, "format", true), ["jsonl", "csv"], "format");
  },
  run: async (a, { ctx, io, actor }) => {
    const input = Object.fromEntries(["format", ...AUDIT_FILTERS].map((f) => [f, one(a, f)]));
    const out = await exportAudit({ ctx, actor, input });
    for await (const chunk of chunked(out.lines)) io.out(chunk);
    return 0;
  },
};

Object.assign(COMMANDS, STREAM_COMMANDS);

export const USAGE = `usage: gatehouse <command>

  user add --email E --role owner|auditor       password from GATEHOUSE_PASSWORD or stdin
  user unlock --email E                         lift a sign-in lock now
  user set-role --email E --role owner|auditor  ends that user's dashboard sessions
  user set-password --email E                   password from GATEHOUSE_PASSWORD or stdin; ends their sessions
  user remove --email E                         the last Owner stays
  apikey create --name N --role owner|auditor|orchestrator
  policy export [--out F] [--format json|yaml]
  policy import F [--dry-run [--window-days N] [--json]]
  credential set BUNDLE/CONNECTION              secret from stdin
  vault rotate-key                              re-seal everything under a new master key
  session create --workspace W --channel C --member M [--org-member] [--role R]… [--thread T] [--dm]
  audit verify [--archive DIR]                  exit 1 and the first bad event (or archive segment) if the chain is broken
  audit export --format jsonl|csv [--host H] [--outcome O] [--from T] [--to T] …
  audit retention [--days N | --keep-all]       how long events stay live before they are archived
  audit archive [--older-than 90d]              archive old events now (default: the retention)
  sink add --name N --type syslog|webhook|otlp --url U [--format json|ocsf]   webhook secret from stdin
  sink list | sink remove NAME | sink test NAME
  db copy --to postgres://… [--json]            copy this SQLite deployment into an empty PostgreSQL database
`;

COMMANDS["migrate"] = {
  usage: "gatehouse migrate",
  spec: { values: [], booleans: [] },
  validate: noPositionals,
  // Every command migrates the configured database before it runs (lib/bootstrap.ts, under an
  // advisory lock on PostgreSQL): this one only says so.
  run: async (_a, { ctx, io }) => {
    io.err(`the database is at the current schema (${ctx.env.databaseUrl ? "PostgreSQL" : "SQLite"})\n`);
    return 0;
  },
};

COMMANDS["db copy"] = {
  usage: DB_COPY_USAGE,
  spec: { values: ["to"], booleans: ["json"] },
  validate: validateDbCopy,
  standalone: runDbCopy,
  run: (a, { io }) => runDbCopy(a, io),
};
