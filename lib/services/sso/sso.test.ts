import { describe, expect, it } from "vitest";
import { readEnv } from "../../env";
import { owner, testContext } from "../test-context";
import { addUser } from "../users/add-user";
import { resolveDashboardSession } from "../users/resolve-dashboard-session";
import { getSignInOptions } from "./get-sign-in-options";
import { getOidcConfig } from "./oidc-config";
import { setPasswordSignIn } from "./set-password-sign-in";
import { ssoSignIn } from "./sso-sign-in";
import { describeOidcSettings, updateOidcSettings } from "./update-oidc-settings";

const ISSUER = "https://idp.example.com";
const mapping = { roleClaim: "groups", ownerGroups: ["gh-owners"], auditorGroups: ["gh-auditors"] };
const claims = (sub: string, groups: string[], email = `${sub}@example.com`) => ({ iss: ISSUER, sub, email, groups });

function events(ctx: ReturnType<typeof testContext>) {
  return ctx.db.$client.prepare("SELECT kind, action, actor, outcome, reason, detail FROM audit_events ORDER BY seq").all() as {
    kind: string;
    action: string;
    actor: string;
    detail: string | null;
  }[];
}

describe("ssoSignIn", () => {
  it("creates the user with the mapped role, re-maps it, and refuses and removes someone no group covers", () => {
    const ctx = testContext();
    const first = ssoSignIn({ ctx, input: { mapping, issuer: ISSUER, claims: claims("alice", ["gh-owners"]) } });
    expect(first).toMatchObject({ ok: true, user: { email: "alice@example.com", role: "owner" } });
    if (!first.ok) throw new Error();
    const claimsOf = { sub: first.user.id, sv: first.user.sessionVersion, authTime: ctx.now() };
    expect(resolveDashboardSession({ ctx, claims: claimsOf })?.role).toBe("owner");

    const demoted = ssoSignIn({ ctx, input: { mapping, issuer: ISSUER, claims: claims("alice", ["gh-auditors"]) } });
    expect(demoted).toMatchObject({ ok: true, user: { id: first.user.id, role: "auditor" } });
    // The role change ends the sessions issued under the old role.
    expect(resolveDashboardSession({ ctx, claims: claimsOf })).toBeNull();

    expect(ssoSignIn({ ctx, input: { mapping, issuer: ISSUER, claims: claims("alice", ["staff"]) } })).toEqual({
      ok: false,
      reason: "no_role",
    });
    expect(ctx.db.$client.prepare("SELECT count(*) FROM users WHERE oidc_subject = 'alice'").pluck().get()).toBe(0);

    const log = events(ctx);
    expect(log.map((e) => e.action)).toEqual([
      "sso.user_created",
      "signin.succeeded",
      "sso.role_changed",
      "signin.succeeded",
      "signin.failed",
      "sso.user_removed",
    ]);
    for (const e of log) {
      expect(e.kind).toBe("access");
      expect(JSON.parse(e.detail!)).toMatchObject({ issuer: ISSUER, subject: "alice" });
    }
  });

  it("keys identities by issuer and subject, not email, and never takes over a local account", async () => {
    const ctx = testContext();
    await addUser({ ctx, actor: owner, input: { email: "bob@example.com", role: "auditor", password: "local-password-fake-1" } });
    expect(ssoSignIn({ ctx, input: { mapping, issuer: ISSUER, claims: claims("bob", ["gh-owners"]) } })).toEqual({
      ok: false,
      reason: "email_taken",
    });
    expect(ctx.db.$client.prepare("SELECT role FROM users WHERE email = 'bob@example.com'").pluck().get()).toBe("auditor");
    expect(ssoSignIn({ ctx, input: { mapping, issuer: ISSUER, claims: { iss: ISSUER, groups: ["gh-owners"] } } })).toEqual({
      ok: false,
      reason: "no_subject",
    });
  });
});

describe("OIDC settings and break-glass", () => {
  it("seals the client secret, never returns it, and lets passwords go off only once an SSO Owner exists", () => {
    const ctx = testContext();
    expect(() => setPasswordSignIn({ ctx, actor: owner, input: { enabled: false } })).toThrow(/Configure sign-in/);
    updateOidcSettings({
      ctx,
      actor: owner,
      input: {
        name: "Okta",
        issuer: ISSUER + "/",
        clientId: "gatehouse",
        clientSecret: "fake-client-secret-1",
        roleClaim: "",
        ownerGroups: "gh-owners",
        auditorGroups: "gh-auditors, x",
      },
    });
    const dump =
      JSON.stringify(ctx.db.$client.prepare("SELECT * FROM org_settings").all()) +
      JSON.stringify(ctx.db.$client.prepare("SELECT * FROM audit_events").all());
    expect(dump).not.toContain("fake-client-secret-1");
    const view = describeOidcSettings({ ctx, actor: owner });
    expect(view).toMatchObject({
      source: "settings",
      issuer: ISSUER,
      clientSecretSet: true,
      roleClaim: "groups",
      auditorGroups: ["gh-auditors", "x"],
    });
    expect(JSON.stringify(view)).not.toContain("fake-client-secret-1");
    expect(getOidcConfig(ctx)?.clientSecret.reveal()).toBe("fake-client-secret-1");
    expect(getSignInOptions({ ctx })).toEqual({ sso: { name: "Okta" }, password: true });

    expect(() => setPasswordSignIn({ ctx, actor: owner, input: { enabled: false } })).toThrow(/No Owner has signed in/);
    expect(ssoSignIn({ ctx, input: { mapping, issuer: ISSUER, claims: claims("carol", ["gh-owners"]) } }).ok).toBe(true);
    expect(setPasswordSignIn({ ctx, actor: owner, input: { enabled: false } })).toEqual({ changed: true });
    expect(getSignInOptions({ ctx }).password).toBe(false);
    expect(setPasswordSignIn({ ctx, actor: { type: "cli", role: "owner" }, input: { enabled: true } })).toEqual({ changed: true });
    expect(
      events(ctx)
        .filter((e) => e.action === "password_signin.changed")
        .map((e) => e.actor),
    ).toEqual(["system", "cli"]);
  });

  it("takes the IdP from the environment when GATEHOUSE_OIDC_ISSUER is set", () => {
    const ctx = testContext();
    const env = readEnv({
      GATEHOUSE_DATA_DIR: ctx.env.dataDir,
      GATEHOUSE_OIDC_ISSUER: "http://127.0.0.1:9/",
      GATEHOUSE_OIDC_CLIENT_ID: "c",
      GATEHOUSE_OIDC_CLIENT_SECRET: "fake-secret",
      GATEHOUSE_OIDC_OWNER_GROUPS: "a,b",
    } as unknown as NodeJS.ProcessEnv);
    const withEnv = { ...ctx, env };
    expect(getOidcConfig(withEnv)).toMatchObject({
      source: "env",
      issuer: "http://127.0.0.1:9",
      roleClaim: "groups",
      ownerGroups: ["a", "b"],
      auditorGroups: [],
    });
    expect(() => updateOidcSettings({ ctx: withEnv, actor: owner, input: {} })).toThrow(/environment/);
    expect(() =>
      readEnv({
        GATEHOUSE_OIDC_ISSUER: "http://idp.example.com",
        GATEHOUSE_OIDC_CLIENT_ID: "c",
        GATEHOUSE_OIDC_CLIENT_SECRET: "s",
        GATEHOUSE_OIDC_OWNER_GROUPS: "a",
      } as unknown as NodeJS.ProcessEnv),
    ).toThrow(/https/);
    expect(() => readEnv({ GATEHOUSE_OIDC_ISSUER: "https://idp.example.com" } as unknown as NodeJS.ProcessEnv)).toThrow(/CLIENT_ID/);
  });
});

describe("master key rotation", () => {
  it("re-seals the IdP's client secret with the rest", async () => {
    const { rotateMasterKey } = await import("../vault/rotate-master-key");
    const { Vault } = await import("../../vault");
    const ctx = testContext();
    updateOidcSettings({
      ctx,
      actor: owner,
      input: {
        name: "Okta",
        issuer: ISSUER,
        clientId: "gatehouse",
        clientSecret: "fake-client-secret-2",
        ownerGroups: "gh-owners",
        auditorGroups: "",
      },
    });
    const key = Buffer.alloc(32, 7);
    rotateMasterKey({ ctx, actor: owner, newKey: key });
    expect(getOidcConfig({ ...ctx, vault: new Vault(key) })?.clientSecret.reveal()).toBe("fake-client-secret-2");
  });
});
