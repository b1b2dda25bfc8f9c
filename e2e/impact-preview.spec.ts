// Impact preview (#20): real traffic through the proxy first, then a policy change previewed in
// each dashboard form, the dry-run API and the CLI: the transition, an example, its Audit link,
// and nothing saved until the Owner confirms.
import fs from "node:fs";
import https from "node:https";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { api, cli, readDb, SignInPage, state, unique, updatePolicy } from "./fixtures/app";
import { sandboxWith, type Sandbox } from "./fixtures/sandbox";

let upstream: https.Server;
let port = 0;

test.beforeAll(async () => {
  upstream = https.createServer(
    {
      cert: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.pem")),
      key: fs.readFileSync(path.join(state.upstreamCertDir, "leaf.key")),
    },
    (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    },
  );
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  port = (upstream.address() as net.AddressInfo).port;
});

test.afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

const SECRET = "fake-impact-secret-0123456789";

/**
 * A workspace of its own (so only its traffic changes) with one Domains entry and one
 * connection, and requests through the real proxy: allowlisted (a blind tunnel: logged as its
 * CONNECT), credentialed (intercepted: logged per request) and blocked (at the CONNECT).
 */
async function withTraffic(): Promise<Sandbox & { registry: string; apiHost: string; other: string }> {
  const registry = `registry.gh.test:${port}`;
  const apiHost = `api.gh.test:${port}`;
  const other = `other.gh.test:${port}`;
  const sb = await sandboxWith(
    () => ({
      domains: [registry],
      connections: [{ name: "svc", serviceAccount: "bot@acme.example", inject: { type: "bearer" }, allowedWebsites: [apiHost] }],
    }),
    { svc: SECRET },
  );
  expect((await sb.curl([`https://${registry}/pkg/left-pad`])).status).toBe(200);
  expect((await sb.curl([`https://${registry}/pkg/left-pad`])).status).toBe(200);
  const cred = await sb.curl([`https://${apiHost}/repos/acme`]);
  expect(cred.headers["x-gatehouse-outcome"]).toBe("credentialed");
  // Refused at the CONNECT: curl reports the proxy's 403 as a failed tunnel.
  const blocked = await sb.curl([`https://${other}/blocked-path`]);
  expect(blocked.stderr).toMatch(/CONNECT.*403/);
  return { ...sb, registry, apiHost, other };
}

async function signIn(page: Page) {
  await new SignInPage(page).signInOk(state.owner.email, state.owner.password);
}

const policyRevision = () => readDb((db) => db.prepare("SELECT policy_revision FROM org_settings").pluck().get() as number);

test("PUT /policy?dryRun=1 returns the replayed impact and changes nothing", async () => {
  const sb = await withTraffic();
  const owner = api(sb.ownerKey);
  const before = (await owner.get("/policy")).json;
  const draft = structuredClone(before);
  const mine = draft.bundles.find((b: { name: string }) => b.name === sb.bundle);
  mine.domains = [];
  mine.connections = [];
  const revision = policyRevision();
  const r = await owner.put("/policy?dryRun=1&windowDays=2", draft);
  expect(r.status, r.text).toBe(200);
  expect(r.json).toMatchObject({ dryRun: true, applied: false, impact: { window: { days: 2 } } });
  const t = (from: string, to: string) =>
    r.json.impact.transitions.find((x: { from: string; to: string }) => x.from === from && x.to === to);
  const toBlocked = t("allowlisted", "blocked");
  expect(toBlocked.events).toBeGreaterThanOrEqual(2);
  const example = toBlocked.examples.find((e: { url: string }) => e.url === sb.registry);
  expect(example).toMatchObject({
    method: "CONNECT",
    count: 2,
    before: { outcome: "allowlisted" },
    after: { outcome: "blocked", rule: "default:block" },
  });
  expect(example.auditUrl).toContain(`host=registry.gh.test`);
  const credExample = t("credentialed", "blocked").examples.find((e: { url: string }) => e.url === `https://${sb.apiHost}/repos/acme`);
  expect(credExample.before.connection).toBe(`${sb.bundle}/svc`);
  // Nothing applied; the secret appears nowhere in the answer.
  expect(policyRevision()).toBe(revision);
  expect((await owner.get("/policy")).json).toEqual(before);
  expect(r.text).not.toContain(SECRET);
  expect((await owner.put("/policy?dryRun=1&windowDays=0", draft)).status).toBe(400);
});

test("policy import --dry-run prints the transitions with examples and Audit links", async () => {
  const sb = await withTraffic();
  const doc = (await api(sb.ownerKey).get("/policy")).json;
  doc.bundles.find((b: { name: string }) => b.name === sb.bundle).domains.push(sb.other);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gh-impact-")), "policy.json");
  fs.writeFileSync(file, JSON.stringify(doc));
  const revision = policyRevision();
  const text = cli(["policy", "import", file, "--dry-run"]);
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).toContain("blocked → allowlisted");
  expect(text.stdout).toContain(`CONNECT ${sb.other}`);
  expect(text.stdout).toMatch(/audit: \/audit\?kind=egress&host=other\.gh\.test/);
  expect(text.stderr).toContain("dry run: nothing was changed");
  const json = cli(["policy", "import", file, "--dry-run", "--json", "--window-days", "1"]);
  expect(json.code, json.stderr).toBe(0);
  const parsed = JSON.parse(json.stdout);
  expect(parsed.impact.window.days).toBe(1);
  expect(
    parsed.impact.transitions
      .find((x: { from: string }) => x.from === "blocked")
      .examples.some((e: { url: string }) => e.url.includes(sb.other)),
  ).toBe(true);
  expect(policyRevision()).toBe(revision);
  expect(cli(["policy", "import", file, "--window-days", "3"]).code).toBe(2);
});

test("Domains: Remove previews allowlisted → blocked with an Audit link; Cancel keeps it", async ({ page }) => {
  const sb = await withTraffic();
  await signIn(page);
  await page.goto(`${state.baseURL}/bundles/${sb.bundle}?tab=domains`);
  await page.getByRole("button", { name: `Remove ${sb.registry}` }).click();
  const confirm = page.getByRole("group", { name: new RegExp(`Remove ${sb.registry.replace(/\./g, "\\.")}`) });
  const transition = confirm.getByTestId("impact-allowlisted-blocked");
  await expect(transition).toContainText("2 events");
  await expect(transition).toContainText(`CONNECT ${sb.registry}`);
  const revision = policyRevision();
  // Keyboard: Escape closes the confirm step and nothing changed.
  await confirm.press("Escape");
  await expect(page.getByRole("button", { name: `Remove ${sb.registry}` })).toBeFocused();
  expect(policyRevision()).toBe(revision);
  await page.getByRole("button", { name: `Remove ${sb.registry}` }).click();
  const link = page
    .getByTestId("impact-allowlisted-blocked")
    .getByRole("link", { name: `Audit events of CONNECT ${sb.registry} in C0SANDBOX` });
  await link.click();
  await expect(page).toHaveURL(/\/audit\?.*host=registry\.gh\.test/);
  await expect(page.locator("main")).toContainText(`CONNECT https://${sb.registry}`);
});

test("Domains: adding a host previews blocked → allowlisted; a deny-overridden host needs an explicit confirm", async ({ page }) => {
  const sb = await withTraffic();
  const zone = `${unique("deny")}.example`;
  await updatePolicy(sb.ownerKey, (d) => d.orgDeny.push(`*.${zone}`));
  await signIn(page);
  await page.goto(`${state.baseURL}/bundles/${sb.bundle}?tab=domains`);
  const form = page.getByRole("form", { name: "Add domain" });
  await form.locator("input[name=pattern]").fill(sb.other);
  await expect(form.getByTestId("impact-blocked-allowlisted")).toContainText(`CONNECT ${sb.other}`);
  await form.getByRole("button", { name: "Add domain" }).click();
  await expect(form.getByText("Domain added.")).toBeVisible();
  await expect(page.getByRole("region", { name: "Domains" })).toContainText(sb.other);

  await form.locator("input[name=pattern]").fill(`api.${zone}`);
  await expect(form.getByTestId("impact-denied")).toContainText(`the org-wide deny list entry *.${zone} blocks it`);
  await form.getByRole("button", { name: "Add domain" }).click();
  await expect(form.locator("[data-field-error=pattern]")).toContainText("changes nothing");
  await form.getByLabel(/Add it anyway/).check();
  await form.getByRole("button", { name: "Add domain" }).click();
  await expect(form.getByText("Domain added.")).toBeVisible();
  await expect(page.getByRole("region", { name: "Domains" })).toContainText(`api.${zone}`);
});

test("Connection: the edit form previews credentialed → allowlisted for a tighter narrowing; Delete previews credentialed → blocked", async ({
  page,
}) => {
  const sb = await withTraffic();
  await signIn(page);
  await page.goto(`${state.baseURL}/bundles/${sb.bundle}/connections/svc`);
  const form = page.getByRole("form", { name: "Connection" });
  await form.getByLabel("Only under path prefix").fill("/repos/other");
  await expect(form.getByTestId("impact-credentialed-allowlisted")).toContainText(`GET https://${sb.apiHost}/repos/acme`);

  await page.goto(`${state.baseURL}/bundles/${sb.bundle}?tab=connections`);
  await page.getByRole("button", { name: "Delete connection svc" }).click();
  const confirm = page.getByRole("group", { name: /Delete connection svc/ });
  await expect(confirm.getByTestId("impact-credentialed-blocked")).toContainText(`https://${sb.apiHost}/repos/acme`);
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("credential-svc")).toContainText("set by");
});

test("Scope, create bundle, delete bundle and the deny list each preview before saving", async ({ page }) => {
  const sb = await withTraffic();
  await signIn(page);
  // Scope: moving the bundle to other channels blocks what it allowed here.
  await page.goto(`${state.baseURL}/bundles/${sb.bundle}?tab=scope`);
  const scope = page.getByRole("form", { name: "Bundle scope" });
  await scope.getByRole("button", { name: "Preview impact" }).click();
  await expect(scope.getByTestId("impact-summary")).toContainText("No request");
  await scope.getByLabel("Workspace ID").fill("T0ELSEWHERE");
  await expect(scope.getByTestId("impact-allowlisted-blocked")).toContainText(sb.registry);

  // Delete bundle: the confirm step shows the impact.
  await page.getByRole("button", { name: "Delete bundle" }).click();
  const confirm = page.getByRole("group", { name: /Delete bundle/ });
  await expect(confirm.getByTestId("impact-credentialed-blocked")).toContainText(sb.apiHost);
  await confirm.getByRole("button", { name: "Cancel" }).click();

  // Deny list: denying the registry blocks its requests.
  await page.goto(`${state.baseURL}/bundles`);
  const deny = page.getByRole("form", { name: "Org-wide deny list" });
  const box = deny.locator("textarea[name=orgDeny]");
  await box.fill(`${await box.inputValue()}\n${sb.registry}`.trim());
  await expect(deny.getByTestId("impact-allowlisted-blocked")).toContainText(`CONNECT ${sb.registry}`);

  // Create bundle: a new workspace bundle allowing nothing yet changes nothing.
  const create = page.getByRole("form", { name: "Create bundle" });
  await create.getByLabel("Bundle name").fill(unique("new"));
  await expect(create.getByTestId("impact-summary")).toContainText("No request");
});
