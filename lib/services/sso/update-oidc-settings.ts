import { z } from "zod";
import { readOidcSettings, writeOidcSettings } from "../../../db/queries/sso";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { followKeyRotation } from "../../bootstrap";
import { checkIssuerUrl, OIDC_DEFAULT_ROLE_CLAIM, splitGroups } from "../../env";
import { AppError } from "../../errors";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";
import { checkSecret } from "../credentials/store-credential";
import { OIDC_SECRET_AAD } from "./oidc-config";

const groups = z
  .string()
  .max(4000, "is too long")
  .transform((s) => splitGroups(s))
  .refine((g) => g.length <= 100 && g.every((x) => x.length <= 256), "at most 100 groups of 256 characters");

const Input = z.object({
  name: z.string().trim().min(1, "is required").max(60, "is at most 60 characters"),
  issuer: z
    .string()
    .trim()
    .max(500, "is too long")
    .transform((s) => s.replace(/\/$/, ""))
    .superRefine((s, c) => {
      const bad = checkIssuerUrl(s);
      if (bad) c.addIssue({ code: "custom", message: bad });
    }),
  clientId: z.string().trim().min(1, "is required").max(500, "is too long"),
  /** Empty keeps the stored secret: it is write-only and never sent back to the form. */
  clientSecret: z.string().max(8192, "is too long").default(""),
  roleClaim: z
    .string()
    .trim()
    .max(100, "is too long")
    .regex(/^[A-Za-z0-9_:./-]*$/, "letters, digits and _:./- only")
    .default(""),
  ownerGroups: groups,
  auditorGroups: groups,
});

export type OidcSettingsView = {
  source: "env" | "settings" | "none";
  name: string;
  issuer: string;
  clientId: string;
  clientSecretSet: boolean;
  roleClaim: string;
  ownerGroups: string[];
  auditorGroups: string[];
};

/** For the Settings form: everything but the secret, which is only ever reported as set or not. */
export function describeOidcSettings({ ctx, actor }: { ctx: ServiceContext; actor: Actor | null }): OidcSettingsView {
  authorize(actor, "settings.write");
  const e = ctx.env.oidc;
  if (e)
    return {
      source: "env",
      name: e.name,
      issuer: e.issuer,
      clientId: e.clientId,
      clientSecretSet: true,
      roleClaim: e.roleClaim,
      ownerGroups: e.ownerGroups,
      auditorGroups: e.auditorGroups,
    };
  const s = readOidcSettings(ctx.db);
  return {
    source: s?.issuer ? "settings" : "none",
    name: s?.name ?? "",
    issuer: s?.issuer ?? "",
    clientId: s?.clientId ?? "",
    clientSecretSet: !!s?.clientSecretSealed,
    roleClaim: s?.roleClaim || OIDC_DEFAULT_ROLE_CLAIM,
    ownerGroups: s?.ownerGroups ?? [],
    auditorGroups: s?.auditorGroups ?? [],
  };
}

/** Owner: sets the IdP in Settings. The client secret is sealed by the vault like a credential. */
export function updateOidcSettings({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: unknown }): void {
  authorize(actor, "settings.write");
  if (ctx.env.oidc)
    throw new AppError("conflict", "Sign-in through the IdP is set by GATEHOUSE_OIDC_* in the environment, which wins over Settings.");
  const parsed = Input.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const p = parsed.data;
  if (p.ownerGroups.length + p.auditorGroups.length === 0)
    throw new AppError("invalid_field", "ownerGroups: at least one group must map to a role", { field: "ownerGroups" });
  const secret = p.clientSecret ? checkSecret(p.clientSecret) : null;
  if (!followKeyRotation(ctx.db, ctx.vault, ctx.env))
    throw new AppError("conflict", "the master key changed and this process cannot load the new one; restart Gatehouse");
  writeTransaction(ctx.db, () => {
    const before = readOidcSettings(ctx.db);
    const sealed = secret ? ctx.vault.seal(secret, OIDC_SECRET_AAD) : (before?.clientSecretSealed ?? null);
    if (!sealed) throw new AppError("invalid_field", "clientSecret: is required", { field: "clientSecret" });
    const next = {
      name: p.name,
      issuer: p.issuer,
      clientId: p.clientId,
      clientSecretSealed: sealed,
      roleClaim: p.roleClaim || OIDC_DEFAULT_ROLE_CLAIM,
      ownerGroups: p.ownerGroups,
      auditorGroups: p.auditorGroups,
    };
    writeOidcSettings(ctx.db, next);
    const view = (s: typeof before) =>
      s
        ? {
            name: s.name,
            issuer: s.issuer,
            clientId: s.clientId,
            clientSecret: s.clientSecretSealed ? "[write-only]" : null,
            roleClaim: s.roleClaim,
            ownerGroups: s.ownerGroups,
            auditorGroups: s.auditorGroups,
          }
        : null;
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "admin",
          action: "oidc_settings.changed",
          actor: actorLabel(actor),
          detail: { before: view(before), after: { ...view(next), secretReplaced: !!secret } },
        },
      ],
      ctx.now(),
    );
  });
}
