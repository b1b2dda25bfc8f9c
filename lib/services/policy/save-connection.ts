import { writeTransaction } from "../../../db/tx";
import type { Actor } from "../../auth/permissions";
import { AppError, invalid } from "../../errors";
import type { ConnectionDoc } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { checkSecret, storeCredential } from "../credentials/store-credential";
import { applyPolicy } from "./apply-policy";
import { grantEnd } from "../grants/grant-time";
import { refuseDeniedEntries } from "./refuse-denied";
import { clone, findBundle, listInput, validateDerived } from "./edit";

export type ConnectionFormInput = {
  bundle: string;
  /** Set when editing; the name of a connection cannot change (its credential is bound to it). */
  existing?: string;
  name?: unknown;
  serviceAccount?: unknown;
  injectType?: unknown;
  injectName?: unknown;
  allowedWebsites?: unknown;
  narrowHost?: unknown;
  narrowPathPrefix?: unknown;
  narrowReadOnly?: unknown;
  /** Optional on create: the credential, sealed in the same transaction. */
  secret?: unknown;
  /** A time-bound connection: "1h", "1d", "7d" or "custom" (with grantUntil); empty = lasting. */
  grantDuration?: unknown;
  grantUntil?: unknown;
  /** The Owner confirmed Allowed websites that the org-wide deny list overrides. */
  acceptDenied?: boolean;
};

/** Same bound as the policy schema, checked first so the form reads our words, not zod's. */
const MAX_SERVICE_ACCOUNT = 256;

/**
 * "Only to host" takes a bare host; `host:port` (as Allowed websites are written) is accepted and
 * the port dropped: which ports the credential may reach is already said by the Allowed websites.
 */
function narrowHostInput(raw: unknown): string | undefined {
  const text = String(raw ?? "").trim();
  if (!text) return undefined;
  const withPort = /^([^:[\]]+|\[[^\]]+\]):(\d{1,5})$/.exec(text);
  return withPort ? withPort[1]!.replace(/^\[(.*)\]$/, "$1") : text;
}

export function connectionFromInput(input: ConnectionFormInput): ConnectionDoc {
  const injectType = String(input.injectType ?? "bearer");
  const injectName = String(input.injectName ?? "").trim();
  const inject =
    injectType === "basic"
      ? { type: "basic" as const, username: injectName }
      : injectType === "header"
        ? { type: "header" as const, name: injectName }
        : { type: "bearer" as const };
  const narrow = {
    host: narrowHostInput(input.narrowHost),
    pathPrefix: String(input.narrowPathPrefix ?? "").trim() || undefined,
    methods:
      input.narrowReadOnly === true || input.narrowReadOnly === "on" || input.narrowReadOnly === "true"
        ? ("read_only" as const)
        : undefined,
  };
  const hasNarrow = narrow.host || narrow.pathPrefix || narrow.methods;
  return {
    name: String(input.existing ?? input.name ?? "").trim(),
    serviceAccount: String(input.serviceAccount ?? "").trim(),
    inject,
    allowedWebsites: listInput(input.allowedWebsites),
    ...(hasNarrow ? { narrow } : {}),
  };
}

/** Creates or updates a connection; on create an optional credential is stored atomically with it. */
export async function saveConnection({
  ctx,
  actor,
  input,
}: {
  ctx: ServiceContext;
  actor: Actor | null;
  input: ConnectionFormInput;
}): Promise<{ name: string; created: boolean }> {
  authorize(actor, "policy.write");
  const connection = connectionFromInput(input);
  if (connection.serviceAccount.length > MAX_SERVICE_ACCOUNT)
    throw invalid("serviceAccount", `is too long: at most ${MAX_SERVICE_ACCOUNT} characters`);
  const creating = !input.existing;
  const secret = creating && input.secret !== undefined && input.secret !== "" ? checkSecret(input.secret) : undefined;
  if (!creating && input.secret)
    throw new AppError("bad_request", "use Replace credential to change a saved credential", { field: "secret" });
  if (creating && input.grantDuration)
    connection.expiresAt = new Date(
      grantEnd({ duration: input.grantDuration, until: input.grantUntil }, ctx.now(), { field: "duration" }),
    ).toISOString();
  await writeTransaction(ctx.db, async () => {
    await applyPolicy({
      ctx,
      actor,
      change: {
        action: creating ? "connection.created" : "connection.updated",
        bundle: input.bundle,
        connection: connection.name,
        detail: { after: connection },
      },
      derive: (current) => {
        const next = clone(current);
        const bundle = findBundle(next, input.bundle);
        const index = bundle.connections.findIndex((c) => c.name === connection.name);
        if (creating && index >= 0)
          throw new AppError("conflict", `bundle ${input.bundle} already has a connection named "${connection.name}"`, { field: "name" });
        if (!creating && index < 0) throw new AppError("not_found", `no connection ${input.bundle}/${connection.name}`);
        if (creating) bundle.connections.push(connection);
        // An edit keeps a time-bound connection's end: extending is its own step.
        else
          bundle.connections[index] = {
            ...connection,
            ...(bundle.connections[index]!.expiresAt ? { expiresAt: bundle.connections[index]!.expiresAt } : {}),
          };
        const valid = validateDerived(next);
        if (!input.acceptDenied && !ctx.draftOnly) refuseDeniedEntries(current, valid, "allowedWebsites");
        return valid;
      },
    });
    if (secret) await storeCredential(ctx, actor, input.bundle, connection.name, secret);
  });
  return { name: connection.name, created: creating };
}
