import crypto from "node:crypto";
import { z } from "zod";
import { readPolicyDocument } from "../../../db/queries/policy";
import { insertSession, readSessionSettings } from "../../../db/queries/sessions";
import { readCa } from "../../../db/queries/settings";
import { writeTransaction } from "../../../db/tx";
import { appendAuditEvents } from "../../audit";
import { actorLabel, type Actor } from "../../auth/permissions";
import { newSecretToken, tokenHash } from "../../auth/tokens";
import { AppError, type ErrorCode } from "../../errors";
import { channelEnabled, type MemberAccessDoc } from "../../policy";
import { authorize } from "../authorize";
import type { ServiceContext } from "../context";
import { firstIssue } from "../validation";

const id = z
  .string()
  .trim()
  .min(1, "is required")
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, "is not a valid id");

export const CreateSessionInput = z
  .object({
    workspace: id,
    channel: id,
    thread: z.string().trim().min(1, "is required").max(128),
    kind: z.enum(["channel", "dm"]).default("channel"),
    member: z.object({ id, orgMember: z.boolean().default(false), roles: z.array(z.string().trim().min(1).max(64)).max(100).default([]) }),
  })
  .strict();
export type CreateSessionInput = z.infer<typeof CreateSessionInput>;

export type CreatedSession = {
  id: string;
  token: string;
  expiresAt: string;
  proxy: { httpProxy: string; route: string; caCertUrl: string };
  caCertPem?: string;
  env: Record<string, string>;
};

export const SANDBOX_CA_PATH = "/etc/gatehouse/ca.pem";

type Refusal = { code: Extract<ErrorCode, "member_not_allowed" | "dms_disabled" | "channel_not_enabled">; message: string };

/** Who may invoke the agent: pure, so every rule is a table test. */
export function accessRefusal(access: MemberAccessDoc, channelOk: boolean, input: CreateSessionInput): Refusal | null {
  if (input.kind === "dm" && access.directMessages === "disabled") {
    return {
      code: "dms_disabled",
      message:
        "Direct messages with the agent are disabled for this organization; invoke it in a channel, or ask an Owner to enable DMs on the Members page.",
    };
  }
  if (access.mode === "org_members" && !input.member.orgMember) {
    return {
      code: "member_not_allowed",
      message: `Member ${input.member.id} is not a member of the organization; only organization members may invoke the agent.`,
    };
  }
  if (access.mode === "roles" && !input.member.roles.some((r) => access.roles.includes(r))) {
    return {
      code: "member_not_allowed",
      message: `Member ${input.member.id} holds none of the roles allowed to invoke the agent (${access.roles.join(", ")}); ask an Owner for one of them.`,
    };
  }
  if (input.kind === "channel" && !channelOk) {
    return {
      code: "channel_not_enabled",
      message: `The agent is not enabled in channel ${input.channel} of ${input.workspace}; ask an Owner to add it on the Channels page.`,
    };
  }
  return null;
}

function proxyHostForClients(host: string): string {
  return host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
}

/**
 * Grants a session when the member may invoke the agent here. The token (256 random bits) is in
 * this response only; the database keeps its SHA-256. Grants and refusals are audit events.
 */
export function createSession({ ctx, actor, input }: { ctx: ServiceContext; actor: Actor | null; input: unknown }): CreatedSession {
  authorize(actor, "session.create");
  const parsed = CreateSessionInput.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const req = parsed.data;
  const now = ctx.now();
  const token = newSecretToken("gs");
  const sessionId = `ses_${crypto.randomBytes(12).toString("base64url")}`;
  const base = {
    kind: "access" as const,
    actor: actorLabel(actor),
    workspace: req.workspace,
    channel: req.channel,
    thread: req.thread,
    member: req.member.id,
  };

  const outcome = writeTransaction(ctx.db, () => {
    const doc = readPolicyDocument(ctx.db);
    const refusal = accessRefusal(doc.memberAccess, channelEnabled(doc, req.workspace, req.channel), req);
    if (refusal) {
      appendAuditEvents(
        ctx.db,
        [
          {
            ...base,
            action: "session.refused",
            outcome: "refused",
            rule: refusal.code,
            reason: refusal.message,
            detail: { kind: req.kind, orgMember: req.member.orgMember, roles: req.member.roles },
          },
        ],
        now,
      );
      return { refusal };
    }
    const settings = readSessionSettings(ctx.db);
    const expiresAt = now + settings.maxLifetimeSeconds * 1000;
    insertSession(ctx.db, {
      id: sessionId,
      tokenHash: tokenHash(token),
      workspace: req.workspace,
      channel: req.channel,
      thread: req.thread,
      kind: req.kind,
      memberId: req.member.id,
      memberOrg: req.member.orgMember,
      memberRoles: req.member.roles,
      createdBy: actorLabel(actor),
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
      idleTimeoutSeconds: settings.idleTimeoutSeconds,
    });
    appendAuditEvents(
      ctx.db,
      [
        {
          ...base,
          action: "session.granted",
          outcome: "granted",
          sessionId,
          detail: {
            kind: req.kind,
            orgMember: req.member.orgMember,
            roles: req.member.roles,
            idleTimeoutSeconds: settings.idleTimeoutSeconds,
            expiresAt,
          },
        },
      ],
      now,
    );
    return { expiresAt, caCertPem: readCa(ctx.db).certPem ?? undefined };
  });
  if ("refusal" in outcome && outcome.refusal) throw new AppError(outcome.refusal.code, outcome.refusal.message);
  const { expiresAt, caCertPem } = outcome as { expiresAt: number; caCertPem?: string };

  const httpProxy = `http://session:${token}@${proxyHostForClients(ctx.env.proxyHost)}:${ctx.env.proxyPort}`;
  const env: Record<string, string> = {
    HTTP_PROXY: httpProxy,
    HTTPS_PROXY: httpProxy,
    http_proxy: httpProxy,
    https_proxy: httpProxy,
    NO_PROXY: "",
    no_proxy: "",
  };
  if (caCertPem)
    Object.assign(env, {
      NODE_EXTRA_CA_CERTS: SANDBOX_CA_PATH,
      SSL_CERT_FILE: SANDBOX_CA_PATH,
      REQUESTS_CA_BUNDLE: SANDBOX_CA_PATH,
      GIT_SSL_CAINFO: SANDBOX_CA_PATH,
      CURL_CA_BUNDLE: SANDBOX_CA_PATH,
    });
  return {
    id: sessionId,
    token,
    expiresAt: new Date(expiresAt).toISOString(),
    proxy: { httpProxy, route: `${ctx.env.publicUrl}/proxy`, caCertUrl: `${ctx.env.publicUrl}/api/v1/ca.pem` },
    ...(caCertPem ? { caCertPem } : {}),
    env,
  };
}
