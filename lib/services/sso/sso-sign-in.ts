import crypto from "node:crypto";
import { findUserByEmail, deleteUser, recordSignInSuccess, updateUser } from "../../../db/queries/users";
import { findUserByOidcIdentity, insertOidcUser } from "../../../db/queries/sso";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents, capText, type AuditEventInput } from "../../audit";
import type { ServiceContext } from "../context";
import { mapRole, type RoleMapping } from "./map-role";

export type SsoRefusal = "no_role" | "email_taken" | "no_subject";

export type SsoSignInResult =
  { ok: true; user: { id: string; email: string; role: "owner" | "auditor"; sessionVersion: number } } | { ok: false; reason: SsoRefusal };

/** What the refusal page says: written here, never taken from the request. */
export const SSO_REFUSAL_MESSAGES: Record<SsoRefusal, string> = {
  no_role:
    "Your identity provider account is not in a group that Gatehouse maps to a role (Owner or Auditor). Ask your administrator to add you to one, then sign in again.",
  email_taken:
    "Your identity provider's email address belongs to a Gatehouse account with a local password. Ask an Owner to remove or rename that account first.",
  no_subject: "Your identity provider did not say who you are (no subject). Ask your administrator to check Gatehouse's SSO settings.",
};

const MAX_SUBJECT = 255;
const MAX_EMAIL = 254;

/**
 * A person the IdP vouched for (next-auth has already checked the code exchange, PKCE, state,
 * nonce and the ID token's signature, issuer and audience). One user row per (issuer, subject),
 * created at first sign-in and re-mapped at every one: a new role bumps the session version, and
 * someone the mapping no longer covers is refused and their row removed, which ends their
 * sessions at once. Each outcome is one `access` event naming the issuer and subject.
 */
export function ssoSignIn({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { mapping: RoleMapping; issuer: string; claims: Record<string, unknown> };
}): SsoSignInResult {
  const { issuer, claims, mapping } = input;
  const subject = typeof claims.sub === "string" && claims.sub.length > 0 && claims.sub.length <= MAX_SUBJECT ? claims.sub : null;
  const rawEmail = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : "";
  const now = ctx.now();
  const detail = { method: "oidc", issuer: capText(issuer, 200), subject: subject ? capText(subject, 200) : null };
  if (!subject) {
    writeTransaction(ctx.db, () =>
      appendAuditEvents(
        ctx.db,
        [
          {
            kind: "access",
            action: "signin.failed",
            actor: null,
            outcome: "refused",
            reason: "the IdP's ID token has no usable subject",
            detail,
          },
        ],
        now,
      ),
    );
    return { ok: false, reason: "no_subject" };
  }
  const host = (() => {
    try {
      return new URL(issuer).host;
    } catch {
      return "sso";
    }
  })();
  // Without an email claim the account is named for its subject: still unique per identity.
  const email = rawEmail && rawEmail.length <= MAX_EMAIL && rawEmail.includes("@") ? rawEmail : capText(`${subject}@${host}`, MAX_EMAIL);
  const role = mapRole(claims, mapping);

  return writeTransaction(ctx.db, (): SsoSignInResult => {
    const existing = findUserByOidcIdentity(ctx.db, issuer, subject);
    if (!role) {
      const events: AuditEventInput[] = [
        {
          kind: "access",
          action: "signin.failed",
          actor: existing?.email ?? email,
          outcome: "refused",
          reason: `no group in claim "${capText(mapping.roleClaim, 64)}" maps to a role`,
          detail,
        },
      ];
      if (existing) {
        deleteUser(ctx.db, existing.id);
        events.push({
          kind: "access",
          action: "sso.user_removed",
          actor: existing.email,
          outcome: "refused",
          reason: `removed: was ${existing.role}, now in no mapped group`,
          detail,
        });
      }
      appendAuditEvents(ctx.db, events, now);
      return { ok: false, reason: "no_role" };
    }
    let user = existing;
    if (!user) {
      const other = findUserByEmail(ctx.db, email);
      if (other) {
        appendAuditEvents(
          ctx.db,
          [
            {
              kind: "access",
              action: "signin.failed",
              actor: email,
              outcome: "refused",
              reason: "the email belongs to another Gatehouse account",
              detail,
            },
          ],
          now,
        );
        return { ok: false, reason: "email_taken" };
      }
      const id = crypto.randomUUID();
      insertOidcUser(ctx.db, { id, email, role, issuer, subject, createdAt: now });
      appendAuditEvents(
        ctx.db,
        [
          {
            kind: "access",
            action: "sso.user_created",
            actor: email,
            outcome: "granted",
            reason: `first sign-in as ${role}`,
            detail: { ...detail, role },
          },
        ],
        now,
      );
      user = findUserByOidcIdentity(ctx.db, issuer, subject)!;
    } else if (user.role !== role) {
      updateUser(ctx.db, user.id, { role });
      appendAuditEvents(
        ctx.db,
        [
          {
            kind: "access",
            action: "sso.role_changed",
            actor: user.email,
            outcome: "granted",
            reason: `${user.role} → ${role} from the IdP's groups`,
            detail: { ...detail, before: { role: user.role }, after: { role } },
          },
        ],
        now,
      );
      user = findUserByOidcIdentity(ctx.db, issuer, subject)!;
    }
    recordSignInSuccess(ctx.db, user.id, now);
    appendAuditEvents(
      ctx.db,
      [
        {
          kind: "access",
          action: "signin.succeeded",
          actor: user.email,
          outcome: "granted",
          reason: `signed in through the IdP as ${role}`,
          detail,
        },
      ],
      now,
    );
    return { ok: true, user: { id: user.id, email: user.email, role, sessionVersion: user.sessionVersion } };
  });
}
