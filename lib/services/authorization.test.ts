// Every service verb × every kind of caller, against a real SQLite database: who may call it is
// written here independently of lib/auth/permissions.ts, and a new export in lib/services that
// is neither in VERBS nor explained in NOT_VERBS fails the suite.
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Actor } from "../auth/permissions";
import { AppError } from "../errors";
import { createApiKey } from "./api-keys/create-api-key";
import { listApiKeys } from "./api-keys/list-api-keys";
import { revokeApiKey } from "./api-keys/revoke-api-key";
import { exportAudit } from "./audit/export-audit";
import { getOverview } from "./audit/overview";
import { getAuditEvent, searchAudit } from "./audit/search-audit";
import { verifyAudit } from "./audit/verify-audit";
import { listConnectionHealth } from "./credentials/credential-health";
import { getRetention, runRetention, setRetention, verifyArchive } from "./audit/retention";
import { addSink } from "./sinks/add-sink";
import { listSinks, sinkLagSummary } from "./sinks/list-sinks";
import { removeSink } from "./sinks/remove-sink";
import { testSink } from "./sinks/test-sink";
import { listCredentials } from "./credentials/list-credentials";
import { revokeCredential } from "./credentials/revoke-credential";
import { setCredential } from "./credentials/set-credential";
import { extendGrant } from "./grants/extend-grant";
import { grantHost } from "./grants/grant-host";
import { endReportOnly, setReportOnly } from "./grants/report-only";
import { revokeGrant } from "./grants/revoke-grant";
import { createBundle } from "./policy/create-bundle";
import { deleteBundle } from "./policy/delete-bundle";
import { deleteConnection } from "./policy/delete-connection";
import { addDomain, removeDomain, setChannels, setOrgDeny } from "./policy/edit-domains";
import { explainRequest } from "./policy/explain-request";
import { getPolicy } from "./policy/get-policy";
import { listChannels } from "./policy/list-channels";
import { previewPolicyImpact } from "./policy/preview-impact";
import { putPolicy } from "./policy/put-policy";
import { saveConnection } from "./policy/save-connection";
import { updateBundleScope } from "./policy/update-bundle-scope";
import { createSession } from "./sessions/create-session";
import { listSessions } from "./sessions/list-sessions";
import { revokeSession } from "./sessions/revoke-session";
import { getSessionSettings } from "./settings/get-session-settings";
import { updateMemberAccess } from "./settings/update-member-access";
import { updateSessionSettings } from "./settings/update-session-settings";
import { testContext, type TestContext } from "./test-context";
import { addUser } from "./users/add-user";
import { listUsers } from "./users/list-users";
import { removeUser } from "./users/remove-user";
import { setUserPassword } from "./users/set-user-password";
import { setUserRole } from "./users/set-user-role";
import { signOut } from "./users/sign-out";
import { unlockUser } from "./users/unlock-user";
import { rotateMasterKey } from "./vault/rotate-master-key";
import { setPasswordSignIn } from "./sso/set-password-sign-in";
import { describeOidcSettings, updateOidcSettings } from "./sso/update-oidc-settings";
import { beginTotpEnrolment, confirmTotpEnrolment } from "./totp/enrol-totp";
import { setTotpRequired } from "./totp/set-totp-required";

const ACTORS = {
  owner: { type: "user", id: "u-owner", email: "owner@example.com", role: "owner" },
  auditor: { type: "user", id: "u-auditor", email: "auditor@example.com", role: "auditor" },
  orchestrator: { type: "apikey", id: "k-orch", name: "orch", role: "orchestrator" },
  none: null,
} satisfies Record<string, Actor | null>;
type Kind = keyof typeof ACTORS;

const OWNER: Kind[] = ["owner"];
const READERS: Kind[] = ["owner", "auditor"];
const PEOPLE: Kind[] = ["owner", "auditor"];

type Call = (ctx: TestContext, actor: Actor | null) => unknown;
const bundleScope = { scopeType: "organization" } as const;

/** verb → [who may call it, a call with plausible input]. */
const VERBS: Record<string, [Kind[], Call]> = {
  createApiKey: [OWNER, (ctx, actor) => createApiKey({ ctx, actor, input: { name: "k", role: "auditor" } })],
  listApiKeys: [READERS, (ctx, actor) => listApiKeys({ ctx, actor })],
  revokeApiKey: [OWNER, (ctx, actor) => revokeApiKey({ ctx, actor, input: { id: "nope" } })],
  exportAudit: [READERS, (ctx, actor) => exportAudit({ ctx, actor, input: { format: "jsonl" } })],
  getOverview: [READERS, (ctx, actor) => getOverview({ ctx, actor })],
  searchAudit: [READERS, (ctx, actor) => searchAudit({ ctx, actor, input: {} })],
  getAuditEvent: [READERS, (ctx, actor) => getAuditEvent({ ctx, actor, id: "nope" })],
  verifyAudit: [READERS, (ctx, actor) => verifyAudit({ ctx, actor })],
  listConnectionHealth: [READERS, (ctx, actor) => listConnectionHealth({ ctx, actor })],
  listCredentials: [READERS, (ctx, actor) => listCredentials({ ctx, actor })],
  setCredential: [
    OWNER,
    (ctx, actor) => setCredential({ ctx, actor, input: { bundle: "b", connection: "c", secret: "fake-secret-value" } }),
  ],
  revokeCredential: [OWNER, (ctx, actor) => revokeCredential({ ctx, actor, input: { bundle: "b", connection: "c" } })],
  createBundle: [OWNER, (ctx, actor) => createBundle({ ctx, actor, input: { name: "b2", ...bundleScope } })],
  deleteBundle: [OWNER, (ctx, actor) => deleteBundle({ ctx, actor, input: { bundle: "nope" } })],
  deleteConnection: [OWNER, (ctx, actor) => deleteConnection({ ctx, actor, input: { bundle: "nope", connection: "c" } })],
  addDomain: [OWNER, (ctx, actor) => addDomain({ ctx, actor, input: { bundle: "nope", pattern: "a.example" } })],
  removeDomain: [OWNER, (ctx, actor) => removeDomain({ ctx, actor, input: { bundle: "nope", pattern: "a.example" } })],
  setOrgDeny: [OWNER, (ctx, actor) => setOrgDeny({ ctx, actor, input: { patterns: ["*.pastebin.example"] } })],
  setChannels: [OWNER, (ctx, actor) => setChannels({ ctx, actor, input: { channels: null } })],
  explainRequest: [
    READERS,
    (ctx, actor) =>
      explainRequest({ ctx, actor, input: { channel: { workspace: "T0", channel: "C0" }, method: "GET", url: "https://a.example/" } }),
  ],
  getPolicy: [READERS, (ctx, actor) => getPolicy({ ctx, actor })],
  listChannels: [READERS, (ctx, actor) => listChannels({ ctx, actor })],
  previewPolicyImpact: [
    OWNER,
    (ctx, actor) =>
      previewPolicyImpact({
        ctx,
        actor,
        draft: { version: 1, orgDeny: [], bundles: [], memberAccess: { mode: "anyone", roles: [], directMessages: "enabled" } },
      }),
  ],
  putPolicy: [OWNER, (ctx, actor) => putPolicy({ ctx, actor, input: { version: 1 }, dryRun: true })],
  saveConnection: [OWNER, (ctx, actor) => saveConnection({ ctx, actor, input: { bundle: "nope" } as never })],
  updateBundleScope: [OWNER, (ctx, actor) => updateBundleScope({ ctx, actor, input: { bundle: "nope", ...bundleScope } })],
  createSession: [
    ["owner", "orchestrator"],
    (ctx, actor) =>
      createSession({
        ctx,
        actor,
        input: { workspace: "T0", channel: "C0", thread: "1", kind: "channel", member: { id: "U0", orgMember: true, roles: [] } },
      }),
  ],
  listSessions: [READERS, (ctx, actor) => listSessions({ ctx, actor })],
  revokeSession: [["owner", "orchestrator"], (ctx, actor) => revokeSession({ ctx, actor, input: { id: "nope" } })],
  getSessionSettings: [READERS, (ctx, actor) => getSessionSettings({ ctx, actor })],
  updateMemberAccess: [
    OWNER,
    (ctx, actor) => updateMemberAccess({ ctx, actor, input: { mode: "anyone", roles: [], directMessages: "enabled" } }),
  ],
  updateSessionSettings: [
    OWNER,
    (ctx, actor) => updateSessionSettings({ ctx, actor, input: { idleTimeoutSeconds: 600, maxLifetimeSeconds: 3600 } }),
  ],
  rotateMasterKey: [OWNER, (ctx, actor) => rotateMasterKey({ ctx, actor, newKey: crypto.randomBytes(32) })],
  addUser: [
    OWNER,
    (ctx, actor) => addUser({ ctx, actor, input: { email: "new@example.com", role: "auditor", password: "new-password-fake-1" } }),
  ],
  listUsers: [READERS, (ctx, actor) => listUsers({ ctx, actor })],
  removeUser: [OWNER, (ctx, actor) => removeUser({ ctx, actor, input: { email: "victim@example.com" } })],
  setUserRole: [OWNER, (ctx, actor) => setUserRole({ ctx, actor, input: { email: "victim@example.com", role: "owner" } })],
  setUserPassword: [
    OWNER,
    (ctx, actor) => setUserPassword({ ctx, actor, input: { email: "victim@example.com", password: "changed-password-fake-1" } }),
  ],
  unlockUser: [OWNER, (ctx, actor) => unlockUser({ ctx, actor, input: { email: "victim@example.com" } })],
  signOut: [PEOPLE, (ctx, actor) => signOut({ ctx, actor })],
  setPasswordSignIn: [OWNER, (ctx, actor) => setPasswordSignIn({ ctx, actor, input: { enabled: true } })],
  describeOidcSettings: [OWNER, (ctx, actor) => describeOidcSettings({ ctx, actor })],
  updateOidcSettings: [
    OWNER,
    (ctx, actor) =>
      updateOidcSettings({
        ctx,
        actor,
        input: {
          name: "IdP",
          issuer: "https://idp.example.com",
          clientId: "c",
          clientSecret: "fake-client-secret",
          ownerGroups: "o",
          auditorGroups: "",
        },
      }),
  ],
  setTotpRequired: [OWNER, (ctx, actor) => setTotpRequired({ ctx, actor, input: { required: false } })],
  beginTotpEnrolment: [PEOPLE, (ctx, actor) => beginTotpEnrolment({ ctx, actor })],
  confirmTotpEnrolment: [PEOPLE, (ctx, actor) => confirmTotpEnrolment({ ctx, actor, input: { code: "000000" } })],
  grantHost: [
    OWNER,
    (ctx, actor) => grantHost({ ctx, actor, input: { target: { workspace: "T0", channel: "C0" }, pattern: "a.example", duration: "1h" } }),
  ],
  extendGrant: [
    OWNER,
    (ctx, actor) => extendGrant({ ctx, actor, input: { bundle: "nope", kind: "domain", name: "a.example", duration: "1d" } }),
  ],
  revokeGrant: [OWNER, (ctx, actor) => revokeGrant({ ctx, actor, input: { bundle: "nope", kind: "domain", name: "a.example" } })],
  setReportOnly: [OWNER, (ctx, actor) => setReportOnly({ ctx, actor, input: { workspace: "T0", duration: "1d" } })],
  endReportOnly: [OWNER, (ctx, actor) => endReportOnly({ ctx, actor, input: { workspace: "T0" } })],
  addSink: [OWNER, (ctx, actor) => addSink({ ctx, actor, input: { name: "siem", type: "otlp", url: "http://collector.example:4318" } })],
  listSinks: [OWNER, (ctx, actor) => listSinks({ ctx, actor })],
  removeSink: [OWNER, (ctx, actor) => removeSink({ ctx, actor, input: { sink: "nope" } })],
  testSink: [OWNER, (ctx, actor) => testSink({ ctx, actor, input: { sink: "nope" } })],
  sinkLagSummary: [READERS, (ctx, actor) => sinkLagSummary({ ctx, actor })],
  getRetention: [READERS, (ctx, actor) => getRetention({ ctx, actor })],
  setRetention: [OWNER, (ctx, actor) => setRetention({ ctx, actor, input: { days: 30 } })],
  runRetention: [OWNER, (ctx, actor) => runRetention({ ctx, actor })],
  verifyArchive: [READERS, (ctx, actor) => verifyArchive({ ctx, actor, dir: "/nonexistent-archive" })],
};

/** Exports of lib/services that are not actor-checked verbs, and why. */
const NOT_VERBS: Record<string, string> = {
  serviceContext: "builds the context",
  authorize: "the check itself",
  firstIssue: "error formatting",
  signIn: "public: the sign-in, throttled per account and source",
  failureDelayMs: "pure",
  resolveDashboardSession: "public: decides whether a session cookie still counts",
  userByEmail: "lookup helper called inside authorised verbs",
  completeSetup: "public: guarded by the one-time setup token",
  createSetupLink: "composition root only, when no user exists",
  setupTokenValid: "public: checks a setup token",
  setupDone: "public: whether any user exists, so the setup page can point to sign-in",
  denyEntryCovering: "pure: which org-wide deny entry covers a host pattern",
  draftOf: "runs an authorised verb in draft mode; the verb checks the actor",
  windowDaysInput: "pure",
  refuseDeniedEntries: "pure",
  authenticateApiKey: "public: turns a bearer key into an actor",
  getCaCertificate: "public: the CA certificate is public (GET /api/v1/ca.pem)",
  checkSecret: "pure validation",
  storeCredential: "called by authorised verbs with an actor already checked",
  scopeFromInput: "pure",
  connectionFromInput: "pure",
  validateDerived: "pure",
  validateOrThrow: "pure",
  applyPolicy: "called by authorised verbs inside their own check",
  findBundle: "pure",
  clone: "pure",
  listInput: "pure",
  parsePolicyText: "pure, bounded parser",
  countYamlEntries: "pure",
  jsonNestingDepth: "pure",
  csvCell: "pure",
  chunked: "pure",
  toAuditEvent: "pure",
  parseAuditQuery: "pure",
  toFilter: "pure",
  accessRefusal: "pure",
  auditWhere: "pure: builds an audit search filter",
  getSignInOptions: "public: what the sign-in page offers (names only)",
  groupsOf: "pure",
  mapRole: "pure",
  getOidcConfig: "the sign-in adapter's IdP config, for next-auth's per-request options",
  ssoSignIn: "public: runs after next-auth verified the IdP's ID token",
  checkSecondFactor: "public: the sign-in's second step, after the password was right",
  getTotpRequired: "a flag the Settings page shows to Owners",
  getTotpStatus: "the signed-in person's own status; takes a user actor",
  totpAad: "pure",
  verifyTotp: "pure",
  newRecoveryCodes: "pure",
  hashRecoveryCode: "pure",
  looksLikeRecoveryCode: "pure",
  expireGrants: "system work: the expiry sweep records what expired, by the policy clock",
  startExpirySweeper: "composition root only: schedules the expiry sweep",
  grantsBundleName: "pure",
  grantEnd: "pure",
  checkReportOnlyBounds: "pure validation, inside putPolicy's check",
  sinkLag: "no actor: for the metrics endpoint (sink names and counts only); verbs above wrap it",
  sinkSnapshot: "pure: a sink as its audit event shows it",
  archiveDir: "pure: where the archive goes",
  startAuditBackground: "composition root only: the stream sender and the scheduled retention run",
};

function outcome(err: unknown): "denied-unauthenticated" | "denied-forbidden" | "passed" {
  if (err instanceof AppError && err.code === "unauthenticated") return "denied-unauthenticated";
  if (err instanceof AppError && err.code === "forbidden") return "denied-forbidden";
  return "passed";
}

async function attempt(call: Call, ctx: TestContext, actor: Actor | null) {
  try {
    await call(ctx, actor);
    return "passed";
  } catch (err) {
    return outcome(err);
  }
}

describe("authorization table", () => {
  it("lists every function lib/services exports", async () => {
    const modules = import.meta.glob(["./**/*.ts", "!./**/*.test.ts", "!./test-context.ts"], { eager: true });
    const exported = Object.values(modules).flatMap((m) =>
      Object.entries(m as Record<string, unknown>)
        .filter(([, v]) => typeof v === "function")
        .map(([k]) => k),
    );
    const unlisted = [...new Set(exported)].filter((name) => !(name in VERBS) && !(name in NOT_VERBS) && !/^[A-Z]/.test(name));
    expect(unlisted, "add each to VERBS with who may call it, or to NOT_VERBS with why").toEqual([]);
  });

  for (const [verb, [allowed, call]] of Object.entries(VERBS)) {
    it(`${verb}: ${allowed.join(", ")} only`, async () => {
      const ctx = await testContext();
      await addUser({
        ctx,
        actor: { type: "system", role: "owner" },
        input: { email: "victim@example.com", role: "auditor", password: "victim-password-fake-1" },
      });
      // Refusals first, so an allowed call cannot change what the refused ones see.
      const kinds = (Object.keys(ACTORS) as Kind[]).sort((a, b) => Number(allowed.includes(a)) - Number(allowed.includes(b)));
      for (const kind of kinds) {
        const got = await attempt(call, ctx, ACTORS[kind]);
        const want = allowed.includes(kind) ? "passed" : kind === "none" ? "denied-unauthenticated" : "denied-forbidden";
        expect(got, `${verb} as ${kind}`).toBe(want);
      }
    });
  }
});
